// The owner function runs on every received frame: its cost per frame.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "dataplane/net/flow.h"

namespace {

void BM_OwnerOfFrameIpv4(benchmark::State& state) {
  sluice::net::FlowSteering s(static_cast<uint16_t>(state.range(0)), 32768, 60999);
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t i = 0; i < 256; ++i) {
    std::vector<uint8_t> f(64, 0);
    f[12] = 0x08;
    f[14] = 0x45;
    f[14 + 9] = 6;
    const uint32_t src = __builtin_bswap32(0x0a000000u + i * 977u);
    std::memcpy(&f[14 + 12], &src, 4);
    f[14 + 22] = 0;
    f[14 + 23] = 80;
    frames.push_back(f);
  }
  size_t i = 0;
  for (auto _ : state) {
    const auto& f = frames[i++ & 255];
    benchmark::DoNotOptimize(s.OwnerOfFrame(f.data(), static_cast<uint32_t>(f.size())));
  }
}
BENCHMARK(BM_OwnerOfFrameIpv4)->Arg(2)->Arg(8);

void BM_OwnerOfFrameIpv6(benchmark::State& state) {
  sluice::net::FlowSteering s(2, 32768, 60999);
  std::vector<uint8_t> f(14 + 40 + 20, 0);
  f[12] = 0x86;
  f[13] = 0xdd;
  f[14] = 0x60;
  f[14 + 6] = 6;
  for (int k = 0; k < 16; ++k) f[14 + 8 + k] = static_cast<uint8_t>(k * 17);
  for (auto _ : state) {
    f[14 + 23]++;
    benchmark::DoNotOptimize(s.OwnerOfFrame(f.data(), static_cast<uint32_t>(f.size())));
  }
}
BENCHMARK(BM_OwnerOfFrameIpv6);

}  // namespace

BENCHMARK_MAIN();
