// Slow path, tests only: EAL for unit tests, simulations, fuzzers and benchmarks that need
// DPDK memory (mbufs, rte_hash, rte_lpm, RCU): no hugepages, no devices, one lcore, and a
// file prefix of the process's own so binaries can run side by side. StopTestEal() removes
// the runtime directory EAL leaves behind.
#pragma once

#include <rte_eal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace sluice::testing {

inline std::string& TestEalRuntimeDir() {
  static std::string dir;
  return dir;
}

inline bool StartTestEal(const char* prefix_base, const char* memory_mb = "256") {
  const std::string prefix =
      std::string("--file-prefix=") + prefix_base + "-" + std::to_string(getpid());
  const char* argv[] = {"sluice-test",
                        "--no-huge",
                        "-m",
                        memory_mb,
                        "--no-pci",
                        "-l",
                        "0",
                        prefix.c_str(),
                        "--log-level=lib.eal:error",
                        "--no-telemetry"};
  if (rte_eal_init(sizeof argv / sizeof argv[0], const_cast<char**>(argv)) < 0) return false;
  TestEalRuntimeDir() = rte_eal_get_runtime_dir();
  return true;
}

inline void StopTestEal() {
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(TestEalRuntimeDir(), ec);
}

}  // namespace sluice::testing
