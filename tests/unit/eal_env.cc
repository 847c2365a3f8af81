// main() for unit tests that need DPDK memory (mbufs, rte_hash, rte_lpm): starts EAL once
// with no hugepages and no devices, under a file prefix of its own so binaries can run side
// by side.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  std::string prefix = "--file-prefix=sl-unit-" + std::to_string(getpid());
  const char* eal_argv[] = {"unit",
                            "--no-huge",
                            "-m",
                            "256",
                            "--no-pci",
                            "-l",
                            "0",
                            prefix.c_str(),
                            "--log-level=lib.eal:error",
                            "--no-telemetry"};
  if (rte_eal_init(sizeof eal_argv / sizeof eal_argv[0], const_cast<char**>(eal_argv)) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(runtime_dir, ec);
  return rc;
}
