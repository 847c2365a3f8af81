// The REST interface's router without HTTP (runtime-api/rest/router.h): request targets,
// routing (404, 405 with Allow, 403 for a user's change), bodies, pages, the generic command
// at each level, and the OpenAPI document listing every route.
#include <gtest/gtest.h>

#include "runtime-api/metrics/stats_page.h"
#include "runtime-api/rest/router.h"
#include "tests/unit/cli_test_support.h"

namespace sluice::cli::rest {
namespace {

class RestRouter : public ::testing::Test {
 protected:
  RestRouter() { RegisterAllCommands(registry_); }

  Response Call(std::string method, std::string target, std::string body = "",
                Level level = Level::kAdmin) {
    Request req;
    req.method = std::move(method);
    req.level = level;
    req.body = std::move(body);
    EXPECT_TRUE(ParseTarget(target, &req)) << target;
    Context ctx{registry_, appliance_};
    std::unique_ptr<Job> job = Route(req, ctx);
    Response r;
    for (int i = 0; i < 100 && !job->Pump(&r); ++i) {
    }
    return r;
  }

  Registry registry_;
  FakeAppliance appliance_;
};

TEST(RestTarget, DecodesPathAndQuery) {
  Request r;
  ASSERT_TRUE(ParseTarget("/v1/maps/%2Fetc%2Fa.map/entries?key=a+b&offset=2&flag#frag", &r));
  EXPECT_EQ(r.path, "/v1/maps//etc/a.map/entries");
  EXPECT_EQ(r.raw_path, "/v1/maps/%2Fetc%2Fa.map/entries");
  EXPECT_EQ(r.raw_query, "key=a+b&offset=2&flag");
  ASSERT_EQ(r.query.size(), 3u);
  EXPECT_EQ(r.query[0], (std::pair<std::string, std::string>{"key", "a b"}));
  EXPECT_EQ(r.query[2].first, "flag");
  EXPECT_FALSE(ParseTarget("v1/info", &r));
  EXPECT_FALSE(ParseTarget("/v1/%zz", &r));
  EXPECT_FALSE(ParseTarget("/v1/%00", &r));
  EXPECT_FALSE(ParseTarget("/v1/%4", &r));
}

TEST_F(RestRouter, UnknownPathsAndMethods) {
  Response r = Call("GET", "/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "{\"error\":\"unknown resource /v1/nothing\",\"message\":\"unknown resource "
            "/v1/nothing\",\"code\":404}\n");
  r = Call("DELETE", "/v1/frontends/fe");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, PUT"}));
  EXPECT_EQ(Call("GET", "/v1/info/").status, 404);  // no empty segment
  EXPECT_EQ(Call("GET", "/v1/frontends/").status, 404);
}

TEST_F(RestRouter, InfoAndHead) {
  Response r = Call("GET", "/v1/info");
  ASSERT_EQ(r.status, 200);
  const Json j = Json::parse(r.body);
  EXPECT_EQ(j["Name"], "HAProxy");  // the fake's
  EXPECT_EQ(j["Nbthread"], 2);      // a number, not a string
  EXPECT_EQ(Call("HEAD", "/v1/info").status, 200);
}

TEST_F(RestRouter, UserLevelChangesNothing) {
  Response r = Call("PUT", "/v1/frontends/fe", "{\"maxconn\": 5}", Level::kUser);
  EXPECT_EQ(r.status, 403);
  // The generic command is allowed: the command's own level decides.
  r = Call("POST", "/v1/command", "{\"command\": \"clear counters\"}", Level::kUser);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json::parse(r.body)["output"], "Permission denied\n");
  r = Call("POST", "/v1/command", "{\"command\": \"clear counters\"}", Level::kOperator);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(appliance_.cleared, 1);
}

TEST_F(RestRouter, BodiesAreChecked) {
  EXPECT_EQ(Call("PUT", "/v1/frontends/fe", "{oops").status, 400);
  EXPECT_EQ(Json::parse(Call("PUT", "/v1/frontends/fe", "3").body)["error"],
            "the body must be a JSON object or array");
  const Response r = Call("PUT", "/v1/frontends/fe", "{\"colour\": 1}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json::parse(r.body)["error"], "unknown field 'colour' (state, maxconn)");
  EXPECT_EQ(Call("POST", "/v1/command", "{\"command\": \"show info; show info\"}").status, 400);
  EXPECT_EQ(Call("POST", "/v1/command", "{\"command\": 5}").status, 400);
}

TEST_F(RestRouter, CommandErrorsCarryTheSocketsText) {
  // No proxies in the fake: HAProxy's answer with none configured.
  const Response r = Call("PUT", "/v1/backends/be/servers/s1", "{\"weight\": 3}");
  EXPECT_EQ(r.status, 404);
  const Json j = Json::parse(r.body);
  EXPECT_EQ(j["error"], "No such backend.");
  EXPECT_EQ(j["command"], "set server be/s1 weight 3");
  EXPECT_EQ(Call("GET", "/v1/maps/3/entries").status, 404);
  EXPECT_EQ(Json::parse(Call("POST", "/v1/command", "{\"command\": \"bogus\"}").body)["error"],
            true);
}

TEST(RestList, Pages) {
  Request req;
  ASSERT_TRUE(ParseTarget("/x?offset=2&limit=2", &req));
  Response r = ListResponse(req, Json::array({1, 2, 3, 4, 5}));
  EXPECT_EQ(r.body, "[3,4]\n");
  EXPECT_EQ(r.headers[0].second, "5");
  ASSERT_TRUE(ParseTarget("/x?offset=9&limit=-1", &req));
  EXPECT_EQ(ListResponse(req, Json::array({1, 2})).body, "[]\n");
}

TEST(RestStatus, FromTheCommandsText) {
  EXPECT_EQ(StatusForError("No such server."), 404);
  EXPECT_EQ(StatusForError("Unknown map identifier. Please use #<id> or <file>."), 404);
  EXPECT_EQ(StatusForError("Key not found."), 404);
  EXPECT_EQ(StatusForError("Permission denied"), 403);
  EXPECT_EQ(StatusForError("Unknown data type"), 400);
  EXPECT_EQ(StatusForError("'set ssl tls-key' received invalid base64 encoded TLS key."), 400);
}

TEST(RestOpenApi, ListsEveryRoute) {
  const Json doc = Json::parse(OpenApiDocument());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  size_t ops = 0;
  for (const auto& [path, methods] : doc["paths"].items()) ops += methods.size();
  EXPECT_EQ(ops, AllRoutes().size());
  EXPECT_TRUE(doc["paths"]["/v1/backends/{backend}/servers/{server}"].contains("put"));
  EXPECT_EQ(doc["paths"]["/v1/maps/{map}/entries"]["get"]["parameters"].size(), 3u);
}

TEST(StatsPage, UriOptions) {
  StatsUri u = ParseStatsUri("csv;norefresh", "");
  EXPECT_EQ(u.format, StatsUri::Format::kCsv);
  EXPECT_TRUE(u.norefresh);
  EXPECT_FALSE(u.hide_down);
  u = ParseStatsUri(";up;st=DONE;json", "scope=be%5Fapp&x=1");
  EXPECT_EQ(u.format, StatsUri::Format::kJson);
  EXPECT_TRUE(u.hide_down);
  EXPECT_EQ(u.status, "DONE");
  EXPECT_EQ(u.scope, "be_app");
}

TEST(StatsPage, AdminFormBecomesCommands) {
  ProxyView be;
  be.name = "be_app";
  be.iid = 4;
  be.has_backend = true;
  be.servers.resize(2);
  be.servers[0].name = "s1";
  be.servers[1].name = "s2";
  const std::vector<ProxyView> proxies{be};
  StatsAdminPlan plan = PlanStatsAdmin("s=s1&s=s2&action=drain&b=%234", proxies);
  ASSERT_EQ(plan.commands.size(), 2u);
  EXPECT_EQ(plan.commands[1],
            (std::vector<std::string>{"set", "server", "be_app/s2", "state", "drain"}));
  EXPECT_TRUE(plan.status.empty());
  plan = PlanStatsAdmin("s=s1&s=zz&action=shutdown&b=be_app", proxies);
  ASSERT_EQ(plan.commands.size(), 1u);
  EXPECT_EQ(plan.commands[0],
            (std::vector<std::string>{"shutdown", "sessions", "server", "be_app/s1"}));
  EXPECT_EQ(plan.status, "PART");
  EXPECT_EQ(PlanStatsAdmin("s=s1&action=explode&b=be_app", proxies).status, "ERRP");
  EXPECT_EQ(PlanStatsAdmin("s=s1&action=maint&b=%239", proxies).status, "ERRP");
  EXPECT_EQ(PlanStatsAdmin("action=maint&b=be_app", proxies).status, "NONE");
}

TEST(StatsPage, RendersTheProcessBlockAndEscapes) {
  FakeAppliance app;
  StatsPageOptions o;
  o.node = "<lb1>";
  o.refresh_s = 5;
  StatsUri u;
  u.status = "DENY";
  std::string page = RenderStatsPage(app, o, u);
  EXPECT_NE(page.find("<h3>&gt; General process information</h3>"), std::string::npos);
  EXPECT_NE(page.find("Statistics Report for HAProxy on &lt;lb1&gt;"), std::string::npos);
  EXPECT_NE(page.find("<meta http-equiv=\"refresh\" content=\"5\">"), std::string::npos);
  EXPECT_NE(page.find("[X]</a> Action denied.</div>"), std::string::npos);
  u.norefresh = true;
  page = RenderStatsPage(app, o, u);
  EXPECT_EQ(page.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_NE(page.find("Enable refresh"), std::string::npos);
}

}  // namespace
}  // namespace sluice::cli::rest
