// Slow path: `userlist` sections (configuration.txt 3.4): `group NAME [users U1,U2...]` and
// `user NAME [password HASH | insecure-password TEXT] [groups G1,G2...]`, with HAProxy 2.6's
// messages (checked against Debian's haproxy 2.6.12). The users' names are checked once every
// section is read (a group may name a user written after it, and the other way round).
#include <crypt.h>

#include <memory>
#include <string>

#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

// The most groups a userlist may have (the workers keep a user's groups as a 64-bit mask).
constexpr size_t kMaxGroups = 64;

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= s.size()) {
    size_t to = s.find(',', from);
    if (to == std::string::npos) to = s.size();
    if (to > from) out.push_back(s.substr(from, to - from));
    from = to + 1;
  }
  return out;
}

// Whether crypt(3) knows the hash's method: it answers a failure token starting with '*'
// (or nothing) for one it does not.
bool CryptKnows(const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r("", hash.c_str(), data.get());
  return out != nullptr && out[0] != '*';
}

void Group(ParseContext& ctx, const KeywordRow&, const Args& args) {
  UserlistConfig& l = ctx.config.userlists.back();
  for (const auto& g : l.groups) {
    if (g.name == args[1]) {
      ctx.Warn("ignoring duplicated group '" + args[1] + "' in userlist '" + l.name + "'.");
      return;
    }
  }
  UserlistConfig::Group g;
  g.name = args[1];
  g.line = ctx.line;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (args[i] != "users" || i + 1 >= args.size()) {
      ctx.Alert("'group' only supports 'users' option.");
      return;
    }
    for (auto& u : SplitCommas(args[i + 1])) g.users.push_back(std::move(u));
  }
  if (l.groups.size() == kMaxGroups) {
    ctx.Alert("userlist '" + l.name + "' has more than " + std::to_string(kMaxGroups) +
              " groups: sluice keeps at most " + std::to_string(kMaxGroups) + ".");
    return;
  }
  l.groups.push_back(std::move(g));
}

void User(ParseContext& ctx, const KeywordRow&, const Args& args) {
  UserlistConfig& l = ctx.config.userlists.back();
  for (const auto& u : l.users) {
    if (u.name == args[1]) {
      ctx.Warn("ignoring duplicated user '" + args[1] + "' in userlist '" + l.name + "'.");
      return;
    }
  }
  UserlistConfig::User u;
  u.name = args[1];
  u.line = ctx.line;
  for (size_t i = 2; i < args.size(); i += 2) {
    const std::string& k = args[i];
    if ((k != "password" && k != "insecure-password" && k != "groups") || i + 1 >= args.size()) {
      ctx.Alert("'user' only supports 'password', 'insecure-password' and 'groups' options.");
      return;
    }
    if (k == "groups") {
      for (auto& g : SplitCommas(args[i + 1])) u.groups.push_back(std::move(g));
    } else {
      u.password = args[i + 1];
      u.insecure = k == "insecure-password";
      u.has_password = true;
    }
  }
  if (u.has_password && !u.insecure && !CryptKnows(u.password)) {
    ctx.Warn("the encrypted password used for user '" + u.name + "' is not supported by crypt(3).");
  }
  if (!u.has_password) {
    // HAProxy 2.6 takes it and crashes on the first attempt to authenticate as this user.
    ctx.Warn("user '" + u.name + "' in userlist '" + l.name +
             "' has no password: it never authenticates.");
  }
  l.users.push_back(std::move(u));
}

constexpr KeywordRow kUserlistKeywords[] = {
    {"group", Match::kExact, &Group, 1, -1, "<name> as arguments", ""},
    {"user", Match::kExact, &User, 1, -1, "<name> as arguments", ""},
};

}  // namespace

void EnterUserlist(ParseContext& ctx, const Args& args) {
  if (args.size() < 2) {
    ctx.Alert("'userlist' expects <name> as arguments.");
    ctx.section = Section::kSkipped;
    return;
  }
  for (const UserlistConfig& l : ctx.config.userlists) {
    if (l.name == args[1]) {
      ctx.Warn("ignoring duplicated userlist '" + args[1] + "'.");
      ctx.section = Section::kSkipped;
      return;
    }
  }
  UserlistConfig l;
  l.name = args[1];
  l.file = ctx.file;
  l.line = ctx.line;
  ctx.config.userlists.push_back(std::move(l));
  ctx.section = Section::kUserlist;
}

std::span<const KeywordRow> UserlistKeywords() { return kUserlistKeywords; }

void CheckUserlists(ParseContext& ctx) {
  for (const StatsRestConfig& r : ctx.config.global.stats_rest) {
    if (r.userlist.empty()) continue;
    bool found = false;
    for (const UserlistConfig& l : ctx.config.userlists) found = found || l.name == r.userlist;
    if (!found) {
      ctx.AddAt(Diagnostic::Severity::kAlert, r.file, r.line, "stats rest",
                "'stats rest' : unable to find userlist '" + r.userlist + "'.");
    }
  }
  for (const UserlistConfig& l : ctx.config.userlists) {
    for (const UserlistConfig::User& u : l.users) {
      for (const std::string& g : u.groups) {
        bool found = false;
        for (const auto& x : l.groups) found = found || x.name == g;
        if (!found) {
          ctx.AddAt(Diagnostic::Severity::kAlert, l.file, u.line, "user",
                    "userlist '" + l.name + "': no such group '" + g + "' specified in user '" +
                        u.name + "'");
        }
      }
    }
    for (const UserlistConfig::Group& g : l.groups) {
      for (const std::string& name : g.users) {
        bool found = false;
        for (const auto& x : l.users) found = found || x.name == name;
        if (!found) {
          ctx.AddAt(Diagnostic::Severity::kAlert, l.file, g.line, "group",
                    "userlist '" + l.name + "': no such user '" + name + "' specified in group '" +
                        g.name + "'");
        }
      }
    }
  }
}

}  // namespace sluice::config
