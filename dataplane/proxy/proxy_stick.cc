// Stick tables on the proxy (docs/stick-tables.md): the worker's shard of each table, the
// stick counters a session tracks (track-sc0..2), the counters each connection, request and
// response adds to them as HAProxy 2.6 adds them, the sc_* / src_* fetches, expiry, and the
// `show|set|clear table` requests of the control plane.
#include <rte_byteorder.h>

#include <cstring>
#include <new>

#include "dataplane/proxy/proxy.h"
#include "dataplane/proxy/stick_data.h"

namespace sluice::proxy {

using stick::Data;
using stick::Entry;
using stick::Shard;
using stick_data::AddLocal;
using stick_data::ConnCurDown;
using stick_data::KeyOf;
using stick_data::ReadDatum;
using stick_data::SetLocal;

namespace {

// Pool slots one `show table` slice looks at, at most.
constexpr uint64_t kStickScan = 16384;

// Whether entry `e` passes a `show table` key and filters (HAProxy's comparisons).
bool Wanted(const Shard& sh, Entry* e, const stick::StickClear& w, uint64_t now_ms) {
  if (w.has_key && std::memcmp(e->key(), w.key, sh.def().key_len) != 0) return false;
  for (uint32_t f = 0; f < w.nfilters && f < stick::kMaxFilters; ++f) {
    const auto d = static_cast<Data>(w.filters[f].data);
    if (w.filters[f].data >= stick::kDataTypes || !sh.def().Stores(d) ||
        !stick::Passes(w.filters[f], ReadDatum(sh, e, d, now_ms))) {
      return false;
    }
  }
  return true;
}

}  // namespace

// The sc_* and src_* fetches of the session the rules run for (`s` null: a connection not
// yet a session, whose counters are pending_sc_).
class Proxy::StickView final : public rules::StickAccess {
 public:
  explicit StickView(Proxy& p) : p_(p) {}
  Session* s = nullptr;

  bool Fetch(const rules::StickRef& r, rules::Ctx& c, rules::Sample* out) noexcept override {
    Session::StkCtr* sc = s ? s->sc : p_.pending_sc_;
    const uint64_t now_ms = p_.tcp_->now_us() / 1000;
    Entry* e = nullptr;
    int table = r.table;
    if (r.sc > 2) return false;  // sc_get_gpc(I,3): no such counter (HAProxy: no sample)
    if (r.sc >= 0) {
      const Session::StkCtr& k = sc[r.sc];
      if (r.op == rules::StickOp::kTracked) {
        *out = rules::Sample::Bool(k.e != nullptr);
        return true;
      }
      if (!k.e) return false;
      if (table < 0 || table == k.table) {
        e = k.e;
        table = k.table;
      } else if (static_cast<uint32_t>(table) < p_.nshards_) {
        e = p_.shards_[table].Lookup(k.e->key());  // the same key in another table
        if (!e) {
          *out = rules::Sample::Int(0);
          return true;
        }
      }
    } else {
      if (table < 0 || static_cast<uint32_t>(table) >= p_.nshards_) return false;
      Shard& sh = p_.shards_[table];
      alignas(8) uint8_t key[stick::kMaxKeyBytes];
      if (!KeyOf(sh.def(), rules::Sample::Ip(c.src, c.v6), c, key)) return false;
      // A key another worker owns is read from a copy held here, if any (not made here).
      const bool owned = p_.StickOwner(sh, key) == p_.s_.worker;
      e = r.op == rules::StickOp::kInc && owned ? sh.Get(key) : sh.Lookup(key);
      if (!e) {
        if (!stick::Resolve(sh.def(), static_cast<Data>(r.data), r.elem).ok) return false;
        *out = rules::Sample::Int(0);
        return true;
      }
    }
    if (static_cast<uint32_t>(table) >= p_.nshards_ || !e) return false;
    Shard& sh = p_.shards_[table];
    if (r.op == rules::StickOp::kTrackers) {
      *out = rules::Sample::Int(e->use);
      return true;
    }
    const stick::Slot at = stick::Resolve(sh.def(), static_cast<Data>(r.data), r.elem);
    if (!at.ok) {
      // sc_inc_gpc(I,N) of an element the table lacks is 0 (HAProxy 2.6.12).
      if (r.op != rules::StickOp::kInc || !stick::IsArray(static_cast<Data>(r.data))) {
        return false;
      }
      *out = rules::Sample::Int(0);
      return true;
    }
    int64_t v = ReadDatum(sh, e, at.d, now_ms, at.elem);
    if (r.op == rules::StickOp::kInc) {
      p_.IncGpc(sh, e, static_cast<Data>(r.data), r.elem, now_ms);
      v = ReadDatum(sh, e, at.d, now_ms, at.elem);
    } else if (r.op == rules::StickOp::kClr) {
      p_.SetDatum(sh, e, at.d, 0, now_ms, at.elem);
      sh.Touch(e, now_ms);
    }
    if (r.op == rules::StickOp::kKbytes) v >>= 10;
    *out = rules::Sample::Int(v);
    return true;
  }

