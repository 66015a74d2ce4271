# octet::model (issue 6): the SystemC transaction-level model of the accelerator.
add_library(octet_model STATIC
  accelerator.cpp
  controller.cpp
  gemm_plan.cpp
  golden_backends.cpp
  ledger.cpp
  lowering.cpp
  simulate.cpp
  step_report.cpp
  unit_module.cpp
  units.cpp
)
add_library(octet::model ALIAS octet_model)
target_include_directories(octet_model PUBLIC ${PROJECT_SOURCE_DIR})
# Debian's libsystemc exports only the C++17 API tag (shared notes, pitfall 1).
target_compile_definitions(octet_model PUBLIC SC_CPLUSPLUS=201703L)
target_link_libraries(octet_model PUBLIC octet::golden PkgConfig::OCTET_SYSTEMC)
if(TARGET octet_model_io)
  target_link_libraries(octet_model PUBLIC octet_model_io)
else()
  # Until the model I/O library (io.cmake) is merged: energy_pj only.
  target_sources(octet_model PRIVATE energy_sum.cpp)
endif()
