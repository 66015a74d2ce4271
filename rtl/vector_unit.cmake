# Vector unit (docs/architecture.md "Vector unit"). One library, two models:
#  - Vvector_unit_l1: Lanes=1 (the default);
#  - Vvector_unit_l4: Lanes=4.
# Both are checked against the golden element by element (testbench/rtl/test_vector_unit.cpp).
# By hand:
#   verilator --lint-only -Wall rtl/octet_pkg.vlt build/generated/rtl/octet_params.sv rtl/octet_pkg.sv \
#     rtl/vu_elementwise.sv rtl/vu_pool.sv rtl/vector_unit.sv --top-module vector_unit
set(OCTET_VU_SOURCES
  ${OCTET_RTL_DIR}/vu_elementwise.sv
  ${OCTET_RTL_DIR}/vu_pool.sv
  ${OCTET_RTL_DIR}/vector_unit.sv)
foreach(lanes 1 4)
  octet_verilated_library(octet_rtl_vector_unit TOP vector_unit PREFIX Vvector_unit_l${lanes}
    SOURCES ${OCTET_VU_SOURCES}
    ARGS -GLanes=${lanes})
endforeach()
