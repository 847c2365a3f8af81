// Stick-table keys another worker owns (docs/stick-tables.md, DESIGN.md section 8,
// decision 0015): the messages on the workers' stick rings, the lookups a request waits for,
// the copies it tracks, and the changes sent to the owners.
#include <rte_ring.h>

#include <cstring>

#include "dataplane/proxy/proxy.h"
#include "dataplane/proxy/stick_data.h"
#include "dataplane/stick/owner.h"

namespace sluice::proxy {

using stick::Data;
using stick::Entry;
using stick::Shard;
using stick_data::AddLocal;
using stick_data::ConnCurDown;
using stick_data::KeyOf;
using stick_data::SetLocal;

// Keys another worker owns (docs/stick-tables.md, DESIGN.md section 8). The owner holds the
// entry and is the only one to write it; another worker holds a copy while its streams track
// the key, reads the copy, and sends each change to the owner as it makes it on the copy.

uint16_t Proxy::StickOwner(const Shard& sh, const uint8_t* key) const noexcept {
  if (!s_.stick_rings || !s_.steering) return s_.worker;
  return stick::OwnerOf(sh.def(), key, *s_.steering, s_.nworkers);
}

bool Proxy::StickSend(uint16_t worker, const stick::Msg& m) noexcept {
  void* obj = const_cast<stick::Msg*>(&m);
  if (rte_ring_mp_enqueue_elem(s_.stick_rings[worker], obj, sizeof m) != 0) {
    tcp_->counters().Inc(counters::Counter::stick_drop_ring_full);
    return false;
  }
  tcp_->counters().Inc(counters::Counter::stick_remote_msgs);
  return true;
}

void Proxy::Forward(const Shard& sh, Entry* e, stick::OpHow how, Data d, int64_t v,
                    uint32_t elem) noexcept {
  if (out_e_ != e || out_msg_.nops == stick::kMaxMsgOps) {
    FlushStick();
    out_msg_.kind = stick::MsgKind::kOps;
    out_msg_.from = static_cast<uint8_t>(s_.worker);
    out_msg_.table = e->table;
    out_msg_.nops = 0;
    out_msg_.tag = 0;
    std::memcpy(out_msg_.key, e->key(), sh.def().key_len);
    out_e_ = e;
    out_dst_ = StickOwner(sh, e->key());
  }
  out_msg_.ops[out_msg_.nops++] =
      stick::MsgOp{static_cast<uint8_t>(d), how, static_cast<uint8_t>(elem), v};
}

void Proxy::FlushStick() noexcept {
  if (!out_e_) return;
  if (out_msg_.nops) StickSend(out_dst_, out_msg_);
  out_e_ = nullptr;
}

void Proxy::Unhold(Shard& sh, Entry* e) noexcept {
  if (e->use) --e->use;
  if (!e->remote || e->use) return;
  if (out_e_ == e) FlushStick();  // its changes leave before the copy does
  sh.Remove(e);
}

void Proxy::ReleasePins(Stream& t) noexcept {
  for (uint32_t i = 0; i < t.npins; ++i) Unhold(shards_[t.pins[i]->table], t.pins[i]);
  t.npins = 0;
}

bool Proxy::StickAsk(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (t.stick_asked) return t.stick_wait > 0;
  t.stick_asked = true;
  if (!s_.stick_rings || s.frontend >= rules_->frontends.size()) return false;
  const rules::ProxyRules& fr = rules_->frontends[s.frontend];
  rules::Ctx c;  // no proxy view (nbsrv() and friends): keys are the request's
  MakeCtx(s, t.http, &c);
  // The key of `expr` in table `table`, asked of its owner when that is another worker.
  auto ask = [&](uint32_t table, const rules::Expr& expr) {
    if (table >= nshards_ || t.stick_wait + t.npins >= kMaxStickPins) return;
    Shard& sh = shards_[table];
    rules::Sample smp;
    stick::Msg m;
    arena_->Reset();
    std::memset(m.key, 0, sizeof m.key);
    if (!rules::Eval(expr, c, &smp) || !KeyOf(sh.def(), smp, c, m.key)) return;
    const uint16_t owner = StickOwner(sh, m.key);
    if (owner == s_.worker) return;
    m.kind = stick::MsgKind::kLookup;
    m.from = static_cast<uint8_t>(s_.worker);
    m.table = static_cast<uint16_t>(table);
    m.tag = s.uid;
    FlushStick();  // the changes this worker made before reach the owner first
    if (StickSend(owner, m)) ++t.stick_wait;
  };
  auto ask_rules = [&](const rules::Rule* list, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const rules::Rule& r = list[i];
      if (r.act == rules::Act::kTrackSc && !s.sc[r.status].e) ask(r.var, r.expr);
    }
  };
  ask_rules(fr.tcp_content.data(), fr.tcp_content.size());
  if (t.http) ask_rules(fr.http_req.data(), fr.http_req.size());
  // The default backend's `stick match` and `stick on` (a frontend that picks no other).
  const uint32_t be = cfg_->frontends[s.frontend].backend;
  if (fr.use_backend.empty() && be < rules_->backends.size()) {
    for (const rules::StickRule& r : rules_->backends[be].stick_req) {
      if (r.Matches()) ask(r.table, r.expr);
    }
  }
  if (t.stick_wait) tcp_->counters().Inc(counters::Counter::stick_remote_lookups);
  return t.stick_wait > 0;
}

