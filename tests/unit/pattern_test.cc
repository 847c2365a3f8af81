// Pattern indexes and the pattern store (dataplane/rules/pattern.h,
// controlplane/rules/pattern_store.h): which entry each match method finds where several
// match, duplicates, removal, versions, map values, and what the workers are sent.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "controlplane/rules/pattern_store.h"
#include "dataplane/rules/pattern.h"

namespace sluice::rulescp {
namespace {

using rules::Match;
using rules::PatEntry;
using rules::PatternIndex;
using rules::Sample;

class Entries {
 public:
  const PatEntry* Make(Match m, bool icase, const std::string& text) {
    auto e = std::make_unique<PatEntry>();
    EXPECT_TRUE(ParsePattern(m, icase, text, e.get()).ok()) << text;
    e->seq = owned_.size() + 1;
    owned_.push_back(std::move(e));
    return owned_.back().get();
  }

 private:
  std::vector<std::unique_ptr<PatEntry>> owned_;
};

char tmp[rules::kArenaBytes];

const PatEntry* FindStr(const PatternIndex& idx, const std::string& s) {
  return idx.Find(Sample::Str(s), tmp);
}

const PatEntry* FindIp(const PatternIndex& idx, std::initializer_list<uint8_t> a) {
  std::vector<uint8_t> v(a);
  return idx.Find(Sample::Ip(v.data(), v.size() == 16), tmp);
}

TEST(PatternIndex, ExactStringsDuplicatesAndRemoval) {
  Entries es;
  PatternIndex idx(Match::kStr, false);
  const PatEntry* a1 = es.Make(Match::kStr, false, "a");
  const PatEntry* b = es.Make(Match::kStr, false, "b");
  const PatEntry* a2 = es.Make(Match::kStr, false, "a");
  idx.Add(a1);
  idx.Add(b);
  idx.Add(a2);
  idx.Add(a2);  // already there: ignored
  EXPECT_EQ(idx.size(), 3u);
  EXPECT_EQ(FindStr(idx, "a"), a1);  // the first added
  EXPECT_EQ(FindStr(idx, "A"), nullptr);
  idx.Remove(a1);
  EXPECT_EQ(FindStr(idx, "a"), a2);  // the next duplicate takes the key
  idx.Remove(a2);
  idx.Remove(a2);  // not there: ignored
  EXPECT_EQ(FindStr(idx, "a"), nullptr);
  EXPECT_EQ(idx.size(), 1u);
}

TEST(PatternIndex, CaseInsensitive) {
  Entries es;
  PatternIndex idx(Match::kStr, true);
  const PatEntry* e = es.Make(Match::kStr, true, "Example.COM");
  idx.Add(e);
  EXPECT_EQ(FindStr(idx, "example.com"), e);
  EXPECT_EQ(FindStr(idx, "EXAMPLE.com"), e);
}

TEST(PatternIndex, NetworksMostSpecificWins) {
  Entries es;
  PatternIndex idx(Match::kIp, false);
  const PatEntry* n8 = es.Make(Match::kIp, false, "10.0.0.0/8");
  const PatEntry* n24 = es.Make(Match::kIp, false, "10.10.1.0/24");
  const PatEntry* h = es.Make(Match::kIp, false, "10.10.1.2");
  const PatEntry* v6 = es.Make(Match::kIp, false, "2001:db8::/32");
  const PatEntry* mapped = es.Make(Match::kIp, false, "::ffff:192.0.2.1");
  for (const PatEntry* e : {n8, n24, h, v6, mapped}) idx.Add(e);
  EXPECT_EQ(FindIp(idx, {10, 10, 1, 2}), h);
  EXPECT_EQ(FindIp(idx, {10, 10, 1, 3}), n24);
  EXPECT_EQ(FindIp(idx, {10, 9, 1, 3}), n8);
  EXPECT_EQ(FindIp(idx, {11, 0, 0, 1}), nullptr);
  EXPECT_EQ(FindIp(idx, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), v6);
  EXPECT_EQ(FindIp(idx, {192, 0, 2, 1}), mapped);  // an IPv4 sample against ::ffff:a.b.c.d
  // An IPv4-mapped IPv6 sample finds the IPv4 networks.
  EXPECT_EQ(FindIp(idx, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 10, 1, 9}), n24);
  idx.Remove(h);
  EXPECT_EQ(FindIp(idx, {10, 10, 1, 2}), n24);
}

TEST(PatternIndex, PrefixLongestSuffixAndOthersFirstInOrder) {
  Entries es;
  PatternIndex beg(Match::kBeg, false);
  const PatEntry* api = es.Make(Match::kBeg, false, "/api");
  const PatEntry* v2 = es.Make(Match::kBeg, false, "/api/v2");
  beg.Add(api);
  beg.Add(v2);
  EXPECT_EQ(FindStr(beg, "/api/v2/x"), v2);  // HAProxy's tree: the longest prefix
  EXPECT_EQ(FindStr(beg, "/api/v1"), api);
  PatternIndex end(Match::kEnd, false);
  const PatEntry* com = es.Make(Match::kEnd, false, "com");
  const PatEntry* excom = es.Make(Match::kEnd, false, "example.com");
  end.Add(com);
  end.Add(excom);
  EXPECT_EQ(FindStr(end, "www.example.com"), com);  // a list: the first in order
  PatternIndex dom(Match::kDom, false);
  const PatEntry* d = es.Make(Match::kDom, false, "example");
  dom.Add(d);
  EXPECT_EQ(FindStr(dom, "www.example.com"), d);
  EXPECT_EQ(FindStr(dom, "/a/example/b"), d);  // '/' delimits too
  EXPECT_EQ(FindStr(dom, "myexample.com"), nullptr);
  PatternIndex in(Match::kInt, false);
  const PatEntry* r = es.Make(Match::kInt, false, "10:20");
  in.Add(r);
  EXPECT_EQ(in.Find(Sample::Int(15), tmp), r);
  EXPECT_EQ(in.Find(Sample::Int(21), tmp), nullptr);
}

TEST(PatternIndex, RegexesHyperscanFirstInOrderWithPcreFallback) {
  Entries es;
  PatternIndex idx(Match::kReg, false);
  const PatEntry* late = es.Make(Match::kReg, false, "^/item[0-9]+$");
  const PatEntry* backref = es.Make(Match::kReg, false, "^/(a)\\1$");  // PCRE2 only
  const PatEntry* early = es.Make(Match::kReg, false, "item");
  idx.Add(late);
  idx.Add(backref);
  idx.Add(early);
  ASSERT_TRUE(idx.CompileRegexes());
  EXPECT_TRUE(idx.hyperscan());
  EXPECT_EQ(FindStr(idx, "/item42"), late);  // both match: the first in order
  EXPECT_EQ(FindStr(idx, "/aa"), backref);   // the back-reference, by PCRE2
  EXPECT_EQ(FindStr(idx, "x item y"), early);
  EXPECT_EQ(FindStr(idx, "/nothing"), nullptr);
  EXPECT_EQ(FindStr(idx, ""), nullptr);
  PatternIndex ci(Match::kReg, true);
  const PatEntry* up = es.Make(Match::kReg, true, "^ADMIN");
  ci.Add(up);
  ASSERT_TRUE(ci.CompileRegexes());
  EXPECT_EQ(FindStr(ci, "admin/x"), up);
}

TEST(PatternStore, VersionsValuesAndWorkerOperations) {
  PatternStore store;
  const uint32_t id = *store.InlineRef(Match::kStr, false, "acl 'str' file 't' line 1.");
  PatRef& r = *store.Ref(id);
  ASSERT_TRUE(store.Add(r, "a", "", false, 0).ok());
  ASSERT_TRUE(store.Add(r, "a", "", false, 0).ok());
  ASSERT_TRUE(store.Add(r, "b", "", false, 0).ok());
  std::vector<WorkerOp> ops = store.TakeOps();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].kind, WorkerOp::kAdd);
  EXPECT_TRUE(*store.Delete(r, "a"));  // every entry with that key
  EXPECT_FALSE(*store.Delete(r, "a"));
  EXPECT_EQ(r.entries.size(), 1u);
  ops = store.TakeOps();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1].kind, WorkerOp::kRemove);
  EXPECT_EQ(store.TakeGarbage().entries.size(), 2u);  // freed once the workers passed them
  // prepare / add @ver / commit: the new version replaces the old at once.
  const uint32_t ver = store.Prepare(r);
  EXPECT_EQ(ver, 1u);
  ASSERT_TRUE(store.Add(r, "c", "", true, ver).ok());
  EXPECT_TRUE(store.TakeOps().empty());  // not current: the workers do not see it yet
  EXPECT_EQ(store.MatchValue(r, "c"), nullptr);
  ASSERT_TRUE(*store.Commit(r, ver));
  EXPECT_NE(store.MatchValue(r, "c"), nullptr);
  EXPECT_EQ(store.MatchValue(r, "b"), nullptr);
  ops = store.TakeOps();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, WorkerOp::kSwap);
  EXPECT_FALSE(*store.Commit(r, ver));  // out of range now
  // An index full to its room becomes a swap, never a growth on a worker.
  store.TakeGarbage();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store.Add(r, std::to_string(i), "", false, 0).ok());
  ops = store.TakeOps();
  size_t swaps = 0;
  for (const WorkerOp& op : ops) swaps += op.kind == WorkerOp::kSwap;
  EXPECT_GE(swaps, 1u);
  EXPECT_EQ(r.index->size(), 201u);
}

