// Slow path. The ACL and map commands (doc/management.txt; formats and errors as HAProxy 2.6
// answers them: ../shared/compat/haproxy-2.6/ transcripts 60-78, B0d, B0e):
//   show acl|map [[@<ver>] <ref>]   get acl|map <ref> <value>
//   add acl [@<ver>] <ref> <pattern>   add map [@<ver>] <ref> <key> <value> | <ref> <<payload
//   del acl|map <ref> <key>|#<ptr>    set map <ref> <key>|#<ptr> <value>
//   clear acl|map [@<ver>] <ref>      prepare acl|map <ref>      commit acl|map @<ver> <ref>
// A change answers once every worker has applied it, so the next request sees it.
#include <cinttypes>
#include <cstdio>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

constexpr size_t kEntriesPerStep = 256;

std::string Unknown(bool map) {
  return map ? "Unknown map identifier. Please use #<id> or <file>.\n"
             : "Unknown ACL identifier. Please use #<id> or <file>.\n";
}

// "@<ver>": the version, when the word is one.
bool Version(std::string_view w, uint32_t* ver) {
  if (w.size() < 2 || w[0] != '@') return false;
  const ParsedLong n = Strtol(w.substr(1));
  if (n.used != w.size() - 1 || n.value < 0) {
    *ver = 0;
    return false;
  }
  *ver = static_cast<uint32_t>(n.value);
  return true;
}

// An optional "@<ver>" at args[2]: where the reference's name is (2 or 3).
size_t VersionArg(const Call& call, bool* has_ver, uint32_t* ver) {
  if (Arg(call, 2).empty() || Arg(call, 2)[0] != '@') return 2;
  *has_ver = Version(Arg(call, 2), ver);
  return 3;
}

// Answers once the workers have applied the change (`seq`), with nothing or `text`.
class WaitApplied final : public Dump {
 public:
  WaitApplied(PatternControl* p, uint64_t seq, std::string text)
      : p_(p), seq_(seq), text_(std::move(text)) {}
  DumpStatus Step(Writer& out) override {
    if (!p_->Applied(seq_)) return DumpStatus::kWait;
    if (!text_.empty()) out.Force(text_);
    return DumpStatus::kDone;
  }

 private:
  PatternControl* p_;
  uint64_t seq_;
  std::string text_;
};

std::unique_ptr<Dump> Changed(PatternControl* p, std::string text = "") {
  return std::make_unique<WaitApplied>(p, p->Flush(), std::move(text));
}

class ListDump final : public Dump {
 public:
  ListDump(std::vector<PatternRefView> refs) : refs_(std::move(refs)) {}
  DumpStatus Step(Writer& out) override {
    if (!header_) {
      if (!out.Put("# id (file) description\n")) return DumpStatus::kMore;
      header_ = true;
    }
    for (; next_ < refs_.size(); ++next_) {
      const PatternRefView& r = refs_[next_];
      const std::string line = std::to_string(r.id) + " (" + r.file + ") " + r.description + "\n";
      if (!out.Put(line)) return DumpStatus::kMore;
    }
    return DumpStatus::kDone;
  }

 private:
  std::vector<PatternRefView> refs_;
  bool header_ = false;
  size_t next_ = 0;
};

class EntriesDump final : public Dump {
 public:
  EntriesDump(PatternControl* p, uint32_t id, bool has_ver, uint32_t ver, bool map)
      : p_(p), id_(id), has_ver_(has_ver), ver_(ver), map_(map) {}
  DumpStatus Step(Writer& out) override {
    for (;;) {
      for (; next_ < batch_.size(); ++next_) {
        const PatternEntryView& e = batch_[next_];
        char ptr[32];
        std::snprintf(ptr, sizeof ptr, "0x%" PRIxPTR " ", e.ref);
        std::string line = ptr + e.key;
        if (map_) line += " " + e.value;
        line += "\n";
        if (!out.Put(line)) return DumpStatus::kMore;
      }
      if (started_ && cursor_ == 0) return DumpStatus::kDone;
      started_ = true;
      batch_.clear();
      next_ = 0;
      p_->Entries(id_, has_ver_, ver_, &cursor_, kEntriesPerStep, &batch_);
      if (batch_.empty()) return DumpStatus::kDone;
    }
  }

 private:
  PatternControl* p_;
  uint32_t id_;
  bool has_ver_;
  uint32_t ver_;
  bool map_;
  bool started_ = false;
  uintptr_t cursor_ = 0;
  std::vector<PatternEntryView> batch_;
  size_t next_ = 0;
};

// The reference named by args[i] (after an optional @ver at args[i]); -1 with the error set.
int64_t RefArg(Call& call, PatternControl* p, size_t i, bool map) {
  const int64_t id = p ? p->Find(Arg(call, i), map) : -1;
  if (id < 0) call.Error(Unknown(map));
  return id;
}

