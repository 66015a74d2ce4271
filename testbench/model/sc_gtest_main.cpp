// libsystemc owns main(); GoogleTest runs from sc_main. Each test may run several model
// simulations: the model elaborates its hierarchy once per process (model/accelerator.h).
#include <gtest/gtest.h>

#include <systemc>

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
