// The shared parameters (params.def) as the RTL sees them: through octet_pkg, which the units
// use and which includes the generated octet_params.svh. test_rtl_params compares each output with the C++ constant of the same name.
module params_probe (
  output logic [31:0] acc_w_o,
  output logic [31:0] op_w_o,
  output logic [31:0] default_lr_q_o,
  output logic [31:0] default_gscale_log2_o,
  output logic [31:0] default_weight_decay_log2_o
);
  assign acc_w_o                     = 32'(octet_pkg::AccW);
  assign op_w_o                      = 32'(octet_pkg::OpW);
  assign default_lr_q_o              = 32'(octet_pkg::DefaultLrQ);
  assign default_gscale_log2_o       = 32'(octet_pkg::DefaultGScaleLog2);
  assign default_weight_decay_log2_o = 32'(octet_pkg::DefaultWeightDecayLog2);
endmodule
