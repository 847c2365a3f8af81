// Writing HTTP/1.1 heads (h1_output.h).
#include "dataplane/http/h1_output.h"

namespace sluice::http {

void HeadWriter::StartLine(const uint8_t* head, const MessageHead& h, bool request) noexcept {
  if (request) {
    Raw(h.method.In(head));
    Raw(" ");
    Raw(h.target.In(head));
    Raw(" ");
    Raw(h.version.In(head));
  } else {
    Raw(h.version.In(head));
    char buf[20];
    Raw(" ");
    Raw(Decimal(h.status, buf));
    Raw(" ");
    Raw(h.reason.In(head));
  }
  Raw("\r\n");
}

std::string_view Decimal(uint64_t v, char* buf) noexcept {
  char* end = buf + 20;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  return {p, static_cast<size_t>(end - p)};
}

}  // namespace sluice::http
