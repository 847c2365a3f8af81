// Slow path. The OpenAPI 3 document of the REST interface, generated from the route tables
// so that it cannot drift from what the router answers (router.h).
#include "runtime-api/rest/router.h"

namespace sluice::cli::rest {
namespace {

// Bodies that are not JSON: a certificate's PEM, an OCSP response in base64.
bool TextBody(std::string_view pattern) {
  return pattern == "/v1/ssl/certs/{cert}" || pattern == "/v1/ssl/ocsp";
}

// The Data Plane API paths name their backend or map in the query.
std::string_view RequiredQuery(std::string_view pattern) {
  if (pattern.starts_with("/v2/services/haproxy/runtime/servers")) return "backend";
  if (pattern.starts_with("/v2/services/haproxy/runtime/maps_entries")) return "map";
  return "";
}

Json Responses(std::string_view method, std::string_view pattern) {
  const Json error = {
      {"description", "An error: {\"error\": TEXT, \"code\": STATUS[, \"command\": CMD]}"},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  Json r = Json::object();
  if (pattern == "/stats") {
    if (method == "POST") {
      r["303"] = {{"description", "Done: Location is the page with ;st=DONE|PART|NONE|ERRP|DENY"}};
    } else {
      r["200"] = {{"description", "The page (HTML), or ;csv / ;json exports"},
                  {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}};
    }
    return r;
  }
  if (pattern.ends_with("metrics")) {
    r["200"] = {{"description", "Prometheus text format 0.0.4"},
                {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
    r["400"] = {{"description", "unknown scope"}};
    return r;
  }
  if (method == "GET" || pattern == "/v1/command" || pattern.ends_with("/servers/{server}") ||
      pattern == "/v1/frontends/{frontend}") {
    r["200"] = {{"description", "OK"},
                {"content", {{"application/json", {{"schema", Json::object()}}}}}};
  } else if (method == "POST" && !pattern.ends_with("{id}")) {
    r["201"] = {{"description", "Created"}};
  } else {
    r["204"] = {{"description", "Done"}};
  }
  r["400"] = error;
  r["401"] = {{"description", "No or wrong credentials (Basic)"}};
  r["403"] = error;
  r["404"] = error;
  return r;
}

}  // namespace

std::string OpenApiDocument() {
  Json paths = Json::object();
  for (const RouteRow* row : AllRoutes()) {
    const std::string pattern(row->pattern);
    Json op = {{"summary", std::string(row->summary)},
               {"responses", Responses(row->method, row->pattern)}};
    Json params = Json::array();
    for (size_t open = pattern.find('{'); open != std::string::npos;
         open = pattern.find('{', open + 1)) {
      const size_t close = pattern.find('}', open);
      params.push_back({{"name", pattern.substr(open + 1, close - open - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (const std::string_view q = RequiredQuery(row->pattern); !q.empty()) {
      params.push_back({{"name", std::string(q)},
                        {"in", "query"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (row->list) {
      for (const char* q : {"offset", "limit"}) {
        params.push_back({{"name", q}, {"in", "query"}, {"schema", {{"type", "integer"}}}});
      }
    }
    if (!params.empty()) op["parameters"] = params;
    if (row->method == "POST" || row->method == "PUT") {
      const char* type = row->pattern == "/stats" ? "application/x-www-form-urlencoded"
                         : TextBody(row->pattern) ? "text/plain"
                                                  : "application/json";
      op["requestBody"] = {{"required", true}, {"content", {{type, {{"schema", Json::object()}}}}}};
    }
    std::string method(row->method);
    for (char& c : method) c = static_cast<char>(c - 'A' + 'a');
    paths[pattern][method] = op;
  }
  const Json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Sluice REST interface"},
        {"version", "1"},
        {"description",
         "The stats socket's operations over HTTP (docs/rest-api.md). Every change runs the "
         "stats socket's own command; errors carry its text."}}},
      {"paths", paths},
      {"components",
       {{"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error", "code"}},
            {"properties",
             {{"error", {{"type", "string"}}},
              {"code", {{"type", "integer"}}},
              {"command", {{"type", "string"}}}}}}}}},
        {"securitySchemes", {{"basic", {{"type", "http"}, {"scheme", "basic"}}}}}}},
      {"security", Json::array({{{"basic", Json::array()}}})},
  };
  return doc.dump(2) + "\n";
}

}  // namespace sluice::cli::rest
