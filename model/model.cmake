# octet::model (issue 6): the SystemC transaction-level model of the accelerator.
add_library(octet_model STATIC
  accelerator.cpp
  array_gemm.cpp
  compulsory_traffic.cpp
  controller.cpp
  golden_backends.cpp
  ledger.cpp
  lowering.cpp
  network_residency.cpp
  network_step.cpp
  network_step_backward.cpp
  scheduler.cpp
  simulate.cpp
  step_graph.cpp
  topology_step.cpp
  unit_module.cpp
  units.cpp
)
add_library(octet::model ALIAS octet_model)
target_include_directories(octet_model PUBLIC ${PROJECT_SOURCE_DIR})
# Debian's libsystemc exports only the C++17 API tag (shared notes, pitfall 1).
target_compile_definitions(octet_model PUBLIC SC_CPLUSPLUS=201703L)
# The energy table and step_report.h's accessors live in octet_model_io (io.cmake).
target_link_libraries(octet_model PUBLIC octet::golden octet_model_io PkgConfig::OCTET_SYSTEMC)