void Proxy::StickServeLookup(const stick::Msg& m) noexcept {
  if (m.table >= nshards_ || m.from >= s_.nworkers) return;
  Shard& sh = shards_[m.table];
  stick::Msg r;
  r.kind = stick::MsgKind::kReply;
  r.from = static_cast<uint8_t>(s_.worker);
  r.table = m.table;
  r.tag = m.tag;
  std::memcpy(r.key, m.key, sizeof r.key);
  Entry* e = sh.Lookup(m.key);
  r.found = e && !e->pending && !e->remote;
  const uint32_t n = sh.def().data_bytes < stick::kMsgData ? sh.def().data_bytes : stick::kMsgData;
  if (r.found) std::memcpy(r.data, sh.DataBlock(e), n);
  StickSend(m.from, r);
}

void Proxy::StickAnswer(const stick::Msg& m) noexcept {
  if (m.table >= nshards_) return;
  const uint32_t si = SlotOf(m.tag);
  if (si == UINT32_MAX || !sessions_[si].strm.stick_wait) return;  // gone meanwhile
  Stream& t = sessions_[si].strm;
  Shard& sh = shards_[m.table];
  bool created = false;
  Entry* e = sh.Get(m.key, &created);
  if (e && created) sh.MarkRemote(e);
  if (e && e->remote) {
    // The owner's data now (a copy already here is refreshed: the owner has every change
    // this worker sent before it asked).
    const uint32_t n =
        sh.def().data_bytes < stick::kMsgData ? sh.def().data_bytes : stick::kMsgData;
    if (m.found) std::memcpy(sh.DataBlock(e), m.data, n);
    ++e->use;
    if (t.npins < kMaxStickPins) {
      t.pins[t.npins++] = e;
    } else {
      Unhold(sh, e);
    }
  }
  if (--t.stick_wait == 0) RunRequestAnalyzers(si);
}

void Proxy::StickApply(const stick::Msg& m) noexcept {
  if (m.table >= nshards_) return;
  Shard& sh = shards_[m.table];
  Entry* e = sh.Get(m.key);
  if (!e || e->remote) {
    tcp_->counters().Inc(counters::Counter::stick_drop_table_full);
    return;
  }
  const uint64_t now_ms = tcp_->now_us() / 1000;
  for (uint32_t i = 0; i < m.nops && i < stick::kMaxMsgOps; ++i) {
    const stick::MsgOp& op = m.ops[i];
    const auto d = static_cast<Data>(op.data);
    const bool stored =
        op.data < stick::kDataTypes && sh.def().Stores(d) && op.elem < sh.def().Elems(d);
    switch (op.how) {
      case stick::OpHow::kAdd:
        if (stored) AddLocal(sh, e, d, static_cast<uint64_t>(op.value), now_ms, op.elem);
        break;
      case stick::OpHow::kSet:
        if (stored) SetLocal(sh, e, d, op.value, now_ms, op.elem);
        break;
      case stick::OpHow::kConnCurDown:
        if (sh.def().Stores(Data::kConnCur)) ConnCurDown(sh, e);
        break;
      case stick::OpHow::kUse:
        ++e->use;
        break;
      case stick::OpHow::kUnuse:
        if (e->use) --e->use;
        break;
      case stick::OpHow::kRaw:
        if (stored) {
          const auto v = static_cast<uint32_t>(op.value);
          std::memcpy(sh.DataOf(e, d), &v, 4);
          e->pending = false;
        }
        break;
      case stick::OpHow::kTouch:
        break;
    }
  }
  sh.Touch(e, now_ms);
}

unsigned Proxy::PollStick() noexcept {
  constexpr unsigned kBurst = 16;
  stick::Msg msgs[kBurst];
  const unsigned n = rte_ring_sc_dequeue_burst_elem(s_.stick_rings[s_.worker], msgs,
                                                    sizeof(stick::Msg), kBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    switch (msgs[i].kind) {
      case stick::MsgKind::kOps:
        StickApply(msgs[i]);
        break;
      case stick::MsgKind::kLookup:
        StickServeLookup(msgs[i]);
        break;
      case stick::MsgKind::kReply:
        StickAnswer(msgs[i]);
        break;
    }
  }
  return n;
}

}  // namespace sluice::proxy
