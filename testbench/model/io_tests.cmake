# tests of octet::model_io (parsers, energy table, report writers, shipped topologies) and of
# octet-sim's command-line checks (octet_sim_cli) -- all plain C++, no SystemC.
octet_add_test(test_model_io LABEL unit
  SOURCES test_topology.cpp test_scalesim_cfg.cpp test_energy_table.cpp test_report_writers.cpp
          test_shipped_topologies.cpp test_sim_cli.cpp
  LIBS octet::model_io octet_sim_cli octet::golden)
target_compile_definitions(test_model_io PRIVATE OCTET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# The octet-sim program itself needs the SystemC model (tools/CMakeLists.txt builds it only
# when octet_model exists): bad input is one line naming file, line and field, exit status 2,
# and no report is written; the embedded default runs and writes its reports.
if(TARGET octet-sim)
  set(_out ${CMAKE_CURRENT_BINARY_DIR}/octet_sim_cli_test)
  add_test(NAME octet_sim_bad_topology_exits_2
           COMMAND sh -c "mkdir -p ${_out} && rm -f ${_out}/bad.json && $<TARGET_FILE:octet-sim> --topology /dev/null --json ${_out}/bad.json 2>&1; echo rc=$?; ls ${_out}/bad.json* 2>/dev/null")
  set_tests_properties(octet_sim_bad_topology_exits_2 PROPERTIES LABELS unit
                       PASS_REGULAR_EXPRESSION "^octet-sim: error: /dev/null:0: field 'Layer name': no layer rows after the header\nrc=2\n$")
  add_test(NAME octet_sim_bad_option_exits_2
           COMMAND sh -c "$<TARGET_FILE:octet-sim> --array 16by16 2>&1; echo rc=$?")
  set_tests_properties(octet_sim_bad_option_exits_2 PROPERTIES LABELS unit
                       PASS_REGULAR_EXPRESSION "^octet-sim: error: --array: field 'array': '16by16' is not ROWSxCOLS[^\n]*\nrc=2\n$")
  add_test(NAME octet_sim_default_writes_reports
           COMMAND sh -c "mkdir -p ${_out} && rm -f ${_out}/d.json ${_out}/d.csv && $<TARGET_FILE:octet-sim> --quiet --json ${_out}/d.json --csv ${_out}/d.csv && grep -c octet-sim-report ${_out}/d.json && head -1 ${_out}/d.csv")
  set_tests_properties(octet_sim_default_writes_reports PROPERTIES LABELS unit
                       PASS_REGULAR_EXPRESSION "^1\nlayer,kind,pass,macs,[^\n]*,energy_systolic_array_pj,[^\n]*,energy_optimizer_unit_pj,energy_vector_unit_pj,")
  # --trace: a bad path is refused before the run (one line, exit 2, nothing written); a good
  # one gets the step as trace-event JSON (its structure: test_model_trace).
  add_test(NAME octet_sim_bad_trace_path_exits_2
           COMMAND sh -c "mkdir -p ${_out} && rm -f ${_out}/t.json && $<TARGET_FILE:octet-sim> --quiet --json ${_out}/t.json --trace ${_out}/no_such_dir/t.trace.json 2>&1; echo rc=$?; ls ${_out}/t.json* ${_out}/no_such_dir 2>/dev/null")
  set_tests_properties(octet_sim_bad_trace_path_exits_2 PROPERTIES LABELS unit
                       PASS_REGULAR_EXPRESSION "^octet-sim: error: [^\n]*/no_such_dir/t.trace.json: field '--trace': cannot write here: No such file or directory\nrc=2\n$")
  add_test(NAME octet_sim_writes_trace
           COMMAND sh -c "mkdir -p ${_out} && rm -f ${_out}/step.trace.json && $<TARGET_FILE:octet-sim> --quiet --trace ${_out}/step.trace.json && grep -c '\"traceEvents\"' ${_out}/step.trace.json")
  set_tests_properties(octet_sim_writes_trace PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "^1\n$")
  # ~90 malformed or extreme inputs across octet-sim, octet-netinfo, octet-quantize and
  # octet-fp32-bench: exit 2, one line on stderr, nothing on stdout, no output file.
  add_test(NAME octet_cli_bad_inputs_exit_2
           COMMAND sh ${PROJECT_SOURCE_DIR}/testbench/cli/bad_inputs.sh $<TARGET_FILE_DIR:octet-sim>)
  set_tests_properties(octet_cli_bad_inputs_exit_2 PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "[0-9]+ passed, 0 failed")
  # --functional: the end-of-step state is checked against golden::IntNetwork and reported.
  add_test(NAME octet_sim_functional_matches_golden
           COMMAND sh -c "mkdir -p ${_out} && $<TARGET_FILE:octet-sim> --functional --batch 2 --array 4x4 --threads 1 >${_out}/functional.txt 2>/dev/null; echo rc=$?; grep ^functional: ${_out}/functional.txt")
  set_tests_properties(octet_sim_functional_matches_golden PROPERTIES LABELS unit
                       PASS_REGULAR_EXPRESSION "^rc=0\nfunctional: end-of-step weights, momenta and BN statistics bit-identical to the golden model \\(state digest [0-9a-f]+\\)\n$")
endif()