std::unique_ptr<Dump> Show(Call& call, bool map) {
  PatternControl* p = call.appliance.Patterns();
  if (Arg(call, 2).empty()) {
    return std::make_unique<ListDump>(p ? p->List(map) : std::vector<PatternRefView>{});
  }
  uint32_t ver = 0;
  bool has_ver = false;
  const size_t i = VersionArg(call, &has_ver, &ver);
  const int64_t id = RefArg(call, p, i, map);
  if (id < 0) return nullptr;
  return std::make_unique<EntriesDump>(p, static_cast<uint32_t>(id), has_ver, ver, map);
}

std::unique_ptr<Dump> ShowAcl(Call& call) { return Show(call, false); }
std::unique_ptr<Dump> ShowMap(Call& call) { return Show(call, true); }

std::unique_ptr<Dump> Get(Call& call, bool map) {
  if (Arg(call, 2).empty() || Arg(call, 3).empty()) {
    call.Error(map ? "Missing map identifier and/or key.\n"
                   : "Missing ACL identifier and/or key.\n");
    return nullptr;
  }
  PatternControl* p = call.appliance.Patterns();
  const int64_t id = RefArg(call, p, 2, map);
  if (id < 0) return nullptr;
  call.Message(p->Get(static_cast<uint32_t>(id), Arg(call, 3), map));
  return nullptr;
}

std::unique_ptr<Dump> GetAcl(Call& call) { return Get(call, false); }
std::unique_ptr<Dump> GetMap(Call& call) { return Get(call, true); }

std::unique_ptr<Dump> Add(Call& call, bool map) {
  PatternControl* p = call.appliance.Patterns();
  uint32_t ver = 0;
  bool has_ver = false;
  const size_t i = VersionArg(call, &has_ver, &ver);
  const bool payload = map && !call.payload.empty();
  const bool enough = map ? (payload ? !Arg(call, i).empty() : !Arg(call, i + 2).empty())
                          : !Arg(call, i + 1).empty();
  if (!enough) {
    call.Error(map ? "'add map' expects three parameters (map identifier, key and value) or one "
                     "parameter (map identifier) and a payload\n"
                   : "'add acl' expects two parameters: ACL identifier and pattern.\n");
    return nullptr;
  }
  const int64_t id = RefArg(call, p, i, map);
  if (id < 0) return nullptr;
  const auto ref = static_cast<uint32_t>(id);
  std::string err;
  if (payload) {
    // One `key value...` per line; the value is the rest of the line.
    std::string_view rest = call.payload;
    while (!rest.empty() && err.empty()) {
      const size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
        line.remove_suffix(1);
      }
      if (line.empty()) continue;
      const size_t sp = line.find_first_of(" \t");
      std::string_view key = line.substr(0, sp), value;
      if (sp != std::string_view::npos) {
        value = line.substr(sp);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
          value.remove_prefix(1);
        }
      }
      err = p->Add(ref, key, value, has_ver, ver);
    }
  } else {
    err = p->Add(ref, Arg(call, i + 1), map ? Arg(call, i + 2) : "", has_ver, ver);
  }
  if (!err.empty()) {
    p->Flush();  // what came before the bad line stays, as in HAProxy
    call.Error(err);
    return nullptr;
  }
  return Changed(p);
}

std::unique_ptr<Dump> AddAcl(Call& call) { return Add(call, false); }
std::unique_ptr<Dump> AddMap(Call& call) { return Add(call, true); }

std::unique_ptr<Dump> Del(Call& call, bool map) {
  PatternControl* p = call.appliance.Patterns();
  if (Arg(call, 3).empty()) {
    call.Error(map ? "This command expects two parameters: map identifier and key.\n"
                   : "This command expects two parameters: ACL identifier and key.\n");
    return nullptr;
  }
  const int64_t id = RefArg(call, p, 2, map);
  if (id < 0) return nullptr;
  if (!p->Delete(static_cast<uint32_t>(id), Arg(call, 3))) {
    call.Error("Key not found.\n");
    return nullptr;
  }
  return Changed(p);
}

std::unique_ptr<Dump> DelAcl(Call& call) { return Del(call, false); }
std::unique_ptr<Dump> DelMap(Call& call) { return Del(call, true); }

std::unique_ptr<Dump> SetMap(Call& call) {
  PatternControl* p = call.appliance.Patterns();
  if (Arg(call, 4).empty()) {
    call.Error("'set map' expects three parameters: map identifier, key and value.\n");
    return nullptr;
  }
  const int64_t id = RefArg(call, p, 2, true);
  if (id < 0) return nullptr;
  const std::string_view key = Arg(call, 3);
  if (!p->Set(static_cast<uint32_t>(id), key, Arg(call, 4))) {
    call.Error(key[0] == '#' ? "key or pattern not found.\n" : "entry not found.\n");
    return nullptr;
  }
  return Changed(p);
}

