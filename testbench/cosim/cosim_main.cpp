// main of the co-simulation tests: libsystemc provides main() and calls sc_main, so GoogleTest
// runs from here (shared notes, pitfall 5). Each test runs in its own process under ctest.
#include <gtest/gtest.h>
#include <systemc>

#include <cstdlib>

int sc_main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // keep stdout parseable (test discovery)
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
