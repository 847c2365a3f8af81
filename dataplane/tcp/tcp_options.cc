#include "dataplane/tcp/tcp_options.h"

#include "dataplane/tcp/tcp_inl.h"

#include <cstring>

namespace sluice::tcp {

OptionsStatus ParseOptions(const uint8_t* p, size_t len, TcpOptions* out) noexcept {
  *out = TcpOptions{};
  if (len > kMaxOptionsLen) return OptionsStatus::kBadLength;
  size_t i = 0;
  while (i < len) {
    const uint8_t kind = p[i];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= len) return OptionsStatus::kTruncated;
    const uint8_t olen = p[i + 1];
    if (olen < 2) return OptionsStatus::kBadLength;
    if (i + olen > len) return OptionsStatus::kTruncated;
    const uint8_t* v = p + i + 2;
    switch (kind) {
      case kOptMss:
        if (olen != 4) return OptionsStatus::kBadLength;
        out->has_mss = true;
        out->mss = Ld16(v);
        break;
      case kOptWindowScale:
        if (olen != 3) return OptionsStatus::kBadLength;
        out->has_wscale = true;
        out->wscale = v[0] > kMaxWindowScale ? kMaxWindowScale : v[0];
        break;
      case kOptSackPermitted:
        if (olen != 2) return OptionsStatus::kBadLength;
        out->sack_permitted = true;
        break;
      case kOptTimestamp:
        if (olen != 10) return OptionsStatus::kBadLength;
        out->has_timestamp = true;
        out->ts_val = Ld32(v);
        out->ts_ecr = Ld32(v + 4);
        break;
      case kOptSack: {
        if (olen < 10 || (olen - 2) % 8 != 0) return OptionsStatus::kBadLength;
        const unsigned n = (olen - 2u) / 8u;
        for (unsigned b = 0; b < n && out->nsack < kMaxSackBlocks; ++b) {
          out->sack[out->nsack].left = Ld32(v + 8 * b);
          out->sack[out->nsack].right = Ld32(v + 8 * b + 4);
          ++out->nsack;
        }
        break;
      }
      default:
        break;  // unknown options are skipped (RFC 9293 section 3.1)
    }
    i += olen;
  }
  return OptionsStatus::kOk;
}

size_t BuildOptions(const TcpOptions& opt, uint8_t* out, size_t cap) noexcept {
  uint8_t buf[kMaxOptionsLen];
  size_t n = 0;
  if (opt.has_mss) {
    buf[n++] = kOptMss;
    buf[n++] = 4;
    St16(buf + n, opt.mss);
    n += 2;
  }
  if (opt.sack_permitted && !opt.has_timestamp) {
    buf[n++] = kOptNop;
    buf[n++] = kOptNop;
    buf[n++] = kOptSackPermitted;
    buf[n++] = 2;
  }
  if (opt.has_timestamp) {
    if (opt.sack_permitted) {
      buf[n++] = kOptSackPermitted;
      buf[n++] = 2;
    } else {
      buf[n++] = kOptNop;
      buf[n++] = kOptNop;
    }
    buf[n++] = kOptTimestamp;
    buf[n++] = 10;
    St32(buf + n, opt.ts_val);
    St32(buf + n + 4, opt.ts_ecr);
    n += 8;
  }
  if (opt.has_wscale) {
    buf[n++] = kOptNop;
    buf[n++] = kOptWindowScale;
    buf[n++] = 3;
    buf[n++] = opt.wscale > kMaxWindowScale ? kMaxWindowScale : opt.wscale;
  }
  if (opt.nsack > 0 && n + 2 + 2 + 8 <= kMaxOptionsLen) {
    const size_t room = (kMaxOptionsLen - n - 4) / 8;
    const size_t blocks = opt.nsack < room ? opt.nsack : room;
    buf[n++] = kOptNop;
    buf[n++] = kOptNop;
    buf[n++] = kOptSack;
    buf[n++] = static_cast<uint8_t>(2 + 8 * blocks);
    for (size_t b = 0; b < blocks; ++b) {
      St32(buf + n, opt.sack[b].left);
      St32(buf + n + 4, opt.sack[b].right);
      n += 8;
    }
  }
  while (n % 4 != 0) buf[n++] = kOptNop;
  if (n > cap) return 0;
  std::memcpy(out, buf, n);
  return n;
}

}  // namespace sluice::tcp
