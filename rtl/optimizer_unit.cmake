# Optimizer unit (docs/architecture.md "Optimizer unit"). One library, two models:
#  - Voptimizer_unit_l1: Lanes=1 (the default);
#  - Voptimizer_unit_l4: Lanes=4.
# Both are checked against the golden element by element (testbench/rtl/test_optimizer_unit.cpp).
# By hand:
#   verilator --lint-only -Wall -Ibuild/generated/rtl rtl/octet_pkg.vlt rtl/octet_pkg.sv rtl/optimizer_unit.sv \
#     --top-module optimizer_unit
foreach(lanes 1 4)
  octet_verilated_library(octet_rtl_optimizer_unit TOP optimizer_unit PREFIX Voptimizer_unit_l${lanes}
    SOURCES ${OCTET_RTL_DIR}/optimizer_unit.sv
    ARGS -GLanes=${lanes})
endforeach()
