// Slow path: the ACL and map commands over the pattern store (pattern_control.h).
#include "controlplane/main/pattern_control.h"

namespace sluice::app {
namespace {

std::string_view TypeName(rules::Match m) { return rules::MatchName(m); }

// HAProxy indexes str, beg and ip patterns in trees (case-sensitive ones; ip always).
bool Tree(const rulescp::PatRef& r) {
  return r.match == rules::Match::kIp ||
         (!r.icase && (r.match == rules::Match::kStr || r.match == rules::Match::kBeg));
}

}  // namespace

std::vector<cli::PatternRefView> PatternCliControl::List(bool map) {
  std::vector<cli::PatternRefView> out;
  for (const rulescp::PatRef* r : store_.List(map)) {
    out.push_back(cli::PatternRefView{r->cli_id, r->file, r->Describe(), r->entries.size()});
  }
  return out;
}

int64_t PatternCliControl::Find(std::string_view name, bool map) {
  const rulescp::PatRef* r = store_.Lookup(name, map);
  return r ? static_cast<int64_t>(r->id) : -1;
}

bool PatternCliControl::IsMap(uint32_t id) {
  const rulescp::PatRef* r = store_.Ref(id);
  return r && r->map;
}

void PatternCliControl::Entries(uint32_t id, bool has_ver, uint32_t ver, uintptr_t* cursor,
                                size_t max, std::vector<cli::PatternEntryView>* out) {
  rulescp::PatRef* r = store_.Ref(id);
  if (!r) {
    *cursor = 0;
    return;
  }
  const uint32_t want = has_ver ? ver : r->curr_ver;
  auto it = r->entries.begin();
  if (*cursor) {
    // Resume at the entry kept as the cursor; if it went away meanwhile, the dump ends.
    auto w = r->where.find(reinterpret_cast<const rules::PatEntry*>(*cursor));
    if (w == r->where.end()) {
      *cursor = 0;
      return;
    }
    it = w->second;
  }
  for (; it != r->entries.end() && out->size() < max; ++it) {
    const rules::PatEntry& e = **it;
    if (e.version != want) continue;
    cli::PatternEntryView v;
    v.ref = reinterpret_cast<uintptr_t>(&e);
    v.key = e.pattern;
    if (const rules::MapValue* mv = e.value.load(std::memory_order_relaxed)) v.value = mv->text;
    out->push_back(std::move(v));
  }
  *cursor = it == r->entries.end() ? 0 : reinterpret_cast<uintptr_t>(it->get());
}

std::string PatternCliControl::Get(uint32_t id, std::string_view value, bool map) {
  const rulescp::PatRef* r = store_.Ref(id);
  if (!r) return "";
  std::string out = "type=" + std::string(TypeName(r->match)) +
                    ", case=" + (r->icase ? "insensitive" : "sensitive");
  const rules::PatEntry* e = store_.MatchValue(*r, value);
  if (!e) return out + (map ? ", found=no\n" : ", match=no\n");
  out += std::string(map ? ", found=yes" : ", match=yes") + ", idx=" + (Tree(*r) ? "tree" : "list");
  if (!map) return out + ", pattern=\"" + e->pattern + "\"\n";
  const rules::MapValue* v = e->value.load(std::memory_order_relaxed);
  return out + ", key=\"" + e->pattern + "\", value=\"" + (v ? v->text : "") + "\", type=\"str\"\n";
}

std::string PatternCliControl::Add(uint32_t id, std::string_view key, std::string_view value,
                                   bool has_ver, uint32_t ver) {
  rulescp::PatRef* r = store_.Ref(id);
  if (!r) return "";
  if (has_ver && static_cast<int32_t>(ver - r->next_ver) > 0 &&
      static_cast<int32_t>(ver - r->curr_ver) > 0) {
    return std::string("Version number in the future, please use 'prepare ") +
           (r->map ? "map" : "acl") + "' before.\n";
  }
  auto ok = store_.Add(*r, key, value, has_ver, ver);
  if (!ok) return ok.error() + "\n";
  return "";
}

bool PatternCliControl::Delete(uint32_t id, std::string_view key_or_ref) {
  rulescp::PatRef* r = store_.Ref(id);
  auto ok = r ? store_.Delete(*r, key_or_ref) : base::Result<bool>(false);
  return ok && *ok;
}

bool PatternCliControl::Set(uint32_t id, std::string_view key_or_ref, std::string_view value) {
  rulescp::PatRef* r = store_.Ref(id);
  auto ok = r ? store_.Set(*r, key_or_ref, value) : base::Result<bool>(false);
  return ok && *ok;
}

void PatternCliControl::Clear(uint32_t id, bool has_ver, uint32_t ver) {
  if (rulescp::PatRef* r = store_.Ref(id)) store_.Clear(*r, has_ver, ver);
}

uint32_t PatternCliControl::Prepare(uint32_t id) {
  rulescp::PatRef* r = store_.Ref(id);
  return r ? store_.Prepare(*r) : 0;
}

std::string PatternCliControl::Commit(uint32_t id, uint32_t ver) {
  rulescp::PatRef* r = store_.Ref(id);
  if (!r) return "";
  auto ok = store_.Commit(*r, ver);
  if (!ok || !*ok) return "Version number out of range.\n";
  return "";
}

uint64_t PatternCliControl::Flush() { return sync_ ? sync_->Flush() : 0; }

bool PatternCliControl::Applied(uint64_t seq) { return !sync_ || sync_->Acked() >= seq; }

}  // namespace sluice::app
