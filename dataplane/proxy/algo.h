// The balancing algorithms: one enum from the configuration file to the workers and the
// Runtime API (the parser reads names into it, the balancer switches on it, `show stat` and
// `show backend` print its name back). Names are HAProxy's `balance` keywords.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::proxy {

enum class Algo : uint8_t {
  kRoundRobin,
  kStaticRr,
  kLeastConn,
  kFirst,
  kSource,
  // HTTP: a hash of the request (its URI, a query parameter, a header) or a random number.
  kUri,
  kUrlParam,
  kHdr,
  kRandom,
};

// An algorithm that hashes something of the request (HTTP mode).
constexpr bool HashesRequest(Algo a) {
  return a == Algo::kUri || a == Algo::kUrlParam || a == Algo::kHdr || a == Algo::kRandom;
}

struct AlgoName {
  std::string_view name;
  Algo algo;
};

// Every algorithm Sluice balances with, by its `balance` keyword.
inline constexpr AlgoName kAlgoNames[] = {
    {"roundrobin", Algo::kRoundRobin}, {"static-rr", Algo::kStaticRr},
    {"leastconn", Algo::kLeastConn},   {"first", Algo::kFirst},
    {"source", Algo::kSource},         {"uri", Algo::kUri},
    {"url_param", Algo::kUrlParam},    {"hdr", Algo::kHdr},
    {"random", Algo::kRandom},
};

constexpr std::string_view NameOf(Algo a) {
  for (const AlgoName& n : kAlgoNames) {
    if (n.algo == a) return n.name;
  }
  return "roundrobin";
}

}  // namespace sluice::proxy
