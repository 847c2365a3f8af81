// Slow path. libmicrohttpd glue for the REST interface (rest_server.h).
#include "runtime-api/rest/rest_server.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "runtime-api/rest/router.h"

namespace sluice::cli {

struct RestServer::Listener {
  RestServer* server = nullptr;
  RestListenerConfig config;
  MHD_Daemon* daemon = nullptr;
  int epoll_fd = -1;
  // Checked credentials (user NUL password -> accepted), so that a client polling every
  // second costs one crypt(3) call, not one per request. Bounded: emptied when full.
  std::unordered_map<std::string, bool> checked;
  crypt_data crypt_state{};
};

struct RestServer::Exchange {
  Listener* listener = nullptr;
  Level level = Level::kUser;  // the caller's, once authenticated
  MHD_Connection* conn = nullptr;
  std::string uri;
  std::string body;
  bool headers_seen = false;
  bool too_large = false;
  std::unique_ptr<rest::Job> job;
  bool answered = false;
  bool suspended = false;
  rest::Response response;
};

namespace {

constexpr size_t kCheckedMax = 256;

// A streamed body: what is left of the first text, then the dump's records.
struct Stream {
  std::string pending;
  size_t sent = 0;
  std::unique_ptr<Dump> dump;
  bool done = false;
};

ssize_t ReadStream(void* cls, uint64_t, char* buf, size_t max) {
  auto* st = static_cast<Stream*>(cls);
  if (st->pending.size() - st->sent < max && !st->done) {
    st->pending.erase(0, st->sent);
    st->sent = 0;
    // Records up to `max` bytes in all; an empty buffer takes one record of any size.
    Writer w(st->pending, max);
    try {
      if (st->dump->Step(w) == DumpStatus::kDone) st->done = true;
    } catch (const std::exception&) {
      return MHD_CONTENT_READER_END_WITH_ERROR;  // never into libmicrohttpd's C frames
    }
  }
  const size_t n = std::min(max, st->pending.size() - st->sent);
  if (n == 0) return st->done ? MHD_CONTENT_READER_END_OF_STREAM : 0;
  std::memcpy(buf, st->pending.data() + st->sent, n);
  st->sent += n;
  return static_cast<ssize_t>(n);
}

void FreeStream(void* cls) { delete static_cast<Stream*>(cls); }

MHD_Result Queue(MHD_Connection* conn, rest::Response& r) {
  MHD_Response* resp = nullptr;
  if (r.stream) {
    auto* st = new Stream{std::move(r.body), 0, std::move(r.stream), false};
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, &ReadStream, st,
                                             &FreeStream);
    if (resp == nullptr) delete st;
  } else {
    resp = MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                           MHD_RESPMEM_MUST_COPY);
  }
  if (resp == nullptr) return MHD_NO;
  if (!r.content_type.empty()) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  }
  for (const auto& [k, v] : r.headers) MHD_add_response_header(resp, k.c_str(), v.c_str());
  const MHD_Result ret = MHD_queue_response(conn, static_cast<unsigned>(r.status), resp);
  MHD_destroy_response(resp);
  return ret;
}

Level LevelOf(const RestListenerConfig& cfg, const RestUser& u) {
  std::optional<Level> from_groups;
  for (const std::string& g : u.groups) {
    std::optional<Level> l;
    if (g == "user") l = Level::kUser;
    if (g == "operator") l = Level::kOperator;
    if (g == "admin") l = Level::kAdmin;
    if (l && (!from_groups || *l > *from_groups)) from_groups = l;
  }
  return std::min(from_groups.value_or(cfg.level), cfg.level);
}

}  // namespace

// The C callbacks, friends of RestServer.
struct RestCallbacks {
  static void* UriLog(void* cls, const char* uri, MHD_Connection* conn) {
    auto* ex = new RestServer::Exchange;
    ex->listener = static_cast<RestServer::Listener*>(cls);
    ex->conn = conn;
    ex->uri = uri != nullptr ? uri : "";
    return ex;
  }

