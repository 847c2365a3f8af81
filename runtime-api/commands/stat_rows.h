// Slow path. The rows of `show stat` as data: one Row per frontend, backend and server, with
// HAProxy 2.6.12's 127 fields (stat_fields.def), their types and tags, filled as haproxy's
// stats_fill_{fe,be,sv}_stats() fill them. `show stat` (stat_cmds.cc) prints them as CSV,
// typed or JSON; the Prometheus exporter (metrics/promex.cc) reads them as numbers.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "runtime-api/commands/proxy_view.h"

namespace sluice::cli {

enum StatPos : int {
#define SL_STAT_FIELD(pos, id, name, desc) id = pos,
#include "runtime-api/commands/stat_fields.def"
#undef SL_STAT_FIELD
  kStatFieldCount
};
static_assert(kStatFieldCount == 127, "HAProxy 2.6.12 prints 127 fields");
inline constexpr int kStaticFieldCount = kAggCheckStatus + 1;  // the CSV prints "-" after these

struct FieldMeta {
  std::string_view name;
  std::string_view desc;
};
inline constexpr FieldMeta kFieldMeta[] = {
#define SL_STAT_FIELD(pos, id, name, desc) {name, desc},
#include "runtime-api/commands/stat_fields.def"
#undef SL_STAT_FIELD
};

// haproxy's STATS_TYPE_*: the `type` column and the typed form's object letter.
enum class ObjType : uint32_t { kFrontend = 0, kBackend = 1, kServer = 2 };

enum class FieldType : uint8_t { kEmpty, kU32, kS32, kU64, kStr };

struct Field {
  FieldType type = FieldType::kEmpty;
  std::string_view tags;  // origin, nature, scope letters: "MGP"
  uint64_t u = 0;
  int64_t s = 0;
  std::string str;
};

// One object's line: what haproxy's `struct field` array holds.
struct Row {
  ObjType obj = ObjType::kFrontend;
  uint32_t iid = 0;
  uint32_t sid = 0;
  std::array<Field, kStatFieldCount> f;

  void U32(int pos, std::string_view tags, uint64_t v) { Set(pos, FieldType::kU32, tags).u = v; }
  void U64(int pos, std::string_view tags, uint64_t v) { Set(pos, FieldType::kU64, tags).u = v; }
  void S32(int pos, std::string_view tags, int64_t v) { Set(pos, FieldType::kS32, tags).s = v; }
  void Str(int pos, std::string_view tags, std::string v) {
    Set(pos, FieldType::kStr, tags).str = std::move(v);
  }
  // Counters HAProxy prints as u64 with the MCP tags.
  void Counters(std::initializer_list<std::pair<int, uint64_t>> values) {
    for (const auto& [pos, v] : values) U64(pos, "MCP", v);
  }

 private:
  Field& Set(int pos, FieldType type, std::string_view tags) {
    Field& field = f[static_cast<size_t>(pos)];
    field.type = type;
    field.tags = tags;
    return field;
  }
};

// A backend's totals over its servers (haproxy's recount_servers(),
// update_backend_weight() and stats_fill_be_computesrv()).
struct BackendTotals {
  uint32_t act = 0;  // usable active servers
  uint32_t bck = 0;  // usable backup servers
  uint64_t weight = 0;
  uint64_t uweight = 0;
  uint32_t up = 0;  // servers not stopped
};

BackendTotals ComputeTotals(const ProxyView& p);

struct StatOptions {
  bool legends = false;     // addr and algo: operator and admin sessions
  bool hide_maint = false;  // no-maint
  bool hide_down = false;   // up
};

// A field's value as `show stat` prints it: the number, the text, "" when empty.
std::string FieldText(const Field& f);

void FillFrontend(const ProxyView& p, Row& r);
void FillBackend(const ProxyView& p, const StatOptions& opt, Row& r);
void FillServer(const ProxyView& p, const ServerView& s, const StatOptions& opt, Row& r);

}  // namespace sluice::cli
