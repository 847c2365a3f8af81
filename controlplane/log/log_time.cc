// Slow path: date forms for log lines and syslog headers.
#include "controlplane/log/log_time.h"

#include <cstdio>

namespace sluice::log {

BrokenTime BreakTime(int64_t unix_us, bool local) {
  BrokenTime t;
  int64_t s = unix_us / 1000000;
  int64_t us = unix_us % 1000000;
  if (us < 0) {  // floor division for times before 1970
    us += 1000000;
    --s;
  }
  t.unix_s = s;
  t.us = static_cast<int>(us);
  const auto tt = static_cast<std::time_t>(s);
  if (local) {
    localtime_r(&tt, &t.tm);
    t.gmt_offset_s = t.tm.tm_gmtoff;
  } else {
    gmtime_r(&tt, &t.tm);
  }
  return t;
}

void AppendOffset(long gmt_offset_s, bool colon, std::string* out) {
  const char sign = gmt_offset_s < 0 ? '-' : '+';
  const long m = (gmt_offset_s < 0 ? -gmt_offset_s : gmt_offset_s) / 60;
  char buf[16];
  const int n = std::snprintf(buf, sizeof(buf), colon ? "%c%02ld:%02ld" : "%c%02ld%02ld", sign,
                              m / 60, m % 60);
  out->append(buf, static_cast<size_t>(n));
}

void AppendIsoTime(const BrokenTime& t, std::string* out) {
  char buf[96];
  const int n =
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06d", t.tm.tm_year + 1900,
                    t.tm.tm_mon + 1, t.tm.tm_mday, t.tm.tm_hour, t.tm.tm_min, t.tm.tm_sec, t.us);
  out->append(buf, static_cast<size_t>(n));
  AppendOffset(t.gmt_offset_s, true, out);
}

void AppendLegacyTime(const BrokenTime& t, std::string* out) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%s %2d %02d:%02d:%02d", kMonthNames[t.tm.tm_mon],
                              t.tm.tm_mday, t.tm.tm_hour, t.tm.tm_min, t.tm.tm_sec);
  out->append(buf, static_cast<size_t>(n));
}

void AppendLogDate(const BrokenTime& t, std::string* out) {
  char buf[80];
  const int n = std::snprintf(buf, sizeof(buf), "%02d/%s/%04d:%02d:%02d:%02d", t.tm.tm_mday,
                              kMonthNames[t.tm.tm_mon], t.tm.tm_year + 1900, t.tm.tm_hour,
                              t.tm.tm_min, t.tm.tm_sec);
  out->append(buf, static_cast<size_t>(n));
}

}  // namespace sluice::log
