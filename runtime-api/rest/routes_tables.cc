// Slow path. The REST resources of stick tables and TLS (docs/rest-api.md): tables and their
// entries (queried with HAProxy's filters, set, cleared), session-ticket keys (listed and
// rotated), certificates (listed, shown, replaced, created, deleted) and OCSP responses.
// Each runs the stats socket's own command.
#include "runtime-api/protocol/protocol.h"
#include "runtime-api/rest/router.h"

namespace sluice::cli::rest {
namespace {

// A number when the text is one, else the text.
Json Scalar(std::string_view v) {
  if (!v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string_view::npos) {
    return std::stoull(std::string(v));
  }
  if (v.size() > 1 && v.size() < 19 && v[0] == '-' &&
      v.find_first_not_of("0123456789", 1) == std::string_view::npos) {
    return std::stoll(std::string(v));
  }
  return std::string(v);
}

// "# table: fe_main, type: ip, size:1048576, used:3"
Json TableHeader(std::string_view line) {
  Json t = Json::object();
  line.remove_prefix(2);
  while (!line.empty()) {
    const size_t sep = line.find(", ");
    std::string_view kv = line.substr(0, sep);
    line = sep == std::string_view::npos ? std::string_view() : line.substr(sep + 2);
    const size_t colon = kv.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view v = kv.substr(colon + 1);
    while (v.starts_with(' ')) v.remove_prefix(1);
    const std::string k(kv.substr(0, colon));
    t[k == "table" ? "name" : k] = Scalar(v);
  }
  return t;
}

Response TablesList(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    if (line.starts_with("# table: ")) items.push_back(TableHeader(line));
  }
  return ListResponse(req, std::move(items));
}

std::unique_ptr<Job> ListTables(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "table"}, "", {"# table:"}}}, &TablesList);
}

// "0x55..: key=127.0.0.1 use=0 exp=899921 gpt0=0 http_req_rate(10000)=5"
Response EntriesList(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    const size_t colon = line.find(": ");
    if (!line.starts_with("0x") || colon == std::string_view::npos) continue;
    Json e = {{"id", std::string(line.substr(0, colon))}};
    Json data = Json::object();
    for (const std::string& w : SplitWords(line.substr(colon + 2))) {
      const size_t eq = w.find('=');
      if (eq == std::string::npos) continue;
      const std::string k = w.substr(0, eq);
      const std::string_view v = std::string_view(w).substr(eq + 1);
      if (k == "key") {
        e["key"] = std::string(v);
      } else if (k == "use" || k == "exp" || k == "shard") {
        e[k] = Scalar(v);
      } else {
        data[k] = Scalar(v);
      }
    }
    e["data"] = std::move(data);
    items.push_back(std::move(e));
  }
  return ListResponse(req, std::move(items));
}

// The words `show|clear table` take after the name: `key K` or up to four `data.X op V`
// from ?key= and ?filter=data.X+op+V (repeatable).
bool FilterWords(const Request& req, std::vector<std::string>* words, Response* err) {
  for (const auto& [k, v] : req.query) {
    if (k == "key") {
      words->push_back("key");
      words->push_back(v);
    } else if (k == "filter") {
      const std::vector<std::string> f = SplitWords(v);
      if (f.size() != 3) {
        *err = ErrorResponse(400, "filter: 'data.<type> <eq|ne|le|ge|lt|gt> <value>'");
        return false;
      }
      words->insert(words->end(), f.begin(), f.end());
    }
  }
  return true;
}

std::unique_ptr<Job> GetEntries(const Request& req, const Params& params, Context& ctx) {
  Cmd c{{"show", "table", params[0]}, "", {"# table:"}};
  Response err;
  if (!FilterWords(req, &c.args, &err)) return Answer(std::move(err));
  return RunCommands(req, ctx, {std::move(c)}, &EntriesList);
}

std::unique_ptr<Job> ClearEntries(const Request& req, const Params& params, Context& ctx) {
  Cmd c{{"clear", "table", params[0]}, "", {}};
  Response err;
  if (!FilterWords(req, &c.args, &err)) return Answer(std::move(err));
  return RunCommands(req, ctx, {std::move(c)}, &NoContent);
}

