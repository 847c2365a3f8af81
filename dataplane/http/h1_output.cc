// Writing HTTP/1.1 heads (h1_output.h).
#include "dataplane/http/h1_output.h"

namespace sluice::http {

void HeadWriter::Field(std::string_view name, std::string_view value, bool folded) noexcept {
  if (len_ + name.size() + value.size() + 4 > cap_) {
    overflow_ = true;
    return;
  }
  uint8_t* o = out_ + len_;
  for (const char c : name) *o++ = static_cast<uint8_t>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  *o++ = ':';
  *o++ = ' ';
  if (folded) {
    for (const char c : value) *o++ = static_cast<uint8_t>((c == '\r' || c == '\n') ? ' ' : c);
  } else {
    std::memcpy(o, value.data(), value.size());
    o += value.size();
  }
  *o++ = '\r';
  *o++ = '\n';
  len_ = static_cast<uint32_t>(o - out_);
}

void HeadWriter::StartLine(const uint8_t* head, const MessageHead& h, bool request) noexcept {
  if (request) {
    // Rebuilt with single spaces; the version as HAProxy writes it (1.0, else 1.1).
    Raw(h.method.In(head));
    Raw(" ");
    Raw(h.target.In(head));
    Raw(" ");
    if (h.version_text) {
      Raw(h.version.In(head));
    } else {
      Raw(h.minor == 0 ? "HTTP/1.0" : "HTTP/1.1");
    }
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