  static void Completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    auto* ex = static_cast<RestServer::Exchange*>(*con_cls);
    if (ex == nullptr) return;
    auto& pending = static_cast<RestServer::Listener*>(cls)->server->pending_;
    pending.erase(std::remove(pending.begin(), pending.end(), ex), pending.end());
    delete ex;
    *con_cls = nullptr;
  }

  // The caller's level, or nullopt after queueing the 401.
  static std::optional<Level> Authenticate(RestServer::Listener& l, MHD_Connection* conn) {
    if (!l.config.auth) return l.config.level;
    char* pass = nullptr;
    char* user = MHD_basic_auth_get_username_password(conn, &pass);
    std::optional<Level> level;
    if (user != nullptr && pass != nullptr) {
      for (const RestUser& u : l.config.users) {
        if (u.name != user || !u.has_password) continue;
        std::string key = u.name;
        key.push_back('\0');
        key.append(pass);
        auto it = l.checked.find(key);
        bool ok;
        if (it != l.checked.end()) {
          ok = it->second;
        } else {
          if (u.insecure) {
            ok = u.password == pass;
          } else {
            const char* h = crypt_r(pass, u.password.c_str(), &l.crypt_state);
            ok = h != nullptr && h[0] != '*' && u.password == h;
          }
          if (l.checked.size() >= kCheckedMax) l.checked.clear();
          l.checked.emplace(std::move(key), ok);
        }
        if (ok) level = LevelOf(l.config, u);
        break;
      }
    }
    if (user != nullptr) MHD_free(user);
    if (pass != nullptr) MHD_free(pass);
    if (level) return level;
    const rest::Response r = rest::ErrorResponse(401, "authentication required");
    MHD_Response* resp = MHD_create_response_from_buffer(
        r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
    if (resp != nullptr) {
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
      MHD_queue_basic_auth_fail_response(conn, "Sluice", resp);
      MHD_destroy_response(resp);
    }
    return std::nullopt;
  }

  // A change asked by a page of another site (a browser sends its Origin): refused, so that
  // a browser holding Basic credentials for this listener cannot be made to use them.
  static bool CrossSite(MHD_Connection* conn, std::string_view method) {
    if (method == "GET" || method == "HEAD") return false;
    const char* origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (origin == nullptr) return false;
    const char* host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    std::string_view o(origin);
    const size_t scheme = o.find("://");
    return host == nullptr || scheme == std::string_view::npos || o.substr(scheme + 3) != host;
  }

  static MHD_Result Refuse(MHD_Connection* conn, int status, const std::string& text) {
    rest::Response r = rest::ErrorResponse(status, text);
    return Queue(conn, r);
  }

  // Before any body is read: the credentials, a declared body over the bound, the origin.
  static MHD_Result Headers(RestServer::Listener* l, MHD_Connection* conn, const char* method,
                            RestServer::Exchange* ex) {
    const std::optional<Level> level = Authenticate(*l, conn);
    if (!level) return MHD_YES;  // the 401 is queued
    ex->level = *level;
    const char* len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (len != nullptr && std::strtoull(len, nullptr, 10) > l->config.max_body) {
      ex->too_large = true;
      return Refuse(conn, 413,
                    "the body is larger than " + std::to_string(l->config.max_body) + " bytes");
    }
    if (CrossSite(conn, method)) return Refuse(conn, 403, "cross-site request refused");
    return MHD_YES;
  }

  static MHD_Result Access(void* cls, MHD_Connection* conn, const char*, const char* method,
                           const char*, const char* upload_data, size_t* upload_size,
                           void** con_cls) {
    auto* l = static_cast<RestServer::Listener*>(cls);
    auto* ex = static_cast<RestServer::Exchange*>(*con_cls);
    if (ex == nullptr) return MHD_NO;
    try {
      if (!ex->headers_seen) {
        ex->headers_seen = true;
        return Headers(l, conn, method, ex);
      }
      if (*upload_size > 0) {
        if (ex->body.size() + *upload_size > l->config.max_body) {
          ex->too_large = true;  // a chunked body: answered once it ended
        } else {
          ex->body.append(upload_data, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
      }
      if (ex->answered) return Queue(conn, ex->response);
      if (ex->job) return MHD_YES;  // resumed before its answer (cannot happen; harmless)
      if (ex->too_large) {
        return Refuse(conn, 413,
                      "the body is larger than " + std::to_string(l->config.max_body) + " bytes");
      }
      rest::Request req;
      req.method = method;
      req.level = ex->level;
      req.body = std::move(ex->body);
      if (const char* ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type")) {
        req.content_type = ct;
      }
      if (!rest::ParseTarget(ex->uri, &req)) return Refuse(conn, 400, "bad request target");
      rest::Context ctx{l->server->registry_, l->server->appliance_};
      ex->job = rest::Route(req, ctx);
      if (ex->job->Pump(&ex->response)) return Queue(conn, ex->response);
      MHD_suspend_connection(conn);
      ex->suspended = true;
      l->server->pending_.push_back(ex);
      return MHD_YES;
    } catch (const std::exception& e) {
      // Never into libmicrohttpd's C frames: the request gets a 500, the server goes on.
      return Refuse(conn, 500, std::string("internal error: ") + e.what());
    }
  }
};

RestServer::RestServer(ApplianceContext& appliance, const Registry& registry)
    : appliance_(appliance), registry_(registry) {}

RestServer::~RestServer() { Close(); }

base::Result<bool> RestServer::Listen(const RestListenerConfig& config) {
  auto l = std::make_unique<Listener>();
  l->server = this;
  l->config = config;
  sockaddr_storage ss{};
  const std::string where =
      (config.v6 ? "[" + config.address + "]" : config.address) + ":" + std::to_string(config.port);
  if (config.v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(config.port);
    if (inet_pton(AF_INET6, config.address.c_str(), &a->sin6_addr) != 1) {
      return base::Error{"stats rest: bad address " + where};
    }
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(config.port);
    if (inet_pton(AF_INET, config.address.c_str(), &a->sin_addr) != 1) {
      return base::Error{"stats rest: bad address " + where};
    }
  }
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
  if (config.v6) flags |= MHD_USE_IPv6;
  if (!config.cert_pem.empty()) flags |= MHD_USE_TLS;
  const unsigned timeout_s = std::max(1u, (config.timeout_ms + 999) / 1000);
  const char* pem = config.cert_pem.c_str();
  l->daemon = MHD_start_daemon(
      flags, config.port, nullptr, nullptr, &RestCallbacks::Access, l.get(), MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&ss), MHD_OPTION_URI_LOG_CALLBACK, &RestCallbacks::UriLog,
      l.get(), MHD_OPTION_NOTIFY_COMPLETED, &RestCallbacks::Completed, l.get(),
      MHD_OPTION_CONNECTION_LIMIT, config.maxconn, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
      config.cert_pem.empty() ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_KEY, pem,
      MHD_OPTION_HTTPS_MEM_CERT, pem, MHD_OPTION_END);
  if (l->daemon == nullptr) {
    return base::Error{"stats rest: cannot listen on " + where +
                       (config.cert_pem.empty() ? "" : " (or its crt is not usable by TLS)")};
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
  l->epoll_fd = info != nullptr ? info->epoll_fd : -1;
  listeners_.push_back(std::move(l));
  return true;
}

std::vector<int> RestServer::fds() const {
  std::vector<int> out;
  for (const auto& l : listeners_) out.push_back(l->epoll_fd);
  return out;
}

void RestServer::RunOnce() {
  // Pump the suspended requests; resume those answered (MHD_run then sends the answer).
  for (size_t i = 0; i < pending_.size();) {
    Exchange* ex = pending_[i];
    bool done = true;
    try {
      done = ex->job->Pump(&ex->response);
    } catch (const std::exception& e) {
      ex->response = rest::ErrorResponse(500, std::string("internal error: ") + e.what());
    }
    if (done) {
      ex->answered = true;
      ex->suspended = false;
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
      MHD_resume_connection(ex->conn);
    } else {
      ++i;
    }
  }
  for (const auto& l : listeners_) MHD_run(l->daemon);
}

int RestServer::NextTimeoutMs() const {
  int best = -1;
  for (const auto& l : listeners_) {
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(l->daemon, &ms) == MHD_YES) {
      const int v = static_cast<int>(std::min<MHD_UNSIGNED_LONG_LONG>(ms, 60000));
      if (best < 0 || v < best) best = v;
    }
  }
  return best;
}

void RestServer::Close() {
  // MHD stops a daemon only once its suspended connections are resumed.
  for (Exchange* ex : pending_) {
    ex->response = rest::ErrorResponse(503, "shutting down");
    ex->answered = true;
    MHD_resume_connection(ex->conn);
  }
  for (const auto& l : listeners_) {
    if (l->daemon != nullptr) MHD_stop_daemon(l->daemon);
  }
  listeners_.clear();
  pending_.clear();
}

}  // namespace sluice::cli