std::unique_ptr<Job> DeleteEntry(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{{"clear", "table", params[0], "key", params[1]}, "", {}}},
                     &NoContent);
}

// PUT {"gpt0": 1, "gpc0": 5, ...}: `set table T key K data.gpt0 1 data.gpc0 5`.
std::unique_ptr<Job> SetEntry(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseBody(req, &err);
  if (!body) return Answer(std::move(err));
  if (!body->is_object() || body->empty()) {
    return Answer(ErrorResponse(400, "expected {\"<data type>\": <value>, ...}"));
  }
  Cmd c{{"set", "table", params[0], "key", params[1]}, "", {}};
  for (const auto& [k, v] : body->items()) {
    const std::optional<std::string> w = Word(v);
    if (!w) return Answer(ErrorResponse(400, k + ": a number"));
    c.args.push_back("data." + k);
    c.args.push_back(*w);
  }
  return RunCommands(req, ctx, {std::move(c)}, &NoContent);
}

// --- TLS ---

// "# id (file)\n0 (/etc/keys)\n" -> [{"id": 0, "file": "/etc/keys"}]
Response TicketFiles(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    const size_t sp = line.find(" (");
    if (line.starts_with("#") || sp == std::string_view::npos || !line.ends_with(")")) continue;
    items.push_back({{"id", Scalar(line.substr(0, sp))},
                     {"file", std::string(line.substr(sp + 2, line.size() - sp - 3))}});
  }
  return ListResponse(req, std::move(items));
}

std::unique_ptr<Job> ListTicketKeys(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "tls-keys"}, "", {"# id"}}}, &TicketFiles);
}

// "0.1 BASE64" lines -> {"id": 0, "keys": [...]} (oldest first; the middle one encrypts)
Response TicketKeys(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json keys = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    const size_t sp = line.find(' ');
    if (line.starts_with("#") || sp == std::string_view::npos) continue;
    keys.push_back(std::string(line.substr(sp + 1)));
  }
  return JsonResponse(200, {{"id", Scalar(req.params[0])}, {"keys", keys}});
}

std::unique_ptr<Job> GetTicketKeys(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "tls-keys", RefWord(params[0])}, "", {"# id"}}},
                     &TicketKeys);
}

// POST {"key": BASE64}: rotates the key in (set ssl tls-key).
std::unique_ptr<Job> RotateTicketKey(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseBody(req, &err);
  if (!body) return Answer(std::move(err));
  if (!body->is_object() || !body->contains("key") || !(*body)["key"].is_string()) {
    return Answer(ErrorResponse(400, "expected {\"key\": \"<base64>\"}"));
  }
  return RunCommands(req, ctx,
                     {{{"set", "ssl", "tls-key", RefWord(params[0]), (*body)["key"]},
                       "",
                       {"TLS ticket key updated!"}}},
                     &NoContent);
}

Response CertList(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    if (line.empty() || line.starts_with("#")) continue;
    items.push_back(std::string(line.starts_with("*") ? line.substr(1) : line));
  }
  return ListResponse(req, std::move(items));
}

std::unique_ptr<Job> ListCerts(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "ssl", "cert"}, "", {"#"}}}, &CertList);
}

// "Key: value" lines as an object.
Response CertDetails(const Request&, const std::vector<std::string>& texts, Context&) {
  Json j = Json::object();
  for (std::string_view line : TextLines(texts.back())) {
    const size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    j[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 2));
  }
  return JsonResponse(200, j);
}

std::unique_ptr<Job> GetCert(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "ssl", "cert", params[0]}, "", {"Filename:"}}},
                     &CertDetails);
}

