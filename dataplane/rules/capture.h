// A stream's captures (HAProxy's req_cap / res_cap, configuration.txt 4.2 `capture request
// header`, `declare capture`, `http-request capture`, and 8.2.3's %hr / %hs): one bounded
// block per stream holding each slot's length and bytes. Request slot i is entry i, response
// slot i is entry kMaxCaptures + i; the bytes of a slot are at its CaptureSlot::off. Nothing
// here allocates; the block is the proxy's (an mbuf taken for the stream).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::rules {

inline constexpr uint32_t kMaxCaptures = 16;   // slots per direction of a frontend
inline constexpr uint32_t kCaptureBytes = 1024;  // the bytes of all of a frontend's slots
inline constexpr uint16_t kNotCaptured = 0xffff;
inline constexpr uint32_t kCaptureLens = 2 * kMaxCaptures * sizeof(uint16_t);
// `capture cookie NAME len N` (%CC %CS): after the slots, the request's and the response's
// "name=value", each a length byte (0xff: none) and at most kCookieCaptureBytes (HAProxy's
// CAPTURE_LEN less one).
inline constexpr uint32_t kCookieCaptureBytes = 63;
inline constexpr uint32_t kCookieCaptures = kCaptureLens + kCaptureBytes;
inline constexpr uint32_t kCaptureBlock = kCookieCaptures + 2 * (1 + kCookieCaptureBytes);

// Every slot empty (HAProxy: nothing captured, "-" or "" in logs), the cookies too.
inline void ClearCaptures(uint8_t* block) noexcept {
  std::memset(block, 0xff, kCaptureLens);
  block[kCookieCaptures] = 0xff;
  block[kCookieCaptures + 1 + kCookieCaptureBytes] = 0xff;
}

// The cookie capture of a direction: its bytes, written by the caller (at most
// kCookieCaptureBytes), and its length byte.
inline uint8_t* CookieCapture(uint8_t* block, bool response) noexcept {
  return block + kCookieCaptures + (response ? 1 + kCookieCaptureBytes : 0);
}
inline bool GetCookieCapture(const uint8_t* block, bool response, std::string_view* out) noexcept {
  if (!block) return false;
  const uint8_t* c = block + kCookieCaptures + (response ? 1 + kCookieCaptureBytes : 0);
  if (c[0] > kCookieCaptureBytes) return false;
  *out = std::string_view(reinterpret_cast<const char*>(c + 1), c[0]);
  return true;
}

// Slot `entry` takes `v`, cut to `cap` bytes (a later capture of the slot replaces it).
inline void PutCapture(uint8_t* block, uint32_t entry, uint16_t off, uint16_t cap,
                       std::string_view v) noexcept {
  const uint16_t n = v.size() < cap ? static_cast<uint16_t>(v.size()) : cap;
  if (entry >= 2 * kMaxCaptures || off + n > kCaptureBytes) return;
  if (n) std::memcpy(block + kCaptureLens + off, v.data(), n);
  std::memcpy(block + entry * sizeof(uint16_t), &n, sizeof n);
}

// The value of slot `entry`: false when nothing was captured.
inline bool GetCapture(const uint8_t* block, uint32_t entry, uint16_t off,
                       std::string_view* out) noexcept {
  if (!block || entry >= 2 * kMaxCaptures) return false;
  uint16_t n = 0;
  std::memcpy(&n, block + entry * sizeof(uint16_t), sizeof n);
  if (n == kNotCaptured || off + n > kCaptureBytes) return false;
  *out = std::string_view(reinterpret_cast<const char*>(block) + kCaptureLens + off, n);
  return true;
}

}  // namespace sluice::rules
