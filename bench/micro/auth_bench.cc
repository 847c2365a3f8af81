// What an http_auth() check costs on a worker (docs/decisions/0012-http-auth-on-workers.md):
// reading the Authorization field and finding the user, with a clear password, with a
// SHA-512 crypt(3) hash remembered by the worker's AuthCache, and the crypt_r call a
// credential not remembered yet costs.
#include <benchmark/benchmark.h>

#include <crypt.h>

#include <memory>
#include <string>

#include "dataplane/http/h1.h"
#include "dataplane/rules/auth.h"
#include "dataplane/rules/expr.h"

namespace {

using namespace sluice;

// "pw" as `openssl passwd -6 -salt abcdefgh pw` writes it.
constexpr const char* kHash =
    "$6$abcdefgh$KQeXafAQAaOoKTevphVU215RvJdgzyfASRasIOuh12hO8u0r1bGW92ZnTmC9IjsiQ8VPiTXBiZF49d"
    "FL1U4wX/";

struct Setup {
  rules::Userlist list;
  std::unique_ptr<rules::Arena> arena = std::make_unique<rules::Arena>();
  std::unique_ptr<rules::AuthCache> cache = std::make_unique<rules::AuthCache>();
  std::unique_ptr<http::MessageHead> head = std::make_unique<http::MessageHead>();
  std::string req;
  rules::Ctx ctx;
  explicit Setup(const std::string& credentials_b64) {
    list.name = "L";
    list.serial = 1;
    for (int i = 0; i < 20; ++i) {
      list.users.push_back(rules::AuthUser{"user" + std::to_string(i), "x", true, true, 0});
    }
    list.users.push_back(rules::AuthUser{"alice", "secret", true, true, 1});
    list.users.push_back(rules::AuthUser{"bob", kHash, false, true, 1});
    req = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nAuthorization: Basic " +
          credentials_b64 + "\r\n\r\n";
    http::ParseOptions o;
    o.request = true;
    http::ParseHead(reinterpret_cast<const uint8_t*>(req.data()),
                    static_cast<uint32_t>(req.size()), o, head.get());
    ctx.req_head = reinterpret_cast<const uint8_t*>(req.data());
    ctx.req = head.get();
    ctx.arena = arena.get();
    ctx.auth = cache.get();
  }
};

void Run(benchmark::State& state, const std::string& b64) {
  Setup s(b64);
  for (auto _ : state) {
    s.arena->Reset();
    bool basic = false;
    benchmark::DoNotOptimize(rules::Authenticate(s.ctx, s.list, &basic));
  }
}

// alice:secret (insecure-password)
void BM_AuthClearPassword(benchmark::State& state) { Run(state, "YWxpY2U6c2VjcmV0"); }
BENCHMARK(BM_AuthClearPassword);

// bob:pw (SHA-512 hash), remembered after the first request
void BM_AuthHashRemembered(benchmark::State& state) { Run(state, "Ym9iOnB3"); }
BENCHMARK(BM_AuthHashRemembered);

// The crypt_r call of a credential not remembered (SHA-512, 5000 rounds).
void BM_CryptSha512(benchmark::State& state) {
  auto data = std::make_unique<crypt_data>();
  for (auto _ : state) benchmark::DoNotOptimize(crypt_r("pw", kHash, data.get()));
}
BENCHMARK(BM_CryptSha512)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
