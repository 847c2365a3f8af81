// libFuzzer target: pattern files and the Runtime API's pattern operations
// (controlplane/rules/pattern_store.h), with a worker's index kept in step by the queued
// operations (dataplane/rules/pattern.h ApplyPatternOps, as controlplane/main/pattern_sync.cc).
// Input: CTL FILE ["--" line OPS]
//   CTL (one byte): (CTL & 0x0f) % 13 is the match method in rules::Match's order (found bool
//     int ip bin len str beg sub dir dom end reg), 0x10 adds -i, 0x20 makes it a map. So 'F'
//     is str, 'V' str -i, 'f' a str map, 'C' ip, 'c' an ip map, 'B' int, 'G' beg, 'K' end,
//     'H' sub, 'J' dom, 'L' reg, 'D' bin.
//   FILE: the pattern file, the lines up to the first line "--" (a map's: "KEY VALUE").
//   OPS: one a line (at most 64), by first byte; N picks the N-th entry (mod their count):
//     +KEY[ VALUE] add (current version)   >KEY[ VALUE] add to the prepared version (next_ver)
//     -KEY         del by key              #N           del by "#0x..." reference
//     =KEY VALUE   set by key              *N VALUE     set by reference
//     p prepare   c commit next_ver   x clear   X clear next_ver   m VALUE  look VALUE up
//     f            hand the queued operations to the worker's index
//   KEY is the rest of the line for an ACL, its first word for a map; a -KEY or =KEY starting
//   with '#' is skipped (it would name an entry by its address: not reproducible).
// Invariants, after each operation: the index holds the current version's entries (size); an
// exact method (str, beg, end, sub; int without a range; ip with a host address) finds each of
// them by its own pattern; every map entry has a value. After each hand-over (f, and at the
// end): the worker's index has the size of the control plane's.
#include <algorithm>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/rules/pattern_store.h"
#include "dataplane/base/assert.h"
#include "dataplane/net/addr_text.h"
#include "dataplane/rules/pattern.h"

namespace {

using namespace sluice;
using rules::Match;

// The pattern file, one per process, rewritten for each input.
struct PatFile {
  std::string dir, path;
  PatFile() {
    char tmpl[] = "/tmp/sluice_fuzz_patterns_XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    path = dir + "/patterns";
  }
  ~PatFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
const PatFile g_file;

// Whether MatchValue must find `e` by its own pattern (see the header comment).
bool FindsItself(const rulescp::PatRef& r, const rules::PatEntry& e) {
  switch (r.match) {
    case Match::kStr:
    case Match::kBeg:
    case Match::kEnd:
    case Match::kSub:
      return true;
    case Match::kInt:
      return e.pattern.find(':') == std::string::npos && e.pattern.size() <= 18;
    case Match::kIp: {
      const auto a = net::ParseIp(e.pattern);
      if (!a || a->is_v6 != e.v6 || e.plen != (e.v6 ? 128 : 32)) return false;
      uint8_t b[16];
      net::ToBytes(*a, b);
      return std::memcmp(b, e.addr, e.v6 ? 16 : 4) == 0;
    }
    default:
      return false;
  }
}

void CheckRef(rulescp::PatternStore& store, rulescp::PatRef& r) {
  size_t current = 0;
  for (const auto& e : r.entries) {
    if (r.map) LB_RELEASE_ASSERT(e->value.load(std::memory_order_relaxed) != nullptr);
    if (e->version != r.curr_ver) continue;
    ++current;
    if (FindsItself(r, *e)) LB_RELEASE_ASSERT(store.MatchValue(r, e->pattern) != nullptr);
  }
  LB_RELEASE_ASSERT(current == r.index->size());
}

// The queued operations applied to the worker's table, as pattern_sync.cc sends them.
void HandOver(rulescp::PatternStore& store, rules::PatternTable& worker, uint32_t ref) {
  std::vector<rules::PatternOp> recs;
  for (const rulescp::WorkerOp& op : store.TakeOps()) {
    rules::PatternOp p;
    p.ref = op.ref;
    p.entry = op.entry;
    if (op.kind == rulescp::WorkerOp::kAdd) {
      p.kind = rules::PatternOp::kAdd;
    } else if (op.kind == rulescp::WorkerOp::kRemove) {
      p.kind = rules::PatternOp::kRemove;
    } else {
      p.kind = rules::PatternOp::kSwap;
      p.index = store.BuildIndex(*store.Ref(op.ref)).release();
    }
    recs.push_back(p);
  }
  rules::ApplyPatternOps(worker, recs.data(), static_cast<uint32_t>(recs.size()));
  for (rules::PatternOp& p : recs) {
    if (p.kind == rules::PatternOp::kSwap) delete p.index;  // the replaced one
  }
  (void)store.TakeGarbage();  // every worker has passed the operations: freed here
  LB_RELEASE_ASSERT(worker.sets[ref]->size() == store.Ref(ref)->index->size());
}

// The `#0x...` reference of the N-th entry named by `arg`'s leading digits, or "" for none.
std::string RefOf(rulescp::PatRef& r, std::string_view arg) {
  if (r.entries.empty()) return "";
  size_t n = 0;
  for (size_t i = 0; i < arg.size() && i < 6 && arg[i] >= '0' && arg[i] <= '9'; ++i) {
    n = n * 10 + static_cast<size_t>(arg[i] - '0');
  }
  auto it = r.entries.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(n % r.entries.size()));
  char buf[32];
  std::snprintf(buf, sizeof buf, "#0x%" PRIxPTR, reinterpret_cast<uintptr_t>(it->get()));
  return buf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 8 * 1024) return 0;
  const uint8_t ctl = data[0];
  const auto m = static_cast<Match>((ctl & 0x0f) % 13);
  const bool icase = ctl & 0x10, map = ctl & 0x20;
  std::vector<std::string_view> lines;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  for (size_t at = 0; at <= body.size();) {
    const size_t nl = std::min(body.find('\n', at), body.size());
    lines.push_back(body.substr(at, nl - at));
    at = nl + 1;
  }
  size_t sep = 0;
  std::string file;
  for (; sep < lines.size() && lines[sep] != "--"; ++sep) file.append(lines[sep]).push_back('\n');
  std::ofstream(g_file.path, std::ios::binary | std::ios::trunc) << file;

