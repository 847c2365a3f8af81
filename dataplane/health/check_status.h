// Health-check outcomes: HAProxy's enum healthcheck_status, with its numbers, which
// `show servers state` prints in srv_check_status (observed: L4CON 8, L7OK 15). One type from
// the worker that runs a check (dataplane/check) to the Runtime API's views; the names and
// descriptions are the Runtime API's (runtime-api/commands/proxy_view.h, GetCheckStatusInfo).
#pragma once

#include <cstdint>

namespace sluice::check {

enum class CheckStatus : uint8_t {
  kUnknown = 0,    // UNK
  kIni = 1,        // INI: no check completed yet
  kStart = 2,      // haproxy-internal
  kChecked = 3,    // CHECKED
  kHana = 4,       // HANA
  kSockErr = 5,    // SOCKERR
  kL4Ok = 6,       // L4OK: the TCP connection was accepted
  kL4Tout = 7,     // L4TOUT
  kL4Con = 8,      // L4CON: refused or unreachable
  kL6Ok = 9,       // L6OK
  kL6Tout = 10,    // L6TOUT
  kL6Rsp = 11,     // L6RSP
  kL7Tout = 12,    // L7TOUT
  kL7Rsp = 13,     // L7RSP
  kL57Data = 14,   // haproxy-internal: statuses from here on carry a code
  kL7Ok = 15,      // L7OK
  kL7OkC = 16,     // L7OKC
  kL7Sts = 17,     // L7STS
  kProcErr = 18,   // PROCERR
  kProcTout = 19,  // PROCTOUT
  kProcOk = 20,    // PROCOK
};

// Why an HTTP check's answer was refused beyond its status (HAProxy's last_chk words).
enum class CheckDetail : uint8_t {
  kNone = 0,
  kContentMismatch = 1,  // "HTTP content check did not match"
  kUnwantedContent = 2,  // "HTTP check matched unwanted content"
  kNoBody = 3,           // "HTTP content check could not find a response body"
};

}  // namespace sluice::check
