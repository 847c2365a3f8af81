// RateMeter (controlplane/proxy/rates.h): events per second over the last second.
#include "controlplane/proxy/rates.h"

#include <gtest/gtest.h>

namespace sluice::cp {
namespace {

TEST(RateMeter, SteadyRateAndItsMaximum) {
  RateMeter m;
  uint64_t total = 0;
  for (uint64_t t = 0; t <= 3000; t += 100) {  // 50 events per 100 ms: 500/s
    m.Sample(total, t);
    total += 50;
  }
  EXPECT_EQ(m.rate(), 500u);
  EXPECT_EQ(m.max(), 500u);
  for (uint64_t t = 3100; t <= 5000; t += 100) m.Sample(total, t);  // quiet for two seconds
  EXPECT_EQ(m.rate(), 0u);
  EXPECT_EQ(m.max(), 500u);
}

TEST(RateMeter, BurstCountsForOneSecondOnly) {
  RateMeter m;
  m.Sample(0, 0);
  m.Sample(0, 100);
  m.Sample(30, 200);  // 30 at once
  EXPECT_EQ(m.rate(), 30u);
  for (uint64_t t = 300; t <= 1100; t += 100) m.Sample(30, t);
  EXPECT_EQ(m.rate(), 30u);  // the burst is still within the last second
  for (uint64_t t = 1200; t <= 1400; t += 100) m.Sample(30, t);
  EXPECT_EQ(m.rate(), 0u);
  EXPECT_EQ(m.max(), 30u);
}

}  // namespace
}  // namespace sluice::cp
