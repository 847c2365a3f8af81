// Slow path: `stick-table` in frontend, backend and listen sections (configuration.txt 4.2):
// `stick-table type ip|ipv6|integer|string [len N]|binary [len N] size N[k|m|g]
// [expire T] [nopurge] [srvkey name|addr] [store DATA[,DATA...]]...`. The data names and
// periods are checked here; the tables are compiled for the workers with the rules
// (controlplane/rules).
#include <algorithm>
#include <charconv>
#include <string>

#include "controlplane/config/parse_context.h"
#include "dataplane/stick/stick.h"

namespace sluice::config {
namespace {

// "10k", "1m", "2g": HAProxy's size suffixes (powers of 1024).
std::optional<uint64_t> ParseSize(std::string_view s) {
  uint64_t mult = 1;
  if (!s.empty()) {
    const char c = s.back();
    if (c == 'k' || c == 'K') mult = 1024;
    if (c == 'm' || c == 'M') mult = 1024 * 1024;
    if (c == 'g' || c == 'G') mult = 1024ull * 1024 * 1024;
    if (mult != 1) s.remove_suffix(1);
  }
  const auto v = ParseDecimal(s);
  if (!v || *v > UINT32_MAX / mult) return std::nullopt;
  return *v * mult;
}

}  // namespace

void StickTable(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (ctx.section == Section::kDefaults) {
    ctx.Alert("'stick-table' is not supported in 'defaults' section.");
    return;
  }
  ProxyConfig& p = ctx.config.proxies.back();
  if (p.stick_table) {
    ctx.Alert("stick-table name '" + p.name + "' conflicts with table declared in " +
              std::string(KindName(p.kind)) + " '" + p.name + "' at " +
              At(p.stick_table->file, p.stick_table->line) + ".");
    return;
  }
  StickTableConfig t;
  t.file = ctx.file;
  t.line = ctx.line;
  bool has_type = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& k = args[i];
    const bool has_value = i + 1 < args.size();
    if (k == "type") {
      const std::string v = has_value ? args[++i] : "";
      if (v != "ip" && v != "ipv6" && v != "integer" && v != "string" && v != "binary") {
        ctx.Alert("stick-table: unknown type '" + v + "'.");
        return;
      }
      t.type = v;
      has_type = true;
      if ((v == "string" || v == "binary") && i + 2 < args.size() && args[i + 1] == "len") {
        const auto len = ParseDecimal(args[i + 2]);
        if (!len || *len < 1) {
          ctx.Alert("stick-table: unknown type '" + args[i + 2] + "'.");
          return;
        }
        if (*len > stick::kMaxKeyBytes) {
          ctx.Alert("stick-table: length " + args[i + 2] + " of type '" + v +
                    "' is not supported by sluice (at most " +
                    std::to_string(stick::kMaxKeyBytes) + ").");
          return;
        }
        t.key_len = static_cast<uint32_t>(*len);
        i += 2;
      }
    } else if (k == "size" || k == "expire") {
      if (!has_value) {
        ctx.Alert("stick-table: missing argument after '" + k + "'.");
        return;
      }
      const std::string& v = args[++i];
      const auto n = k == "size" ? ParseSize(v) : ParseTimeMs(v);
      if (!n) {
        // HAProxy names the first character it could not read.
        size_t bad = 0;
        while (bad < v.size() && v[bad] >= '0' && v[bad] <= '9') ++bad;
        const bool suffix = k == "size" && bad < v.size() &&
                            std::string_view("kKmMgG").find(v[bad]) != std::string_view::npos;
        if (suffix) ++bad;
        const size_t at = bad < v.size() ? bad : (v.empty() ? 0 : v.size() - 1);
        const std::string ch = v.substr(at, 1);
        ctx.Alert("stick-table: unexpected character '" + ch + "' in argument of '" + k + "'.");
        return;
      }
      if (k == "expire" && *n > 2147483647) {
        ctx.Alert("stick-table: timer overflow in argument <" + v +
                  "> to <expire>, maximum value is 2147483647 ms (~24.8 days).");
        return;
      }
      if (k == "size") {
        t.size = *n;
      } else {
        t.expire_ms = static_cast<uint32_t>(*n);
      }
    } else if (k == "nopurge") {
      t.nopurge = true;
    } else if (k == "store") {
      if (!has_value) {
        ctx.Alert("stick-table: missing data type after 'store'.");
        return;
      }
      // DATA[,DATA...], a rate with its period in parentheses.
      const std::string& list = args[++i];
      size_t from = 0;
      while (from <= list.size()) {
        size_t depth = 0, to = from;
        for (; to < list.size() && !(list[to] == ',' && depth == 0); ++to) {
          if (list[to] == '(') ++depth;
          if (list[to] == ')' && depth) --depth;
        }
        const std::string item = list.substr(from, to - from);
        from = to + 1;
        if (item.empty()) continue;
        const size_t open = item.find('(');
        StickTableConfig::Store s;
        s.name = item.substr(0, open);
        const stick::Data d = stick::DataByName(s.name);
        if (d == stick::Data::kCount) {
          ctx.Alert("stick-table: unknown store option '" + s.name + "'.");
          return;
        }
        const bool rate = stick::Info(d).kind == stick::Kind::kFreq;
        const bool array = stick::IsArray(d);
        const size_t close = item.rfind(')');
        if ((rate || array) && open == std::string::npos) {
          ctx.Alert("stick-table: missing argument to store option '" + s.name + "'.");
          return;
        }
        if ((rate || array) && close != item.size() - 1) {
          ctx.Alert("stick-table: missing closing parenthesis after store option '" + s.name +
                    "'.");
          return;
        }
        std::string arg = open == std::string::npos ? "" : item.substr(open + 1, close - open - 1);
        if (array) {
          // gpt(N), gpc(N), gpc_rate(N,P): N from 1 to 100 (HAProxy's texts).
          const size_t comma = arg.find(',');
          if (rate && comma == std::string::npos) {
            ctx.Alert("stick-table: missing argument to store option '" + s.name + "'.");
            return;
          }
          if (!rate && comma != std::string::npos) {
            ctx.Alert("stick-table: unexpected argument to store option '" + s.name + "'.");
            return;
          }
          const std::string num = arg.substr(0, comma);
          uint32_t n = 0;
          const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
          if (num.empty() || ec != std::errc() || end != num.data() + num.size() || n < 1 ||
              n > stick::kMaxArray) {
            ctx.Alert("stick-table: array size is out of allowed range (1-100) for store option '" +
                      s.name + "'.");
            return;
          }
          s.elems = n;
          arg = comma == std::string::npos ? "" : arg.substr(comma + 1);
        }
        if (rate) {
          const auto period = ParseTimeMs(arg);
          if (!period || *period == 0 || *period > UINT32_MAX / 2) {
            ctx.Alert("stick-table: error when processing store option '" + s.name + "'.");
            return;
          }
          s.period_ms = static_cast<uint32_t>(*period);
        } else if (!array && open != std::string::npos) {
          ctx.Alert("stick-table: unexpected argument to store option '" + s.name + "'.");
          return;
        }
        bool dup = false;
        for (const auto& x : t.store) dup = dup || x.name == s.name;
        if (dup) {
          ctx.Warn("stick-table: store option '" + s.name + "' already enabled, ignored.");
          continue;
        }
        t.store.push_back(std::move(s));
      }
      // An array overrides the legacy types it extends: not both (HAProxy's texts).
      auto has = [&](std::string_view n) {
        return std::any_of(t.store.begin(), t.store.end(),
                           [&](const auto& x) { return x.name == n; });
      };
      if (has("gpt") && has("gpt0")) {
        ctx.Alert("stick-table: simultaneous usage of 'gpt' and 'gpt0' in a same table is not "
                  "permitted as 'gpt' overrides 'gpt0'.");
        return;
      }
      if (has("gpc") && (has("gpc0") || has("gpc1"))) {
        ctx.Alert("stick-table: simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is "
                  "not permitted as 'gpc' overrides 'gpc[0/1]'.");
        return;
      }
      if (has("gpc_rate") && (has("gpc0_rate") || has("gpc1_rate"))) {
        ctx.Alert("stick-table: simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same "
                  "table is not permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'.");
        return;
      }
    } else if (k == "srvkey") {
      const std::string v = has_value ? args[++i] : "";
      if (v != "name" && v != "addr") {
        ctx.Alert("stick-table : unknown server key type '" + v + "'.");
        return;
      }
      t.srvkey_addr = v == "addr";
    } else if (k == "peers") {
      ctx.Alert("stick-table: '" + k + "' is not supported by sluice.");
      return;
    } else {
      ctx.Alert("stick-table: unknown argument '" + k + "'.");
      return;
    }
  }
  if (t.size == 0) {
    ctx.Alert("stick-table: missing size.");
    return;
  }
  if (!has_type) {
    ctx.Alert("stick-table: missing type.");
    return;
  }
  p.stick_table = std::move(t);
}

}  // namespace sluice::config