TEST(PatternStore, MapValuesAndReferences) {
  PatternStore store;
  const uint32_t id = *store.InlineRef(Match::kIp, false, "map");
  PatRef& r = *store.Ref(id);
  r.map = true;
  ASSERT_TRUE(store.Add(r, "10.0.0.0/8", "PRIV", false, 0).ok());
  const PatEntry* e = store.MatchValue(r, "10.1.2.3");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->value.load()->text, "PRIV");
  EXPECT_TRUE(*store.Set(r, "10.0.0.0/8", "LAN"));
  EXPECT_EQ(e->value.load()->text, "LAN");
  EXPECT_EQ(store.TakeGarbage().values.size(), 1u);  // the old value, after a barrier
  char ref[32];
  std::snprintf(ref, sizeof ref, "#%p", static_cast<const void*>(e));
  EXPECT_TRUE(*store.Set(r, ref, "BYREF"));
  EXPECT_EQ(e->value.load()->text, "BYREF");
  EXPECT_FALSE(*store.Set(r, "#0x1234", "x"));
  EXPECT_FALSE(store.Add(r, "not-an-ip", "x", false, 0).ok());
  EXPECT_EQ(store.Add(r, "not-an-ip", "x", false, 0).error(),
            "'not-an-ip' is not a valid IPv4 or IPv6 address.");
  EXPECT_TRUE(*store.Delete(r, ref));
  EXPECT_EQ(store.MatchValue(r, "10.1.2.3"), nullptr);
}

}  // namespace
}  // namespace sluice::rulescp
