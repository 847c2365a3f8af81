#include "dataplane/proxy/balance.h"

#include <cmath>
#include <cstring>

namespace sluice::proxy {

namespace {

bool AtMax(const ServerSnap& s, const ProxyStats& own, uint32_t i) {
  return s.maxconn != 0 && own.servers[i].cur.Get() >= s.maxconn;
}

uint32_t HashAddr(const uint8_t* a, bool is_v6) {
  // FNV-1a over the address bytes, then a final mix: stable across workers and restarts.
  uint32_t h = 2166136261u;
  const unsigned n = is_v6 ? 16 : 4;
  for (unsigned i = 0; i < n; ++i) h = (h ^ a[i]) * 16777619u;
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  return h;
}

// hash-type consistent: rendezvous hashing (highest random weight), weighted. A key keeps its
// server while that server stays, and a server that leaves or comes moves only its share of
// the keys, which is what consistent hashing promises (HAProxy's own ring places keys
// differently; no two balancers agree on a mapping anyway).
double Score(uint32_t key, uint32_t server, uint32_t weight) {
  uint32_t h = key ^ (server * 0x9e3779b9u);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  const double u = (static_cast<double>(h) + 1.0) / 4294967297.0;  // in (0, 1)
  return -static_cast<double>(weight) / std::log(u);
}

}  // namespace

void Balancer::Reset() noexcept {
  std::memset(current_, 0, sizeof current_);
  std::memset(cursor_, 0, sizeof cursor_);
}

uint32_t Balancer::PickPass(const ProxyConfigSnap& cfg, const ProxyStats& own,
                            const BackendSnap& be, bool backup, const uint8_t* client_addr,
                            bool is_v6, uint32_t exclude, bool* full,
                            int64_t request_hash) noexcept {
  const uint32_t first = be.first_server;
  const uint32_t end = be.first_server + be.nservers;
  auto weight_of = [&](const ServerSnap& s) {
    return be.algo == Algo::kStaticRr ? s.iweight : s.weight;
  };
  auto eligible = [&](uint32_t i) {
    const ServerSnap& s = cfg.servers[i];
    return s.usable && s.backup == backup && weight_of(s) > 0;
  };
  // An HTTP hash with nothing to hash (no such parameter or header): round robin.
  const Algo algo = HashesRequest(be.algo) && request_hash < 0 ? Algo::kRoundRobin : be.algo;
  // A pass that honours `exclude`, then one without it if that found nothing.
  for (int pass = 0; pass < 2; ++pass) {
    const uint32_t skip = pass == 0 ? exclude : kNoServer;
    bool any = false;
    switch (algo) {
      case Algo::kRoundRobin:
      case Algo::kStaticRr: {
        // Smooth weighted round robin: every eligible server gains its weight, the richest
        // is picked and pays the total. Over sum(w) picks each server gets exactly w.
        int64_t total = 0;
        uint32_t best = kNoServer;
        for (uint32_t i = first; i < end; ++i) {
          if (i == skip || !eligible(i)) continue;
          any = true;
          if (AtMax(cfg.servers[i], own, i)) continue;
          current_[i] += weight_of(cfg.servers[i]);
          total += weight_of(cfg.servers[i]);
          if (best == kNoServer || current_[i] > current_[best]) best = i;
        }
        if (best != kNoServer) {
          current_[best] -= total;
          return best;
        }
        break;
      }
      case Algo::kLeastConn: {
        uint32_t best = kNoServer;
        const uint32_t n = be.nservers;
        const uint32_t start = n ? cursor_[&be - cfg.backends.data()] % n : 0;
        for (uint32_t k = 0; k < n; ++k) {
          const uint32_t i = first + (start + k) % n;
          if (i == skip || !eligible(i)) continue;
          any = true;
          if (AtMax(cfg.servers[i], own, i)) continue;
          if (best == kNoServer) {
            best = i;
            continue;
          }
          // cur_i / w_i < cur_best / w_best, without division.
          const uint64_t ci = own.servers[i].cur.Get(), cb = own.servers[best].cur.Get();
          if (ci * weight_of(cfg.servers[best]) < cb * weight_of(cfg.servers[i])) best = i;
        }
        if (best != kNoServer) {
          ++cursor_[&be - cfg.backends.data()];
          return best;
        }
        break;
      }
      case Algo::kFirst:
        for (uint32_t i = first; i < end; ++i) {
          if (i == skip || !eligible(i)) continue;
          any = true;
          if (!AtMax(cfg.servers[i], own, i)) return i;
        }
        break;
      case Algo::kSource:
      case Algo::kUri:
      case Algo::kUrlParam:
      case Algo::kHdr:
      case Algo::kRandom: {
        const uint32_t key = algo == Algo::kSource ? HashAddr(client_addr, is_v6)
                                                   : static_cast<uint32_t>(request_hash);
        if (be.hash_consistent) {
          uint32_t best = kNoServer;
          double best_score = -1;
          for (uint32_t i = first; i < end; ++i) {
            if (i == skip || !eligible(i)) continue;
            any = true;
            const double score = Score(key, i - first, weight_of(cfg.servers[i]));
            if (score > best_score) best = i, best_score = score;
          }
          if (best != kNoServer && !AtMax(cfg.servers[best], own, best)) return best;
          break;
        }
        uint64_t total = 0;
        for (uint32_t i = first; i < end; ++i) {
          if (i != skip && eligible(i)) total += weight_of(cfg.servers[i]);
        }
        if (total == 0) break;
        any = true;
        uint64_t point = key % total;
        for (uint32_t i = first; i < end; ++i) {
          if (i == skip || !eligible(i)) continue;
          const uint32_t w = weight_of(cfg.servers[i]);
          if (point < w) {
            if (AtMax(cfg.servers[i], own, i)) break;
            return i;
          }
          point -= w;
        }
        break;
      }
    }
    if (any) {
      *full = true;
      return kNoServer;
    }
    if (exclude == kNoServer) break;
  }
  return kNoServer;
}

uint32_t Balancer::Pick(const ProxyConfigSnap& cfg, const ProxyStats& own, uint32_t b,
                        const uint8_t* client_addr, bool is_v6, uint32_t exclude,
                        bool* full, int64_t request_hash) noexcept {
  *full = false;
  if (b >= cfg.backends.size()) return kNoServer;
  const BackendSnap& be = cfg.backends[b];
  const uint32_t s =
      PickPass(cfg, own, be, false, client_addr, is_v6, exclude, full, request_hash);
  if (s != kNoServer || *full) return s;
  return PickPass(cfg, own, be, true, client_addr, is_v6, exclude, full, request_hash);
}

}  // namespace sluice::proxy
