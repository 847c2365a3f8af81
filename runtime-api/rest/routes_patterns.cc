// Slow path. The REST resources of ACLs and maps (docs/rest-api.md): the references, their
// entries (one, or many at once), lookups, and versions as transactions (prepare, add to the
// new version, commit). Each change runs the stats socket's acl/map command, so it answers
// once every worker has applied it.
//
// {acl} and {map} are a reference's id ("5" for #5) or its file, URL-encoded
// ("%2Fetc%2Fsluice%2Fcountry.map").
#include <cstdlib>

#include "runtime-api/protocol/protocol.h"
#include "runtime-api/rest/router.h"

namespace sluice::cli::rest {
namespace {

template <bool kMap>
constexpr const char* Kind() {
  return kMap ? "map" : "acl";
}

template <bool kMap>
std::unique_ptr<Job> ListRefs(const Request& req, const Params&, Context& ctx) {
  Json items = Json::array();
  if (PatternControl* pc = ctx.appliance.Patterns()) {
    for (const PatternRefView& r : pc->List(kMap)) {
      items.push_back(
          {{"id", r.id}, {"file", r.file}, {"entries", r.entries}, {"description", r.description}});
    }
  }
  return Answer(ListResponse(req, std::move(items)));
}

// `show map|acl` entry lines: "0x55d0 key value" (maps), "0x55d0 pattern" (ACLs).
template <bool kMap>
Response EntriesList(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  const std::string* want = QueryValue(req, kMap ? "key" : "value");
  for (std::string_view line : TextLines(texts.back())) {
    const size_t sp = line.find(' ');
    if (!line.starts_with("0x") || sp == std::string_view::npos) continue;
    Json e = kMap ? MapEntryJson(line)
                  : Json{{"id", std::string(line.substr(0, sp))},
                         {"value", std::string(line.substr(sp + 1))}};
    if (want != nullptr && e[kMap ? "key" : "value"] != *want) continue;
    items.push_back(std::move(e));
  }
  return ListResponse(req, std::move(items));
}

// The words before the reference: "@<ver>" for a version's resources.
std::vector<std::string> Versioned(std::vector<std::string> words, const Params& p) {
  if (p.size() > 1) words.push_back("@" + p[1]);
  words.push_back(RefWord(p[0]));
  return words;
}

template <bool kMap>
std::unique_ptr<Job> GetEntries(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{Versioned({"show", Kind<kMap>()}, params), "", {"0x"}}},
                     &EntriesList<kMap>);
}

// One entry from a JSON object: {"key": K, "value": V} (maps) or {"value": PATTERN} (ACLs).
template <bool kMap>
bool EntryWords(const Json& e, std::vector<std::string>* words, std::string* err) {
  if (!e.is_object()) {
    *err = kMap ? "an entry is {\"key\": ..., \"value\": ...}" : "an entry is {\"value\": ...}";
    return false;
  }
  for (const char* field : {"key", "value"}) {
    if (!kMap && field == std::string_view("key")) continue;
    if (!e.contains(field) || !Word(e[field])) {
      *err = std::string("entry: '") + field + "' must be a string";
      return false;
    }
    words->push_back(*Word(e[field]));
  }
  return true;
}

// POST an entry or an array of entries. Map entries without blanks go as one command with a
// payload (HAProxy's bulk form, one line each); others, and ACL patterns (`add acl` takes
// no payload), one command each.
template <bool kMap>
std::unique_ptr<Job> AddEntries(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseBody(req, &err);
  if (!body) return Answer(std::move(err));
  const Json entries = body->is_array() ? *body : Json::array({*body});
  if (entries.empty()) return Answer(ErrorResponse(400, "no entry"));
  const std::vector<std::string> prefix = Versioned({"add", Kind<kMap>()}, params);
  std::vector<Cmd> cmds;
  std::string payload;
  for (const Json& e : entries) {
    std::vector<std::string> words;
    std::string why;
    if (!EntryWords<kMap>(e, &words, &why)) return Answer(ErrorResponse(400, why));
    bool blank = false;
    for (const std::string& w : words) blank = blank || w.find_first_of(" \t\n\r") != w.npos;
    if (!kMap || blank || words[0].empty()) {  // `add acl` takes no payload
      Cmd c{prefix, "", {}};
      c.args.insert(c.args.end(), words.begin(), words.end());
      cmds.push_back(std::move(c));
    } else {
      payload.append(words[0]);
      if (kMap) payload.append(" ").append(words[1]);
      payload += '\n';
    }
  }
  if (!payload.empty()) cmds.insert(cmds.begin(), Cmd{prefix, std::move(payload), {}});
  return RunCommands(req, ctx, std::move(cmds), &Created);
}

// PUT {"value": V}: `set map REF KEY V`.
std::unique_ptr<Job> SetEntry(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseBody(req, &err);
  if (!body) return Answer(std::move(err));
  if (!body->is_object() || !body->contains("value") || !Word((*body)["value"])) {
    return Answer(ErrorResponse(400, "expected {\"value\": ...}"));
  }
  return RunCommands(
      req, ctx, {{{"set", "map", RefWord(params[0]), params[1], *Word((*body)["value"])}, "", {}}},
      &NoContent);
}