  rulescp::PatternStore store;
  auto id = store.FileRef(g_file.path, m, icase, map, "acl at file 'fuzz.cfg' line 1");
  if (!id) return 0;
  rulescp::PatRef& r = *store.Ref(*id);
  rules::PatternTable worker;
  worker.sets.resize(store.size());
  worker.sets[*id] = store.BuildIndex(r).release();
  (void)store.TakeOps();
  CheckRef(store, r);

  for (size_t i = sep + 1, n = 0; i < lines.size() && n < 64; ++i, ++n) {
    const std::string_view line = lines[i];
    if (line.empty()) continue;
    const std::string_view arg = line.substr(1);
    const size_t sp = arg.find(' ');
    const std::string_view key = map ? arg.substr(0, sp) : arg;
    const std::string_view value = sp == std::string_view::npos ? "" : arg.substr(sp + 1);
    switch (line[0]) {
      case '+':
        (void)store.Add(r, key, value, false, 0);
        break;
      case '>':
        (void)store.Add(r, key, value, true, r.next_ver);
        break;
      case '-':  // a "#..." key would pick an entry by its address: never deterministic
        if (key.empty() || key[0] != '#') (void)store.Delete(r, key);
        break;
      case '=':
        if (arg.empty() || arg[0] != '#') (void)store.Set(r, arg.substr(0, sp), value);
        break;
      case '#':
        if (const std::string ref = RefOf(r, arg); !ref.empty()) (void)store.Delete(r, ref);
        break;
      case '*':
        if (const std::string ref = RefOf(r, arg); !ref.empty()) (void)store.Set(r, ref, value);
        break;
      case 'p':
        (void)store.Prepare(r);
        break;
      case 'c':
        (void)store.Commit(r, r.next_ver);
        break;
      case 'x':
        store.Clear(r, false, 0);
        break;
      case 'X':
        store.Clear(r, true, r.next_ver);
        break;
      case 'm':
        (void)store.MatchValue(r, arg.substr(arg.starts_with(' ') ? 1 : 0));
        break;
      case 'f':
        HandOver(store, worker, *id);
        break;
      default:
        break;
    }
    CheckRef(store, r);
  }
  HandOver(store, worker, *id);
  (void)r.Describe();
  (void)store.Lookup("#0", map);
  for (rules::PatternIndex* idx : worker.sets) delete idx;
  return 0;
}