std::unique_ptr<Dump> Clear(Call& call, bool map) {
  PatternControl* p = call.appliance.Patterns();
  uint32_t ver = 0;
  bool has_ver = false;
  const size_t i = VersionArg(call, &has_ver, &ver);
  if (Arg(call, i).empty()) {
    call.Error(map ? "Missing map identifier.\n" : "Missing ACL identifier.\n");
    return nullptr;
  }
  const int64_t id = RefArg(call, p, i, map);
  if (id < 0) return nullptr;
  p->Clear(static_cast<uint32_t>(id), has_ver, ver);
  return Changed(p);
}

std::unique_ptr<Dump> ClearAcl(Call& call) { return Clear(call, false); }
std::unique_ptr<Dump> ClearMap(Call& call) { return Clear(call, true); }

std::unique_ptr<Dump> Prepare(Call& call, bool map) {
  PatternControl* p = call.appliance.Patterns();
  const int64_t id = RefArg(call, p, 2, map);
  if (id < 0) return nullptr;
  call.Message("New version created: " + std::to_string(p->Prepare(static_cast<uint32_t>(id))) +
               "\n");
  return nullptr;
}

std::unique_ptr<Dump> PrepareAcl(Call& call) { return Prepare(call, false); }
std::unique_ptr<Dump> PrepareMap(Call& call) { return Prepare(call, true); }

std::unique_ptr<Dump> Commit(Call& call, bool map) {
  PatternControl* p = call.appliance.Patterns();
  uint32_t ver = 0;
  if (!Version(Arg(call, 2), &ver) && (Arg(call, 2).empty() || Arg(call, 2)[0] != '@')) {
    call.Error("Missing version number.\n");
    return nullptr;
  }
  const int64_t id = RefArg(call, p, 3, map);
  if (id < 0) return nullptr;
  const std::string err = p->Commit(static_cast<uint32_t>(id), ver);
  if (!err.empty()) {
    call.Error(err);
    return nullptr;
  }
  return Changed(p);
}

std::unique_ptr<Dump> CommitAcl(Call& call) { return Commit(call, false); }
std::unique_ptr<Dump> CommitMap(Call& call) { return Commit(call, true); }

constexpr CommandRow kPatternCommands[] = {
    {{"show", "acl"},
     Level::kOperator,
     &ShowAcl,
     "show acl [@<ver>] <acl>]",
     "report available acls or dump an acl's contents"},
    {{"get", "acl"},
     Level::kOperator,
     &GetAcl,
     "get acl <acl> <value>",
     "report the patterns matching a sample for an ACL"},
    {{"add", "acl"},
     Level::kAdmin,
     &AddAcl,
     "add acl [@<ver>] <acl> <pattern>",
     "add an acl entry"},
    {{"del", "acl"},
     Level::kAdmin,
     &DelAcl,
     "del acl <acl> [<key>|#<ref>]",
     "delete acl entries matching <key>"},
    {{"clear", "acl"},
     Level::kAdmin,
     &ClearAcl,
     "clear acl [@<ver>] <acl>",
     "clear the contents of this acl"},
    {{"prepare", "acl"},
     Level::kAdmin,
     &PrepareAcl,
     "prepare acl <acl>",
     "prepare a new version for atomic ACL replacement"},
    {{"commit", "acl"},
     Level::kAdmin,
     &CommitAcl,
     "commit acl @<ver> <acl>",
     "commit the ACL at this version"},
    {{"show", "map"},
     Level::kOperator,
     &ShowMap,
     "show map [@ver] [map]",
     "report available maps or dump a map's contents"},
    {{"get", "map"},
     Level::kOperator,
     &GetMap,
     "get map <acl> <value>",
     "report the keys and values matching a sample for a map"},
    {{"add", "map"},
     Level::kAdmin,
     &AddMap,
     "add map [@<ver>] <map> <key> <val>",
     "add a map entry (payload supported instead of key/val)"},
    {{"del", "map"},
     Level::kAdmin,
     &DelMap,
     "del map <map> [<key>|#<ref>]",
     "delete map entries matching <key>"},
    {{"set", "map"},
     Level::kAdmin,
     &SetMap,
     "set map <map> [<key>|#<ref>] <value>",
     "modify a map entry"},
    {{"clear", "map"},
     Level::kAdmin,
     &ClearMap,
     "clear map [@<ver>] <map>",
     "clear the contents of this map"},
    {{"prepare", "map"},
     Level::kAdmin,
     &PrepareMap,
     "prepare map <acl>",
     "prepare a new version for atomic map replacement"},
    {{"commit", "map"},
     Level::kAdmin,
     &CommitMap,
     "commit map @<ver> <map>",
     "commit the map at this version"},
};

}  // namespace

std::span<const CommandRow> PatternCommands() { return kPatternCommands; }

}  // namespace sluice::cli
