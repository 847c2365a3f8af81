// What a TLS connection negotiated, as the sample fetches (ssl_fc_*) and the logs (%sslv,
// %sslc) read it. The TLS layer (dataplane/tls) fills it when the handshake ends; its strings
// are OpenSSL's and live as long as the connection. A plain struct here, below the modules
// that read it (rules, proxy) and the one that writes it (tls).
#pragma once

#include <cstdint>

namespace sluice::base {

struct TlsFacts {
  const char* sni = nullptr;     // the server name the client sent; null: none
  const char* cipher = nullptr;  // OpenSSL's name ("TLS_AES_256_GCM_SHA384")
  const uint8_t* alpn = nullptr;  // the protocol ALPN agreed on; null: none
  uint32_t alpn_len = 0;
  uint16_t version = 0;    // on the wire: 0x0304 TLS 1.3
  uint16_t cipher_id = 0;  // IANA's two bytes
  bool reused = false;     // the session was resumed
  // The client's certificate (bind `verify optional|required`): whether it sent one, the
  // verification's result (X509_V_OK 0), and its subject as "/C=FR/CN=name" written by the
  // TLS layer's function into `out` (at most `cap` bytes, NUL included): the length.
  bool client_cert = false;
  int32_t verify_result = 0;
  const void* peer = nullptr;
  uint32_t (*subject_dn)(const void* peer, char* out, uint32_t cap) = nullptr;
};

// HAProxy's (OpenSSL's) names of the versions: "TLSv1.3"; "unknown" for another.
inline const char* TlsVersionName(uint16_t v) {
  switch (v) {
    case 0x0300:
      return "SSLv3";
    case 0x0301:
      return "TLSv1";
    case 0x0302:
      return "TLSv1.1";
    case 0x0303:
      return "TLSv1.2";
    case 0x0304:
      return "TLSv1.3";
    default:
      return "unknown";
  }
}

}  // namespace sluice::base
