#include "controlplane/main/log_writer.h"
#include "dataplane/base/tls_facts.h"

#include <cstring>

#include "dataplane/net/addr_text.h"

namespace sluice::app {

namespace {

std::string AddrText(const uint8_t* a, bool v6, uint16_t port) {
  return port == 0 ? std::string() : net::ToString(net::FromBytes(a, v6));
}

}  // namespace

log::LogEvent ToEvent(const cp::ProxyRuntime& rt, const proxy::LogRecord& r,
                      int64_t worker_to_unix_us) {
  log::LogEvent e;
  e.client_ip = AddrText(r.client_addr, r.is_v6, r.client_port);
  e.client_port = r.client_port;
  e.frontend_ip = AddrText(r.front_addr, r.is_v6, r.front_port);
  e.frontend_port = r.front_port;
  if (r.frontend < rt.frontends().size()) e.frontend = rt.frontends()[r.frontend].name();
  if (r.ssl_version) {
    e.ssl_version = base::TlsVersionName(r.ssl_version);
    e.ssl_cipher.assign(r.ssl_cipher, strnlen(r.ssl_cipher, sizeof r.ssl_cipher));
  }
  e.backend = r.backend < rt.backends().size() ? rt.backends()[r.backend].name() : "<NONE>";
  e.server = r.server < rt.servers().size() ? rt.servers()[r.server].name() : "<NOSRV>";
  if (r.service) {  // answered by the proxy itself: HAProxy names the applet as the server
    if (r.backend >= rt.backends().size()) e.backend = e.frontend;
    e.server = r.service == 1 ? "<STATS>" : "<PROMEX>";
  }
  e.backend_src_ip = AddrText(r.local_addr, r.server_v6, r.local_port);
  e.backend_src_port = r.local_port;
  e.server_ip = AddrText(r.server_addr, r.server_v6, r.server_port);
  e.server_port = r.server_port;
  e.accept_unix_us = static_cast<int64_t>(r.accept_us) + worker_to_unix_us;
  e.tw_ms = r.tw_ms;
  e.tc_ms = r.tc_ms;
  e.tt_ms = r.tt_ms;
  e.bytes_read = r.bytes_read;
  e.bytes_uploaded = r.bytes_uploaded;
  e.term[0] = r.term_cause;
  e.term[1] = r.term_phase;
  e.actconn = r.actconn;
  e.feconn = r.feconn;
  e.beconn = r.beconn;
  e.srv_conn = r.srv_conn;
  e.retries = r.retries;
  e.redispatched = r.redispatched;
  e.srv_queue = r.srv_queue;
  e.backend_queue = r.backend_queue;
  if (r.http) {
    // HTTP: a request that never reached a backend is logged against its frontend.
    if (r.backend >= rt.backends().size()) e.backend = e.frontend;
    e.status = r.status;
    e.request_unix_us = static_cast<int64_t>(r.request_us) + worker_to_unix_us;
    e.ti_ms = r.ti_ms;
    e.treq_ms = r.treq_ms;
    e.tres_ms = r.tres_ms;
    e.ta_ms = r.ta_ms;
    e.request.assign(r.request, r.request_len < proxy::kLogRequestBytes ? r.request_len
                                                                        : proxy::kLogRequestBytes);
  }
  uint32_t off = 0;
  for (uint32_t k = 0; k < r.nsamples && k < proxy::kLogSamples; ++k) {
    const uint16_t len = r.sample_len[k];
    if (len == proxy::kLogSampleMissing || off + len > proxy::kLogSampleBytes) {
      e.samples.emplace_back(std::nullopt);
      continue;
    }
    e.samples.emplace_back(std::string(r.samples + off, len));
    off += len;
  }
  off = 0;
  for (const bool response : {false, true}) {
    const uint32_t n = response ? r.ncap_res : r.ncap_req;
    auto& out = response ? e.res_caps : e.req_caps;
    for (uint32_t k = 0; k < n && k < proxy::kLogCaptures; ++k) {
      const uint16_t len = r.cap_len[k + (response ? proxy::kLogCaptures : 0)];
      if (len == proxy::kLogSampleMissing || off + len > proxy::kLogCaptureBytes) {
        out.emplace_back(std::nullopt);
        continue;
      }
      out.emplace_back(std::string(r.caps + off, len));
      off += len;
    }
    const uint8_t clen = r.cookie_len[response];
    if (clen != proxy::kLogCookieMissing && clen <= proxy::kLogCookieBytes) {
      (response ? e.cookie_out : e.cookie_in).assign(r.cookies[response], clen);
    }
  }
  return e;
}

base::Result<int> LogWriter::AddTarget(const std::string& who, const std::string& line) {
  auto target = log::ParseLogTarget(line);
  if (!target) return base::Error{who + ": log " + line + ": " + target.error()};
  const int id = sinks_.Add(*target);
  if (id < 0) return base::Error{who + ": log " + line + ": " + sinks_.error()};
  return id;
}

void LogWriter::SendBackend(size_t b, uint8_t level, const std::string& msg, int64_t unix_us) {
  if (b >= backends_.size()) return;
  for (int id : backends_[b]) sinks_.Send(id, level, "sluice", msg, unix_us);
}

base::Result<bool> LogWriter::Init(const cp::ProxyRuntime& rt) {
  frontends_.clear();
  backends_.clear();
  for (const cp::BackendRt& b : rt.backends()) {
    std::vector<int> ids;
    for (const std::string& line : rt.LogTargets(*b.conf)) {
      auto id = AddTarget("backend " + b.name(), line);
      if (!id) return base::Error{id.error()};
      ids.push_back(*id);
    }
    backends_.push_back(std::move(ids));
  }
  for (const cp::FrontendRt& f : rt.frontends()) {
    FrontendLog fl;
    const std::string format = cp::ProxyRuntime::LogFormat(*f.conf);
    if (!format.empty()) {
      std::string error;
      fl.format = log::LogFormat::Compile(format, &error);
      if (!fl.format) return base::Error{"frontend " + f.name() + ": log-format: " + error};
    }
    for (const std::string& line : rt.LogTargets(*f.conf)) {
      auto id = AddTarget("frontend " + f.name(), line);
      if (!id) return base::Error{id.error()};
      fl.sinks.push_back(*id);
    }
    frontends_.push_back(std::move(fl));
  }
  return true;
}

void LogWriter::Drain(const cp::ProxyRuntime& rt, const std::vector<proxy::ProxyStats*>& stats,
                      int64_t worker_to_unix_us) {
  for (proxy::ProxyStats* st : stats) {
    proxy::LogRing& ring = st->log;
    uint64_t tail = ring.tail.load(std::memory_order_relaxed);
    const uint64_t head = ring.head.load(std::memory_order_acquire);
    for (; tail != head; ++tail) {
      const proxy::LogRecord& r = ring.records[tail & (proxy::kLogRingSize - 1)];
      if (r.frontend >= frontends_.size()) continue;
      const FrontendLog& fl = frontends_[r.frontend];
      if (fl.sinks.empty()) continue;
      const log::LogEvent e = ToEvent(rt, r, worker_to_unix_us);
      std::string msg;
      if (fl.format && !r.connect_only) {
        msg = fl.format->Render(e);
      } else {
        // HAProxy's default format (configuration.txt 8.2.1), at accept.
        msg = "Connect from " + e.client_ip + ":" + std::to_string(e.client_port) + " to " +
              e.frontend_ip + ":" + std::to_string(e.frontend_port) + " (" + e.frontend + "/TCP)";
      }
      const int64_t at_us = e.accept_unix_us + 1000 * static_cast<int64_t>(e.tt_ms);
      const uint8_t level = r.level <= 7 ? r.level : log::kLevelInfo;  // set-log-level
      for (int id : fl.sinks) sinks_.Send(id, level, "sluice", msg, at_us);
    }
    // The slots are free for the worker only once read.
    ring.tail.store(tail, std::memory_order_release);
  }
}

}  // namespace sluice::app
