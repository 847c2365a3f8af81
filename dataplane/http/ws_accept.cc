// WebSocket accept values (ws_accept.h).
#include "dataplane/http/ws_accept.h"

#include <openssl/evp.h>

namespace sluice::http {

namespace {
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 1.3
}  // namespace

WsAccept::~WsAccept() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

bool WsAccept::Init() noexcept {
  md_ = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  ctx_ = EVP_MD_CTX_new();
  return md_ && ctx_;
}

bool WsAccept::Compute(std::string_view key, char* out) noexcept {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx_ || EVP_DigestInit_ex(ctx_, md_, nullptr) != 1 ||
      EVP_DigestUpdate(ctx_, key.data(), key.size()) != 1 ||
      EVP_DigestUpdate(ctx_, kGuid.data(), kGuid.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, digest, &len) != 1 || len != 20) {
    return false;
  }
  unsigned char text[kWsAcceptLen + 1];  // EVP_EncodeBlock writes a NUL after the text
  if (EVP_EncodeBlock(text, digest, 20) != static_cast<int>(kWsAcceptLen)) return false;
  for (unsigned i = 0; i < kWsAcceptLen; ++i) out[i] = static_cast<char>(text[i]);
  return true;
}

}  // namespace sluice::http
