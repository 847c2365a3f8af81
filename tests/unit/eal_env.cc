// main() for unit tests and simulations that need DPDK memory: EAL once per binary.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/support/test_eal.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (!sluice::testing::StartTestEal("sl-unit")) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  sluice::testing::StopTestEal();
  return rc;
}
