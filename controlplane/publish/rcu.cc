#include "controlplane/publish/rcu.h"

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace sluice::publish {

namespace {
struct Retired {
  void* obj;
  void (*deleter)(void*);
};
}  // namespace

RcuDomain::~RcuDomain() { Close(); }

void RcuDomain::Close() {
  if (dq_) {
    // Readers have stopped by now (the owner joins them first): everything can go.
    while (pending() > 0 && Reclaim() > 0) {
    }
    for (const Overflow& o : overflow_) o.deleter(o.obj);
    freed_ += overflow_.size();
    overflow_.clear();
    rte_rcu_qsbr_dq_delete(dq_);
    dq_ = nullptr;
  }
  if (qsbr_) rte_free(qsbr_);
  qsbr_ = nullptr;
}

base::Result<bool> RcuDomain::Init(const std::string& name, uint32_t max_readers,
                                   uint32_t max_retired) {
  const size_t sz = rte_rcu_qsbr_get_memsize(max_readers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc(name.c_str(), sz, RTE_CACHE_LINE_SIZE));
  if (!qsbr_) return base::Error{"cannot allocate the RCU variable"};
  if (rte_rcu_qsbr_init(qsbr_, max_readers) != 0) return base::Error{"rte_rcu_qsbr_init failed"};
  max_readers_ = max_readers;
  rte_rcu_qsbr_dq_parameters p{};
  const std::string dq_name = name + "_dq";
  p.name = dq_name.c_str();
  p.flags = 0;  // one enqueuer and reclaimer: the control plane
  p.size = max_retired;
  p.esize = sizeof(Retired);
  p.trigger_reclaim_limit = 0;  // reclaim when we say
  p.max_reclaim_size = max_retired;
  p.free_fn = &RcuDomain::FreeRetired;
  p.p = this;
  p.v = qsbr_;
  dq_ = rte_rcu_qsbr_dq_create(&p);
  if (!dq_) {
    return base::Error{std::string("cannot create the RCU defer queue: ") +
                       rte_strerror(rte_errno)};
  }
  return true;
}

void RcuDomain::ReaderOnline(unsigned id) {
  rte_rcu_qsbr_thread_register(qsbr_, id);
  rte_rcu_qsbr_thread_online(qsbr_, id);
}

void RcuDomain::ReaderOffline(unsigned id) {
  rte_rcu_qsbr_thread_offline(qsbr_, id);
  rte_rcu_qsbr_thread_unregister(qsbr_, id);
}

void RcuDomain::FreeRetired(void* p, void* e, unsigned n) {
  auto* self = static_cast<RcuDomain*>(p);
  auto* items = static_cast<Retired*>(e);
  for (unsigned i = 0; i < n; ++i) items[i].deleter(items[i].obj);
  self->freed_ += n;
}

void RcuDomain::Retire(void* obj, void (*deleter)(void*)) {
  Retired r{obj, deleter};
  ++retired_;
  if (overflow_.empty() && rte_rcu_qsbr_dq_enqueue(dq_, &r) == 0) return;
  // Full (rte_rcu_qsbr_dq_enqueue has already reclaimed what it could): the object waits
  // in the overflow list for its own grace period.
  overflow_.push_back({obj, deleter, rte_rcu_qsbr_start(qsbr_)});
}

unsigned RcuDomain::Reclaim() {
  unsigned freed = 0, pending = 0, available = 0;
  rte_rcu_qsbr_dq_reclaim(dq_, UINT32_MAX, &freed, &pending, &available);
  // Tokens grow with time: stop at the first object still in its grace period.
  while (!overflow_.empty() && rte_rcu_qsbr_check(qsbr_, overflow_.front().token, false) == 1) {
    overflow_.front().deleter(overflow_.front().obj);
    overflow_.pop_front();
    ++freed_;
    ++freed;
  }
  return freed;
}

uint64_t RcuDomain::Start() { return rte_rcu_qsbr_start(qsbr_); }

bool RcuDomain::Done(uint64_t token) { return rte_rcu_qsbr_check(qsbr_, token, false) == 1; }

}  // namespace sluice::publish
