# Batch-norm unit (docs/architecture.md "Batch-norm unit"). One library, two models:
#  - Vbn_unit_l1: Lanes=1 (the default);
#  - Vbn_unit_l4: Lanes=4.
# Both are checked against the golden element by element (testbench/rtl/test_bn_unit.cpp).
# By hand:
#   verilator --lint-only -Wall -Ibuild/generated/rtl rtl/octet_pkg.vlt rtl/octet_pkg.sv rtl/bn_divider.sv \
#     rtl/bn_isqrt.sv rtl/bn_unit.sv --top-module bn_unit
set(OCTET_BN_SOURCES
  ${OCTET_RTL_DIR}/bn_divider.sv
  ${OCTET_RTL_DIR}/bn_isqrt.sv
  ${OCTET_RTL_DIR}/bn_unit.sv)
foreach(lanes 1 4)
  octet_verilated_library(octet_rtl_bn_unit TOP bn_unit PREFIX Vbn_unit_l${lanes}
    SOURCES ${OCTET_BN_SOURCES}
    ARGS -GLanes=${lanes})
endforeach()
