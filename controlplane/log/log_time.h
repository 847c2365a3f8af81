// Slow path: the date forms of log lines and syslog headers. Internal to controlplane/log.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace sluice::log {

// A unix time in microseconds, broken down in local time (or UTC).
struct BrokenTime {
  std::tm tm{};
  int64_t unix_s = 0;
  int us = 0;             // 0..999999
  long gmt_offset_s = 0;  // east of UTC
};

BrokenTime BreakTime(int64_t unix_us, bool local);

inline constexpr const char* kMonthNames[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// "+0100" (haproxy's %T and %Tl) or "+01:00" (ISO 8601).
void AppendOffset(long gmt_offset_s, bool colon, std::string* out);
// "2009-02-06T12:12:51.443000+01:00" (RFC 5424 section 6.2.3, local time).
void AppendIsoTime(const BrokenTime& t, std::string* out);
// "Feb  6 12:12:51" (RFC 3164 section 4.1.2).
void AppendLegacyTime(const BrokenTime& t, std::string* out);
// "06/Feb/2009:12:12:51" (haproxy's date_time, without the milliseconds).
void AppendLogDate(const BrokenTime& t, std::string* out);

}  // namespace sluice::log