template <bool kMap>
std::unique_ptr<Job> DeleteEntry(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{{"del", Kind<kMap>(), RefWord(params[0]), params[1]}, "", {}}},
                     &NoContent);
}

template <bool kMap>
std::unique_ptr<Job> ClearEntries(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{Versioned({"clear", Kind<kMap>()}, params), "", {}}}, &NoContent);
}

// `get map|acl REF VALUE`: "type=..., case=..., found=yes, key=\"...\"" as an object.
Response MatchObject(const Request&, const std::vector<std::string>& texts, Context&) {
  Json j = Json::object();
  std::string_view t = texts.back();
  while (!t.empty() && (t.back() == '\n')) t.remove_suffix(1);
  while (!t.empty()) {
    const size_t sep = t.find(", ");
    const std::string_view kv = t.substr(0, sep);
    t = sep == std::string_view::npos ? std::string_view() : t.substr(sep + 2);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view v = kv.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    // HAProxy names the pattern's type and then the value's both "type".
    const std::string k(kv.substr(0, eq));
    j[j.contains(k) ? "value_" + k : k] = std::string(v);
  }
  return JsonResponse(200, j);
}

template <bool kMap>
std::unique_ptr<Job> Match(const Request& req, const Params& params, Context& ctx) {
  const std::string* v = QueryValue(req, "value");
  if (v == nullptr) return Answer(ErrorResponse(400, "expected ?value=..."));
  return RunCommands(req, ctx, {{{"get", Kind<kMap>(), RefWord(params[0]), *v}, "", {"type="}}},
                     &MatchObject);
}

Response VersionCreated(const Request&, const std::vector<std::string>& texts, Context&) {
  const std::string& t = texts.back();  // "New version created: 1"
  const size_t colon = t.find(':');
  const uint64_t v =
      colon == std::string::npos ? 0 : std::strtoull(t.c_str() + colon + 1, nullptr, 10);
  return JsonResponse(201, {{"version", v}});
}

template <bool kMap>
std::unique_ptr<Job> Prepare(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(
      req, ctx, {{{"prepare", Kind<kMap>(), RefWord(params[0])}, "", {"New version created:"}}},
      &VersionCreated);
}

template <bool kMap>
std::unique_ptr<Job> Commit(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{Versioned({"commit", Kind<kMap>()}, params), "", {}}}, &NoContent);
}

constexpr RouteRow kRoutes[] = {
    {"GET", "/v1/acls", &ListRefs<false>, "The ACLs' pattern references (show acl)", true},
    {"GET", "/v1/acls/{acl}/entries", &GetEntries<false>, "An ACL's patterns (?value= filters)",
     true},
    {"POST", "/v1/acls/{acl}/entries", &AddEntries<false>, "Add one pattern or an array"},
    {"DELETE", "/v1/acls/{acl}/entries", &ClearEntries<false>, "Remove every pattern"},
    {"DELETE", "/v1/acls/{acl}/entries/{value}", &DeleteEntry<false>, "Remove a pattern"},
    {"GET", "/v1/acls/{acl}/match", &Match<false>, "Look a sample up (get acl; ?value=)"},
    {"POST", "/v1/acls/{acl}/versions", &Prepare<false>, "Start a new version (prepare acl)"},
    {"GET", "/v1/acls/{acl}/versions/{version}/entries", &GetEntries<false>, "A version's patterns",
     true},
    {"POST", "/v1/acls/{acl}/versions/{version}/entries", &AddEntries<false>,
     "Add patterns to a version"},
    {"DELETE", "/v1/acls/{acl}/versions/{version}/entries", &ClearEntries<false>,
     "Empty a version"},
    {"PUT", "/v1/acls/{acl}/versions/{version}", &Commit<false>,
     "Make a version the current one (commit acl)"},
    {"GET", "/v1/maps", &ListRefs<true>, "The maps' references (show map)", true},
    {"GET", "/v1/maps/{map}/entries", &GetEntries<true>, "A map's entries (?key= filters)", true},
    {"POST", "/v1/maps/{map}/entries", &AddEntries<true>, "Add one entry or an array (bulk)"},
    {"DELETE", "/v1/maps/{map}/entries", &ClearEntries<true>, "Remove every entry"},
    {"PUT", "/v1/maps/{map}/entries/{key}", &SetEntry, "Change an entry's value (set map)"},
    {"DELETE", "/v1/maps/{map}/entries/{key}", &DeleteEntry<true>, "Remove an entry"},
    {"GET", "/v1/maps/{map}/match", &Match<true>, "Look a sample up (get map; ?value=)"},
    {"POST", "/v1/maps/{map}/versions", &Prepare<true>, "Start a new version (prepare map)"},
    {"GET", "/v1/maps/{map}/versions/{version}/entries", &GetEntries<true>, "A version's entries",
     true},
    {"POST", "/v1/maps/{map}/versions/{version}/entries", &AddEntries<true>,
     "Add entries to a version"},
    {"DELETE", "/v1/maps/{map}/versions/{version}/entries", &ClearEntries<true>, "Empty a version"},
    {"PUT", "/v1/maps/{map}/versions/{version}", &Commit<true>,
     "Make a version the current one (commit map)"},
};

}  // namespace

std::span<const RouteRow> PatternRoutes() { return kRoutes; }

}  // namespace sluice::cli::rest
