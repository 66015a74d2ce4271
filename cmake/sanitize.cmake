# -DOCTET_SANITIZE=ON (tools/sanitize.sh): our C++ -- golden, model, sim glue, tools, testbenches --
# built with AddressSanitizer and UndefinedBehaviorSanitizer; any undefined behaviour aborts the
# test. The Verilator-generated models and runtime are not instrumented (octet_no_sanitize):
# they are most of the compile time, are not our code, and link fine into instrumented programs.
# Code sees the macro OCTET_SANITIZE. -O1 -g1 keeps the reports readable and the compile short.
option(OCTET_SANITIZE "Build with -fsanitize=address,undefined (tools/sanitize.sh)" OFF)

if(OCTET_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(OCTET_SANITIZE)
endif()

# Compile <target> (a Verilator model library) without instrumentation and debug information.
function(octet_no_sanitize target)
  if(OCTET_SANITIZE)
    target_compile_options(${target} PRIVATE -fno-sanitize=all -g0)
  endif()
endfunction()
