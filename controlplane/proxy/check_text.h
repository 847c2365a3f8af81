// Slow path. HAProxy's names and texts for health-check outcomes: the short status of
// `show stat` (check_status), its description (check_desc and the state-change log), and
// the extra info HAProxy adds ("Connection refused", "HTTP status check returned code").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/proxy/proxy_model.h"

namespace sluice::cp {

inline std::string_view CheckStatusName(proxy::CheckStatus s) {
  switch (s) {
    case proxy::CheckStatus::kNone:
      return "INI";
    case proxy::CheckStatus::kL4Ok:
      return "L4OK";
    case proxy::CheckStatus::kL4Tout:
      return "L4TOUT";
    case proxy::CheckStatus::kL4Con:
      return "L4CON";
    case proxy::CheckStatus::kL7Ok:
      return "L7OK";
    case proxy::CheckStatus::kL7Sts:
      return "L7STS";
    case proxy::CheckStatus::kL7Rsp:
      return "L7RSP";
    case proxy::CheckStatus::kL7Tout:
      return "L7TOUT";
    case proxy::CheckStatus::kSockErr:
      return "SOCKERR";
  }
  return "UNK";
}

inline std::string_view CheckStatusDesc(proxy::CheckStatus s) {
  switch (s) {
    case proxy::CheckStatus::kNone:
      return "Initializing";
    case proxy::CheckStatus::kL4Ok:
      return "Layer4 check passed";
    case proxy::CheckStatus::kL4Tout:
      return "Layer4 timeout";
    case proxy::CheckStatus::kL4Con:
      return "Layer4 connection problem";
    case proxy::CheckStatus::kL7Ok:
      return "Layer7 check passed";
    case proxy::CheckStatus::kL7Sts:
      return "Layer7 wrong status";
    case proxy::CheckStatus::kL7Rsp:
      return "Layer7 invalid response";
    case proxy::CheckStatus::kL7Tout:
      return "Layer7 timeout";
    case proxy::CheckStatus::kSockErr:
      return "Socket error";
  }
  return "Unknown";
}

inline std::string CheckStatusInfo(proxy::CheckStatus s, uint32_t code) {
  switch (s) {
    case proxy::CheckStatus::kL4Con:
      return "Connection refused";
    case proxy::CheckStatus::kL7Sts:
      return "HTTP status check returned code <" + std::to_string(code) + ">";
    default:
      return "";
  }
}

}  // namespace sluice::cp