// PUT with the new PEM as the body: set ssl cert, then commit ssl cert.
std::unique_ptr<Job> PutCert(const Request& req, const Params& params, Context& ctx) {
  if (req.body.find("-----BEGIN") == std::string::npos) {
    return Answer(ErrorResponse(400, "the body must be the PEM (certificate, chain and key)"));
  }
  std::string pem = req.body;
  // A payload ends at its first empty line: none inside.
  for (size_t p; (p = pem.find("\n\n")) != std::string::npos;) pem.erase(p, 1);
  if (!pem.ends_with('\n')) pem += '\n';
  return RunCommands(
      req, ctx,
      {{{"set", "ssl", "cert", params[0]}, pem, {"Transaction created", "Transaction updated"}},
       {{"commit", "ssl", "cert", params[0]}, "", {"Committing"}}},
      &NoContent);
}

std::unique_ptr<Job> NewCert(const Request& req, const Params&, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseBody(req, &err);
  if (!body) return Answer(std::move(err));
  if (!body->is_object() || !body->contains("name") || !(*body)["name"].is_string()) {
    return Answer(ErrorResponse(400, "expected {\"name\": \"<file>\"}"));
  }
  return RunCommands(
      req, ctx, {{{"new", "ssl", "cert", (*body)["name"]}, "", {"New empty certificate store"}}},
      &Created);
}

std::unique_ptr<Job> DeleteCert(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{{"del", "ssl", "cert", params[0]}, "", {"Certificate '"}}},
                     &NoContent);
}

Response OcspText(const Request&, const std::vector<std::string>& texts, Context&) {
  return JsonResponse(200, {{"text", texts.back()}});
}

std::unique_ptr<Job> GetOcsp(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "ssl", "ocsp-response"}, "", {"#", "Certificate ID"}}},
                     &OcspText);
}

// PUT with the base64 DER response as the body.
std::unique_ptr<Job> SetOcsp(const Request& req, const Params&, Context& ctx) {
  std::string b64 = req.body;
  while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.pop_back();
  if (b64.empty()) return Answer(ErrorResponse(400, "the body must be the base64 response"));
  return RunCommands(req, ctx,
                     {{{"set", "ssl", "ocsp-response"}, b64 + "\n", {"OCSP Response updated!"}}},
                     &NoContent);
}

constexpr RouteRow kRoutes[] = {
    {"GET", "/v1/stick_tables", &ListTables, "The stick tables, their size and use", true},
    {"GET", "/v1/stick_tables/{table}/entries", &GetEntries,
     "A table's entries (?key=, ?filter=data.X+op+V)", true},
    {"DELETE", "/v1/stick_tables/{table}/entries", &ClearEntries,
     "Remove entries (all, or ?key= / ?filter=)"},
    {"PUT", "/v1/stick_tables/{table}/entries/{key}", &SetEntry,
     "Create or update an entry's data (set table)"},
    {"DELETE", "/v1/stick_tables/{table}/entries/{key}", &DeleteEntry, "Remove an entry"},
    {"GET", "/v1/ssl/tls_keys", &ListTicketKeys, "The session-ticket key files (show tls-keys)",
     true},
    {"GET", "/v1/ssl/tls_keys/{id}", &GetTicketKeys, "A file's ticket keys"},
    {"POST", "/v1/ssl/tls_keys/{id}", &RotateTicketKey, "Rotate a new key in (set ssl tls-key)"},
    {"GET", "/v1/ssl/certs", &ListCerts, "The certificates (show ssl cert)", true},
    {"POST", "/v1/ssl/certs", &NewCert, "Create an empty certificate (new ssl cert)"},
    {"GET", "/v1/ssl/certs/{cert}", &GetCert, "A certificate's details"},
    {"PUT", "/v1/ssl/certs/{cert}", &PutCert, "Replace a certificate (set + commit ssl cert)"},
    {"DELETE", "/v1/ssl/certs/{cert}", &DeleteCert, "Delete an unused certificate"},
    {"GET", "/v1/ssl/ocsp", &GetOcsp, "The OCSP responses (show ssl ocsp-response)"},
    {"PUT", "/v1/ssl/ocsp", &SetOcsp, "Update an OCSP response (set ssl ocsp-response)"},
};

}  // namespace

std::span<const RouteRow> TableRoutes() { return kRoutes; }

}  // namespace sluice::cli::rest