  bool Convert(const rules::StickRef& r, rules::Sample& smp, rules::Ctx& c) noexcept override {
    if (r.table < 0 || static_cast<uint32_t>(r.table) >= p_.nshards_) return false;
    Shard& sh = p_.shards_[r.table];
    alignas(8) uint8_t key[stick::kMaxKeyBytes];
    if (!KeyOf(sh.def(), smp, c, key)) return false;
    Entry* e = sh.Lookup(key);
    if (e && e->pending) e = nullptr;
    if (r.op == rules::StickOp::kIn) {
      smp = rules::Sample::Bool(e != nullptr);
      return true;
    }
    if (r.op == rules::StickOp::kTrackers) {  // HAProxy's count includes its own lookup
      smp = rules::Sample::Int(e ? e->use + 1 : 0);
      return true;
    }
    const uint64_t now_ms = p_.tcp_->now_us() / 1000;
    if (r.op == rules::StickOp::kExpire || r.op == rules::StickOp::kIdle) {
      if (!e || !sh.def().expire_ms) return false;
      const uint64_t left = e->exp_ms > now_ms ? e->exp_ms - now_ms : 0;
      const uint64_t idle = sh.def().expire_ms > left ? sh.def().expire_ms - left : 0;
      smp = rules::Sample::Int(static_cast<int64_t>(r.op == rules::StickOp::kExpire ? left : idle));
      return true;
    }
    if (!e) {  // no entry: 0, whether the table stores the datum or not (HAProxy)
      smp = rules::Sample::Int(0);
      return true;
    }
    const stick::Slot at = stick::Resolve(sh.def(), static_cast<Data>(r.data), r.elem);
    if (!at.ok) return false;
    int64_t v = ReadDatum(sh, e, at.d, now_ms, at.elem);
    if (r.op == rules::StickOp::kKbytes) v >>= 10;
    smp = rules::Sample::Int(v);
    return true;
  }

