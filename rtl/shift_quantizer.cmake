# Shift-quantizer unit (issue 5). Two verilated configurations, each one library:
#  - octet_rtl_shift_quantizer_l4: 4 lanes of the 48-bit accumulator (AccW), the unit as built;
#  - octet_rtl_shift_quantizer_l1: 1 lane of 64 bits, the golden's full int64 input range.
# Both are checked against the golden element by element, so results cannot depend on Lanes.
# The package waiver rtl/octet_pkg.vlt must precede the sources; by hand:
#   verilator --lint-only -Wall -Ibuild/generated/rtl rtl/octet_pkg.vlt rtl/octet_pkg.sv rtl/round_log2.sv \
#     rtl/sq_stream_key.sv rtl/sq_addend.sv rtl/sq_lane.sv rtl/shift_quantizer.sv --top-module shift_quantizer
set(OCTET_SQ_SOURCES
  ${OCTET_RTL_DIR}/round_log2.sv
  ${OCTET_RTL_DIR}/sq_stream_key.sv
  ${OCTET_RTL_DIR}/sq_addend.sv
  ${OCTET_RTL_DIR}/sq_lane.sv
  ${OCTET_RTL_DIR}/shift_quantizer.sv)
set(OCTET_SQ_SOURCES ${OCTET_SQ_SOURCES} PARENT_SCOPE)  # sim/ verilates the same sources with --sc

octet_verilated_library(octet_rtl_shift_quantizer_l4 TOP shift_quantizer SOURCES ${OCTET_SQ_SOURCES}
  ARGS -GLanes=4 -GInW=${OCTET_AccW})
octet_verilated_library(octet_rtl_shift_quantizer_l1 TOP shift_quantizer SOURCES ${OCTET_SQ_SOURCES}
  ARGS -GLanes=1 -GInW=64)
