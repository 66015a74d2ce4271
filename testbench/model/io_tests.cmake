# tests of octet::model_io (parsers, energy table, report writers, shipped topologies) and of
# octet-sim's command-line checks (octet_sim_cli) -- all plain C++, no SystemC.
octet_add_test(test_model_io LABEL unit
  SOURCES test_topology.cpp test_scalesim_cfg.cpp test_energy_table.cpp test_report_writers.cpp
          test_shipped_topologies.cpp test_sim_cli.cpp
  LIBS octet::model_io octet_sim_cli octet::golden)
target_compile_definitions(test_model_io PRIVATE OCTET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
