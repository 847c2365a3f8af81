// Request/reply rings, control-plane side (controlplane/publish/requests.h), with the test
// playing the worker on real rte_rings: every request comes back answered, a caller that
// goes away leaves its request alive until the worker handed it back, the backlog behind a
// full ring drains in order, and a stuck worker's backlog is bounded.
#include <gtest/gtest.h>
#include <rte_ring.h>

#include <memory>
#include <vector>

#include "controlplane/publish/requests.h"

namespace sluice::publish {
namespace {

// Serves every request waiting on worker 0's ring: count = arg, one payload byte.
unsigned Serve(RequestHub& hub) {
  void* reqs[64];
  const unsigned n = rte_ring_dequeue_burst(hub.requests(0), reqs, 64, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    auto* r = static_cast<base::Request*>(reqs[i]);
    r->count = static_cast<uint32_t>(r->arg);
    if (r->capacity) {
      r->payload[0] = 0x5a;
      r->used = 1;
    }
    EXPECT_EQ(rte_ring_enqueue(hub.replies(0), r), 0);
  }
  return n;
}

TEST(RequestHub, EveryRequestComesBackWithItsOwnAnswer) {
  RequestHub hub;
  ASSERT_TRUE(hub.Init("rq_order", 1, 8).ok());
  std::vector<RequestHub::Ref> refs;
  for (uint64_t i = 1; i <= 20; ++i) refs.push_back(hub.Send(0, base::Op::kShowSessions, i, 0, 8));
  EXPECT_EQ(hub.in_flight(), 20u);
  unsigned served = 0;
  for (int round = 0; round < 10 && hub.in_flight() > 0; ++round) {
    served += Serve(hub);  // at most depth - 1 are on the ring at once
    hub.Poll();
  }
  EXPECT_EQ(served, 20u);
  EXPECT_EQ(hub.in_flight(), 0u);
  for (uint64_t i = 0; i < refs.size(); ++i) {
    EXPECT_TRUE(refs[i]->answered);
    EXPECT_EQ(refs[i]->req.count, i + 1);
    EXPECT_EQ(refs[i]->payload[0], 0x5a);
  }
  hub.Close();
}

TEST(RequestHub, ARequestOutlivesItsCaller) {
  RequestHub hub;
  ASSERT_TRUE(hub.Init("rq_outlive", 1, 8).ok());
  std::weak_ptr<RequestHub::Exchange> watch;
  {
    RequestHub::Ref ref = hub.Send(0, base::Op::kShowSessions, 1, 0, 64);
    watch = ref;
  }                               // the CLI client went away mid-dump
  EXPECT_FALSE(watch.expired());  // the worker may still write into its payload
  Serve(hub);
  hub.Poll();
  EXPECT_TRUE(watch.expired());  // handed back: freed
  hub.Close();
}

TEST(RequestHub, AStuckWorkersBacklogIsBounded) {
  RequestHub hub;
  ASSERT_TRUE(hub.Init("rq_bound", 1, 8).ok());
  std::vector<RequestHub::Ref> refs;
  const size_t n = 7 + RequestHub::kMaxBacklog + 5;  // the ring, the backlog, five more
  for (size_t i = 0; i < n; ++i) refs.push_back(hub.Send(0, base::Op::kShutdownSession, 1));
  size_t busy = 0;
  for (const auto& r : refs) {
    if (r->answered) {
      EXPECT_EQ(r->req.status, base::ReplyStatus::kBusy);
      ++busy;
    }
  }
  EXPECT_EQ(busy, 5u);
  EXPECT_EQ(hub.in_flight(), n - 5);
  hub.Close();  // the workers are gone: everything is freed
  EXPECT_EQ(hub.in_flight(), 0u);
}

}  // namespace
}  // namespace sluice::publish
