// The WebSocket handshake's answer (RFC 6455 section 4.2.2): Sec-WebSocket-Accept is the
// base64 of SHA-1(Sec-WebSocket-Key + the protocol's GUID). A proxy that lets a 101 through
// checks it, as HAProxy does (a wrong one is a 502): one per worker, its digest context made
// at start-up (OpenSSL allocates it; nothing is allocated per handshake).
#pragma once

#include <string_view>

struct evp_md_st;
struct evp_md_ctx_st;

namespace sluice::http {

inline constexpr unsigned kWsAcceptLen = 28;  // base64 of a 20-byte digest

class WsAccept {
 public:
  WsAccept() = default;
  WsAccept(const WsAccept&) = delete;
  WsAccept& operator=(const WsAccept&) = delete;
  ~WsAccept();
  bool Init() noexcept;  // start-up
  // The accept value for `key` (the request's Sec-WebSocket-Key, as sent) into out[28].
  bool Compute(std::string_view key, char* out) noexcept;

 private:
  evp_md_st* md_ = nullptr;
  evp_md_ctx_st* ctx_ = nullptr;
};

}  // namespace sluice::http
