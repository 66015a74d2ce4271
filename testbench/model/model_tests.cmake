# tests of octet::model. libsystemc provides main() -> sc_main, so these executables link
# GTest::gtest (not gtest_main) and run the tests from sc_main (sc_gtest_main.cpp).
function(octet_add_model_test name)
  cmake_parse_arguments(T "" "LABEL" "SOURCES" ${ARGN})
  add_executable(${name} ${T_SOURCES} ${CMAKE_CURRENT_SOURCE_DIR}/sc_gtest_main.cpp)
  target_link_libraries(${name} PRIVATE octet::model GTest::gtest)
  target_compile_definitions(${name} PRIVATE OCTET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} PROPERTIES LABELS ${T_LABEL} DISCOVERY_TIMEOUT 60
                       ENVIRONMENT SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1)
endfunction()

octet_add_model_test(test_model_timing LABEL unit SOURCES test_model_timing.cpp model_test_util.cpp)
octet_add_model_test(test_gemm_plan LABEL unit SOURCES test_gemm_plan.cpp model_test_util.cpp)
octet_add_model_test(test_model_functional LABEL unit SOURCES test_model_functional.cpp model_test_util.cpp)
octet_add_model_test(test_model_resnet LABEL unit SOURCES test_model_resnet.cpp model_test_util.cpp)
octet_add_model_test(test_model_residency LABEL unit SOURCES test_model_residency.cpp model_test_util.cpp)
octet_add_model_test(test_model_trace LABEL unit SOURCES test_model_trace.cpp model_test_util.cpp)
octet_add_model_test(test_model_step_graph LABEL unit SOURCES test_model_step_graph.cpp)
octet_add_model_test(test_model_schedule LABEL unit SOURCES test_model_schedule.cpp model_test_util.cpp)