 private:
  Proxy& p_;
};

bool Proxy::InitStick(const char* name, int socket_id) noexcept {
  stick_view_ = new (std::nothrow) StickView(*this);
  if (!stick_view_) return false;
  if (!s_.stick || s_.stick->tables.empty()) return true;
  nshards_ = static_cast<uint32_t>(s_.stick->tables.size());
  shards_ = new (std::nothrow) Shard[nshards_];
  if (!shards_) return false;
  for (uint32_t t = 0; t < nshards_; ++t) {
    const stick::TableDef& def = s_.stick->tables[t];
    // Each worker holds the keys it owns: its share of `size` (docs/stick-tables.md).
    const uint64_t share = (def.size + s_.nworkers - 1) / s_.nworkers;
    if (!shards_[t].Init(def, t, static_cast<uint32_t>(share), s_.worker, socket_id, wheel_)) {
      return false;
    }
  }
  (void)name;
  return true;
}

rules::StickAccess* Proxy::StickFor(Session* s) noexcept {
  stick_view_->s = s;
  return stick_view_;
}

void Proxy::FreeStick() noexcept {
  delete[] shards_;
  delete stick_view_;
  shards_ = nullptr;
  stick_view_ = nullptr;
}

void Proxy::OnStickTimer(base::TimerNode* n) noexcept {
  Entry* e = reinterpret_cast<Entry*>(n);
  if (e->table >= nshards_) return;
  shards_[e->table].Expire(e, tcp_->now_us() / 1000);
}

void Proxy::TrackSc(Session::StkCtr* sc, const rules::Rule& r, rules::Ctx& c,
                    bool http_request) noexcept {
  Session::StkCtr& k = sc[r.status];
  if (k.e || r.var >= nshards_) return;  // a counter already tracked stays as it is
  Shard& sh = shards_[r.var];
  rules::Sample smp;
  alignas(8) uint8_t key[stick::kMaxKeyBytes];
  if (!rules::Eval(r.expr, c, &smp) || !KeyOf(sh.def(), smp, c, key)) return;
  bool created = false;
  Entry* e = sh.Get(key, &created);
  if (!e) return;  // full, nothing could be purged: not tracked
  // A key another worker owns and nobody asked for (tcp-request connection, a backend's
  // rules): a copy from zero, its changes sent to the owner all the same.
  if (created && StickOwner(sh, key) != s_.worker) sh.MarkRemote(e);
  const uint64_t now_ms = tcp_->now_us() / 1000;
  ++e->use;
  if (e->remote) Forward(sh, e, stick::OpHow::kUse, Data::kCount, 1);
  k.e = e;
  k.table = static_cast<uint16_t>(r.var);
  k.session = !http_request && c.req == nullptr;
  // HAProxy's stream_start_counters, and the current request when tracked by its rules.
  AddDatum(sh, e, Data::kConnCur, 1, now_ms);
  AddDatum(sh, e, Data::kConnCnt, 1, now_ms);
  AddDatum(sh, e, Data::kConnRate, 1, now_ms);
  if (k.session) {
    AddDatum(sh, e, Data::kSessCnt, 1, now_ms);
    AddDatum(sh, e, Data::kSessRate, 1, now_ms);
  } else if (c.req) {
    AddDatum(sh, e, Data::kHttpReqCnt, 1, now_ms);
    AddDatum(sh, e, Data::kHttpReqRate, 1, now_ms);
  }
  sh.Touch(e, now_ms);
}

void Proxy::StickAction(Session::StkCtr* sc, const rules::Rule& r, rules::Ctx& c) noexcept {
  Session::StkCtr& k = sc[r.expr.stick.sc < 0 ? 0 : r.expr.stick.sc];
  if (!k.e || k.table >= nshards_) return;
  Shard& sh = shards_[k.table];
  const uint64_t now_ms = tcp_->now_us() / 1000;
  if (r.act == rules::Act::kScIncGpc) {
    IncGpc(sh, k.e, static_cast<Data>(r.expr.stick.data), r.expr.stick.elem, now_ms);
    return;
  }
  // sc-set-gpt0, or sc-set-gpt(I,N) (var = I + 1; I past the array: nothing).
  const stick::Slot at = r.var ? stick::Resolve(sh.def(), Data::kGpt, r.var - 1)
                                : stick::Resolve(sh.def(), Data::kGpt0, 0);
  if (!at.ok) return;
  rules::Sample smp;
  if (!rules::Eval(r.expr, c, &smp) || !rules::Cast(smp, rules::SmpType::kSint, c)) return;
  SetDatum(sh, k.e, at.d, smp.sint, now_ms, at.elem);
  sh.Touch(k.e, now_ms);
}

void Proxy::IncGpc(Shard& sh, Entry* e, Data d, uint32_t elem, uint64_t now_ms) noexcept {
  // The counter and its rate, each where the table keeps it (gpc0 in gpc[0] when only the
  // array is stored; gpc(I)'s rate in gpc_rate[I]).
  const Data rate = d == Data::kGpc0   ? Data::kGpc0Rate
                    : d == Data::kGpc1 ? Data::kGpc1Rate
                                       : Data::kGpcRate;
  const stick::Slot at = stick::Resolve(sh.def(), d, elem);
  const stick::Slot r = stick::Resolve(sh.def(), rate, elem);
  if (at.ok) AddDatum(sh, e, at.d, 1, now_ms, at.elem);
  if (r.ok) AddDatum(sh, e, r.d, 1, now_ms, r.elem);
  if (at.ok || r.ok) sh.Touch(e, now_ms);
}

void Proxy::StickCountRequest(Session& s) noexcept {
  const uint64_t now_ms = tcp_->now_us() / 1000;
  for (Session::StkCtr& k : s.sc) {
    if (!k.e || !k.session) continue;
    Shard& sh = shards_[k.table];
    AddDatum(sh, k.e, Data::kHttpReqCnt, 1, now_ms);
    AddDatum(sh, k.e, Data::kHttpReqRate, 1, now_ms);
    sh.Touch(k.e, now_ms);
  }
}

void Proxy::StickCountStatus(Session& s, uint16_t status) noexcept {
  const bool err = status >= 400 && status < 500;
  const bool fail = status >= 500 && status != 501 && status != 505;
  if (!err && !fail) return;
  const uint64_t now_ms = tcp_->now_us() / 1000;
  for (Session::StkCtr& k : s.sc) {
    if (!k.e) continue;
    Shard& sh = shards_[k.table];
    AddDatum(sh, k.e, err ? Data::kHttpErrCnt : Data::kHttpFailCnt, 1, now_ms);
    AddDatum(sh, k.e, err ? Data::kHttpErrRate : Data::kHttpFailRate, 1, now_ms);
    sh.Touch(k.e, now_ms);
  }
}

void Proxy::ReleaseCounter(Session::StkCtr& k, uint64_t now_ms) noexcept {
  Shard& sh = shards_[k.table];
  if (sh.def().Stores(Data::kConnCur)) {
    ConnCurDown(sh, k.e);
    if (k.e->remote) Forward(sh, k.e, stick::OpHow::kConnCurDown, Data::kConnCur, 1);
  }
  if (k.e->remote) Forward(sh, k.e, stick::OpHow::kUnuse, Data::kCount, 1);
  sh.Touch(k.e, now_ms);
  Unhold(sh, k.e);
  k = Session::StkCtr{};
}

void Proxy::ReleasePending() noexcept {
  const uint64_t now_ms = tcp_->now_us() / 1000;
  for (Session::StkCtr& k : pending_sc_) {
    if (k.e) ReleaseCounter(k, now_ms);
  }
}

void Proxy::StickRelease(Session& s, bool session) noexcept {
  const uint64_t now_ms = tcp_->now_us() / 1000;
  if (!session && s.strm.nstores) StickDropStores(s.strm);
  if (!session && s.strm.npins) ReleasePins(s.strm);
  const Stream& t = s.strm;
  for (Session::StkCtr& k : s.sc) {
    if (!k.e) continue;
    Shard& sh = shards_[k.table];
    if (!session) {  // the stream's bytes, client to server and back
      AddDatum(sh, k.e, Data::kBytesInCnt, t.bytes_in, now_ms);
      AddDatum(sh, k.e, Data::kBytesInRate, t.bytes_in, now_ms);
      AddDatum(sh, k.e, Data::kBytesOutCnt, t.bytes_out, now_ms);
      AddDatum(sh, k.e, Data::kBytesOutRate, t.bytes_out, now_ms);
    }
    if (k.session != session) {
      sh.Touch(k.e, now_ms);
      continue;
    }
    ReleaseCounter(k, now_ms);
  }
}

void Proxy::StickRuleKey(Stream& t, const rules::StickRule& r, const rules::Sample& smp,
                         rules::Ctx& c) noexcept {
  if (r.table >= nshards_) return;
  Shard& sh = shards_[r.table];
  alignas(8) uint8_t key[stick::kMaxKeyBytes];
  if (!KeyOf(sh.def(), smp, c, key)) return;
  const uint64_t now_ms = tcp_->now_us() / 1000;
  if (r.Matches()) {
    Entry* e = sh.Lookup(key);
    if (e && !e->pending) {
      // The first match assigns the server (HAProxy's SF_ASSIGNED); every match touches.
      if (t.stick_srv == kNoServer) {
        const uint32_t srv = StoredServer(sh, e, t.backend);
        if (srv != kNoServer && (cfg_->servers[srv].persist ||
                                 cfg_->backends[t.backend].persist || t.force_persist)) {
          t.stick_srv = srv;
        }
      }
      sh.Touch(e, now_ms);
      if (e->remote) Forward(sh, e, stick::OpHow::kTouch, Data::kCount, 0);
    }
  }
  if (!r.Stores() || t.nstores >= kMaxStickStores) return;
  bool created = false;
  Entry* e = sh.Get(key, &created);
  if (!e) return;  // full, nothing could be purged: not stored
  if (created) e->pending = true;
  if (created && StickOwner(sh, key) != s_.worker) sh.MarkRemote(e);
  ++e->use;  // held: no purge takes it before the server answers
  t.stores[t.nstores++] = Stream::StickStore{e, static_cast<uint16_t>(r.table),
                                             r.kind != rules::StickRuleKind::kStoreResponse};
}

uint32_t Proxy::StoredServer(const Shard& sh, Entry* e, uint32_t backend) const noexcept {
  const BackendSnap& be = cfg_->backends[backend];
  const uint32_t end = be.first_server + be.nservers;
  // A slot without a server (room for `add server`, or one deleted) has id 0: never named.
  auto held = [this](uint32_t i) { return cfg_->servers[i].id != 0; };
  // server_key first: the backend's server of that name (HAProxy's dictionary lookup).
  if (sh.def().Stores(Data::kServerKey)) {
    uint32_t key;
    std::memcpy(&key, sh.DataOf(e, Data::kServerKey), 4);
    if (key && key - 1 >= be.first_server && key - 1 < end) {
      return held(key - 1) ? key - 1 : kNoServer;
    }
    if (key && sh.def().srvkey_addr && key - 1 < cfg_->servers.size()) {  // by address:port
      const ServerSnap& k = cfg_->servers[key - 1];
      for (uint32_t i = be.first_server; i < end; ++i) {
        const ServerSnap& s = cfg_->servers[i];
        if (held(i) && s.port == k.port && s.is_v6 == k.is_v6 &&
            std::memcmp(s.addr, k.addr, 16) == 0) {
          return i;
        }
      }
    } else if (key && rules_ && key - 1 < rules_->srv_names.size() &&
               !rules_->srv_names[key - 1].empty()) {  // a shared table, by name
      for (uint32_t i = be.first_server; i < end && i < rules_->srv_names.size(); ++i) {
        if (held(i) && rules_->srv_names[i] == rules_->srv_names[key - 1]) return i;
      }
    }
  }
  if (!sh.def().Stores(Data::kServerId)) return kNoServer;
  int32_t id;
  std::memcpy(&id, sh.DataOf(e, Data::kServerId), 4);
  for (uint32_t i = be.first_server; id > 0 && i < end; ++i) {
    if (cfg_->servers[i].id == static_cast<uint32_t>(id)) return i;
  }
  return kNoServer;
}

uint32_t Proxy::StuckServer(const Stream& t, bool* full) const noexcept {
  *full = false;
  const ServerSnap& sv = cfg_->servers[t.stick_srv];
  if (!sv.persist && !cfg_->backends[t.backend].persist && !t.force_persist) return kNoServer;
  // At its maxconn, or with streams already waiting for it: the stream queues on the server
  // (HAProxy's pendconn on the server), behind them.
  if (sv.maxconn && (s_.stats->servers[t.stick_srv].cur.Get() >= sv.maxconn ||
                     (!t.srv_queued && srv_queues_[t.stick_srv].len))) {
    *full = true;
    return kNoServer;
  }
  return t.stick_srv;
}

void Proxy::StickOnResponse(uint32_t si) noexcept {
  Stream& t = sessions_[si].strm;
  if (rules_ && t.backend < rules_->backends.size() &&
      !rules_->backends[t.backend].stick_res.empty()) {
    StickingRules(si, true);
  }
  if (t.nstores) StickCommit(t);
}

void Proxy::StickCommit(Stream& t) noexcept {
  const uint64_t now_ms = tcp_->now_us() / 1000;
  const bool keep = t.server != kNoServer && cfg_ && t.server < cfg_->servers.size() &&
                    !cfg_->servers[t.server].non_stick;
  for (uint32_t i = 0; i < t.nstores; ++i) {
    Entry* e = t.stores[i].e;
    Shard& sh = shards_[t.stores[i].table];
    if (keep) {
      e->pending = false;
      SetDatum(sh, e, Data::kServerId, cfg_->servers[t.server].id, now_ms);
      if (sh.def().Stores(Data::kServerKey)) {
        const uint32_t key = t.server + 1;
        std::memcpy(sh.DataOf(e, Data::kServerKey), &key, 4);
        if (e->remote) Forward(sh, e, stick::OpHow::kRaw, Data::kServerKey, key);
      }
      sh.Touch(e, now_ms);
    } else if (e->pending && e->use == 1 && !e->remote) {
      sh.Remove(e);  // made for this stream alone, never given a server
      continue;
    }
    Unhold(sh, e);
  }
  t.nstores = 0;
}

void Proxy::StickDropStores(Stream& t) noexcept {
  const uint32_t server = t.server;
  t.server = kNoServer;
  StickCommit(t);
  t.server = server;
}

void Proxy::ServeStick(base::Request& r) noexcept {
  const uint64_t table = r.arg & (base::kStickFiltered - 1);
  if (table >= nshards_) return;  // no such table here: nothing
  Shard& sh = shards_[table];
  const uint64_t now_ms = tcp_->now_us() / 1000;
  auto fill = [&](Entry* e, stick::StickRow* row, uint8_t* tail) {
    std::memset(row, 0, sizeof *row);
    std::memcpy(row->key, e->key(), sh.def().key_len);
    row->ref = (static_cast<uint64_t>(s_.worker) << 40) |
               (reinterpret_cast<uintptr_t>(e) & 0xffffffffffull);
    row->use = e->use;
    row->exp_ms = e->exp_ms > now_ms ? static_cast<uint32_t>(e->exp_ms - now_ms) : 0;
    for (size_t d = 0; d < stick::kDataTypes; ++d) {
      const auto data = static_cast<Data>(d);
      if (!sh.def().Stores(data)) continue;
      row->values[d] = ReadDatum(sh, e, data, now_ms);
      for (uint32_t i = 1; i < sh.def().Elems(data); ++i, tail += 8) {  // arrays: the rest
        const int64_t v = ReadDatum(sh, e, data, now_ms, i);
        std::memcpy(tail, &v, 8);
      }
    }
  };
  switch (r.op) {
    case base::Op::kStickUsed:
      r.count = sh.owned();
      return;
    case base::Op::kStickDump: {
      // A slice: at most what the payload holds, from the pool index `cursor`, and at most
      // kStickScan slots looked at (a sparse pool costs no more per request than a full one).
      const uint32_t stride =
          static_cast<uint32_t>(sizeof(stick::StickRow)) + 8 * sh.def().ArrayTail();
      const uint32_t room = r.capacity / stride;
      // The key and filters the rows must pass (show table ... key K | data.T OP V), read
      // before the rows overwrite them.
      stick::StickClear want;
      const bool filtered =
          (r.arg & base::kStickFiltered) && r.capacity >= sizeof want && room > 0;
      if (filtered) std::memcpy(&want, r.payload, sizeof want);
      uint64_t i = r.cursor;
      const uint64_t stop = i + kStickScan;
      r.done = false;
      for (; i <= sh.slots() && i < stop && r.count < room; ++i) {
        Entry* e = sh.At(static_cast<uint32_t>(i));
        if (!e || e->pending || e->remote) continue;
        ++r.seen;
        if (filtered && !Wanted(sh, e, want, now_ms)) continue;
        stick::StickRow row;
        uint8_t* at = r.payload + static_cast<size_t>(r.count) * stride;
        fill(e, &row, at + sizeof row);
        std::memcpy(at, &row, sizeof row);
        ++r.count;
      }
      r.used = r.count * stride;
      r.cursor = i;
      r.done = i > sh.slots();
      return;
    }
    case base::Op::kStickSet: {
      if (r.capacity < sizeof(stick::StickSet)) return;
      stick::StickSet set;
      std::memcpy(&set, r.payload, sizeof set);
      Entry* e = sh.Get(set.key);
      if (!e) {
        r.count = 1;
        return;
      }
      for (uint32_t k = 0; k < set.n && k < stick::kDataTypes; ++k) {
        SetDatum(sh, e, static_cast<Data>(set.items[k].data), set.items[k].value, now_ms);
      }
      sh.Touch(e, now_ms);
      return;
    }
    case base::Op::kStickClear: {
      if (r.capacity < sizeof(stick::StickClear)) return;
      stick::StickClear cl;
      std::memcpy(&cl, r.payload, sizeof cl);
      if (cl.has_key) {
        Entry* e = sh.Lookup(cl.key);
        if (!e || e->remote) return;
        if (e->use) {
          r.cursor = 1;
          return;
        }
        sh.Remove(e);
        r.count = 1;
        return;
      }
      // A whole walk of the shard (a rare admin command, as `shutdown sessions server`).
      for (uint32_t i = 0; i <= sh.slots(); ++i) {
        Entry* e = sh.At(i);
        if (!e || e->use || e->remote || !Wanted(sh, e, cl, now_ms)) continue;
        sh.Remove(e);
        ++r.count;
      }
      return;
    }
    default:
      r.status = base::ReplyStatus::kUnknownOp;
  }
}

void Proxy::AddDatum(const Shard& sh, Entry* e, Data d, uint64_t n, uint64_t now_ms,
                     uint32_t elem) noexcept {
  if (!sh.def().Stores(d)) return;
  AddLocal(sh, e, d, n, now_ms, elem);
  if (e->remote) [[unlikely]] {
    Forward(sh, e, stick::OpHow::kAdd, d, static_cast<int64_t>(n), elem);
  }
}

void Proxy::SetDatum(const Shard& sh, Entry* e, Data d, int64_t v, uint64_t now_ms,
                     uint32_t elem) noexcept {
  if (!sh.def().Stores(d)) return;
  SetLocal(sh, e, d, v, now_ms, elem);
  if (e->remote) [[unlikely]] Forward(sh, e, stick::OpHow::kSet, d, v, elem);
}

}  // namespace sluice::proxy
