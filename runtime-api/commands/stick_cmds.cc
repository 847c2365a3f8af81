// Slow path. The stick-table commands (doc/management.txt; formats and errors as HAProxy 2.6
// answers them: ../shared/compat/haproxy-2.6/ transcripts 50-59k, and an oracle run of
// Debian's haproxy 2.6.12 for the cases they do not show):
//   show table [<table> [data.<type> <op> <value>]{0..4} | [key <key>]]
//   set table <table> key <key> [data.<type> <value>]*
//   clear table <table> [data.<type> <op> <value>]{0..4} | [key <key>]
// The workers hold the entries (a shard each); the listing is gathered from all of them and
// sorted as HAProxy's tree walks it (integers by value, other keys by their stored bytes).
#include <arpa/inet.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

constexpr std::string_view kOps[] = {"eq", "ne", "le", "ge", "lt", "gt"};

int FindTable(StickControl* st, std::string_view name) {
  if (!st) return -1;
  const auto& t = st->Tables();
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const StickColumn* Column(const StickTableView& t, std::string_view name) {
  if (name == "server_name") name = "server_key";  // HAProxy's old name, still taken
  for (const StickColumn& c : t.columns) {
    if (c.type == name) return &c;
  }
  return nullptr;
}

// HAProxy's data type names (whether the table stores them or not).
constexpr std::string_view kDataNames[] = {
    "server_id",     "gpt0",          "gpc0",         "gpc0_rate",     "conn_cnt",
    "conn_rate",     "conn_cur",      "sess_cnt",     "sess_rate",     "http_req_cnt",
    "http_req_rate", "http_err_cnt",  "http_err_rate", "bytes_in_cnt", "bytes_in_rate",
    "bytes_out_cnt", "bytes_out_rate", "gpc1",         "gpc1_rate",     "server_key",
    "http_fail_cnt", "http_fail_rate", "gpt",          "gpc",           "gpc_rate"};
bool KnownData(std::string_view name) {
  if (name == "server_name") return true;
  return std::find(std::begin(kDataNames), std::end(kDataNames), name) != std::end(kDataNames);
}

// HAProxy's strl2llrc: an optional '-' then decimal digits, the whole word.
bool ParseValue(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  const bool neg = s[0] == '-';
  if (neg) s.remove_prefix(1);
  if (s.empty()) return false;
  int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = neg ? -v : v;
  return true;
}

// The key's stored bytes for table `t` from its text, or an error text.
bool ParseKey(const StickTableView& t, std::string_view text, std::string* key, std::string* err,
              std::string_view verb) {
  key->assign(t.key_len, '\0');
  const std::string s(text);
  if (t.type == "ip") {
    // HAProxy's inetaddr_host(): never fails; the last three digits of each part count.
    uint32_t r = 0;
    int shift = 24;
    size_t p = 0;
    for (;;) {
      const size_t q = p;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
      uint32_t part = 0;
      const size_t from = p - q > 3 ? p - 3 : q;
      for (size_t i = from; i < p; ++i) part = part * 10 + static_cast<uint32_t>(s[i] - '0');
      r += part << shift;
      if (shift == 0 || p >= s.size() || s[p] != '.') break;
      shift -= 8;
      ++p;
    }
    const uint32_t be = htonl(r);
    std::memcpy(key->data(), &be, 4);
    return true;
  }
  if (t.type == "ipv6") {
    uint8_t a[16];
    if (inet_pton(AF_INET6, s.c_str(), a) != 1) {
      *err = "Invalid key\n";
      return false;
    }
    std::memcpy(key->data(), a, 16);
    return true;
  }
  if (t.type == "integer") {
    // strtoul(.., 10): trailing bytes ignored; no digit, a sign or more than 32 bits refused.
    size_t p = 0;
    while (p < s.size() && (s[p] == ' ' || s[p] == '\t')) ++p;
    if (p < s.size() && s[p] == '+') ++p;
    uint64_t v = 0;
    size_t digits = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9' && v <= 0xffffffffull) {
      v = v * 10 + static_cast<uint64_t>(s[p++] - '0');
      ++digits;
    }
    if (!digits || v > 0xffffffffull) {
      *err = "Invalid key\n";
      return false;
    }
    const auto u = static_cast<uint32_t>(v);
    std::memcpy(key->data(), &u, 4);
    return true;
  }
  if (t.type == "string") {
    std::memcpy(key->data(), s.data(), std::min<size_t>(s.size(), t.key_len - 1));
    return true;
  }
  *err = std::string(verb) +
         " keys from tables of type other than ip, ipv6, string and integer is not supported\n";
  return false;
}

std::string KeyText(const StickTableView& t, const std::string& key) {
  char buf[64];
  if (t.type == "ip") {
    return inet_ntop(AF_INET, key.data(), buf, sizeof buf) ? buf : "";
  }
  if (t.type == "ipv6") {
    return inet_ntop(AF_INET6, key.data(), buf, sizeof buf) ? buf : "";
  }
  if (t.type == "integer") {
    uint32_t v;
    std::memcpy(&v, key.data(), 4);
    return std::to_string(v);
  }
  std::string out;
  if (t.type == "binary") {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (const char c : key) {
      out += kHex[static_cast<uint8_t>(c) >> 4];
      out += kHex[static_cast<uint8_t>(c) & 15];
    }
    return out;
  }
  // HAProxy's dump_text(): up to the NUL; '\', ' ', '=' and \t \n \r \e escaped.
  for (const char c : key) {
    if (c == '\0') break;
    const auto b = static_cast<uint8_t>(c);
    if (c == '\\' || c == ' ' || c == '=') {
      out += '\\';
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\x1b') {
      out += "\\e";
    } else if (b < 0x20 || b >= 0x7f) {
      char h[8];
      std::snprintf(h, sizeof h, "\\x%02X", b);
      out += h;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Header(const StickTableView& t, uint64_t used) {
  return "# table: " + t.name + ", type: " + t.type + ", size:" + std::to_string(t.size) +
         ", used:" + std::to_string(used) + "\n";
}

// Filters from words[3..]: (data.<type> <op> <value>){1..4}; an error text when they are not.
bool ParseFilters(const Call& call, const StickTableView& t, std::vector<StickFilterView>* out,
                  std::string* err) {
  for (size_t i = 0; i < 4; ++i) {
    const size_t at = 3 + 3 * i;
    const std::string_view w = Arg(call, at);
    if (w.empty()) break;
    const std::string num = std::to_string(i + 1);
    // The first filter's word must say "data."; HAProxy skips 5 bytes of the others.
    const std::string_view name = w.size() >= 5 ? w.substr(5) : std::string_view();
    if (!KnownData(name)) {
      *err = "Filter entry #" + num + ": Unknown data type\n";
      return false;
    }
    const StickColumn* c = Column(t, name);
    if (!c) {
      *err = "Filter entry #" + num + ": Data type not stored in this table\n";
      return false;
    }
    StickFilterView f;
    f.data = c->data;
    const auto op = std::find(std::begin(kOps), std::end(kOps), Arg(call, at + 1));
    if (op == std::end(kOps)) {
      *err = "Filter entry #" + num +
             ": Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\"\n";
      return false;
    }
    f.op = static_cast<uint8_t>(op - std::begin(kOps));
    if (!ParseValue(Arg(call, at + 2), &f.value)) {
      *err = "Filter entry #" + num + ": Require a valid integer value to compare against\n";
      return false;
    }
    out->push_back(f);
  }
  if (!Arg(call, 15).empty()) {
    *err = "Detected extra data in filter, 16th word of input, after '" +
           std::string(Arg(call, 14)) + "'\n";
    return false;
  }
  return true;
}

bool Passes(const StickFilterView& f, int64_t v) {
  switch (f.op) {
    case 0:
      return v == f.value;
    case 1:
      return v != f.value;
    case 2:
      return v <= f.value;
    case 3:
      return v >= f.value;
    case 4:
      return v < f.value;
    default:
      return v > f.value;
  }
}

// `show table`: every table's line, newest declared first (HAProxy's list order).
class ListDump final : public Dump {
 public:
  explicit ListDump(StickControl* st) : st_(st), pending_(st->Used(&used_)) {}
  DumpStatus Step(Writer& out) override {
    if (!answered_) {
      std::string err;
      if (pending_->Poll(&err) == Gather::kWait) return DumpStatus::kWait;
      answered_ = true;
      next_ = st_->Tables().size();
    }
    const auto& t = st_->Tables();
    for (; next_ > 0; --next_) {
      const size_t i = next_ - 1;
      if (!out.Put(Header(t[i], i < used_.size() ? used_[i] : 0))) return DumpStatus::kMore;
    }
    return DumpStatus::kDone;
  }

 private:
  StickControl* st_;
  std::vector<uint64_t> used_;
  std::unique_ptr<PendingAnswer> pending_;
  bool answered_ = false;
  size_t next_ = 0;
};

// `show table <t> ...`: the rows of every worker, filtered, sorted, printed. The rows are
// kept packed (the key, the reference, use, exp, the values: a fixed stride) in blocks of
// kBlockRows as the workers' slices arrive (no block is ever copied), each run of kSortRun
// rows sorted as soon as it is complete, so that no step of the dump does more than one run's
// sort; the printing merges the sorted runs. 1 M rows of the article's table take 36 MB (and
// 4 MB of order) while the dump runs.
class TableDump final : public Dump {
 public:
  static constexpr size_t kSortRun = 65536;
  static constexpr size_t kBlockRows = 16384;

  TableDump(StickControl* st, size_t table, std::vector<StickFilterView> filters,
            std::optional<std::string> key, bool contents)
      : t_(st->Tables()[table]),
        rows_src_(st->Rows(table, key ? &*key : nullptr, filters)),
        filters_(std::move(filters)),
        key_(std::move(key)),
        contents_(contents),
        ncols_(t_.columns.size()),
        stride_(t_.key_len + 16 + 8 * ncols_) {}

  DumpStatus Step(Writer& out) override {
    if (!gathered_) {
      std::vector<StickRowView> batch;
      const Gather g = rows_src_->Next(&batch);
      for (const StickRowView& r : batch) Keep(r);
      SortRuns(g == Gather::kDone);
      if (g != Gather::kDone) return DumpStatus::kWait;
      gathered_ = true;
      rows_src_->Seen(&total_);  // the workers filtered: the entries they looked at
      if (key_ && order_.empty()) return DumpStatus::kDone;  // nothing, not even the header
      for (size_t r = 0; r * kSortRun < order_.size(); ++r) heads_.push_back(r * kSortRun);
    }
    if (!header_) {
      if (!out.Put(Header(t_, total_))) return DumpStatus::kMore;
      header_ = true;
      if (!contents_) {
        if (!out.Put("# contents not dumped due to insufficient privileges\n")) {
          header_ = false;
          return DumpStatus::kMore;
        }
        return DumpStatus::kDone;
      }
    }
    // The smallest head of the sorted runs, each time (a few runs: a scan is enough).
    for (;;) {
      size_t best = SIZE_MAX;
      for (size_t r = 0; r < heads_.size(); ++r) {
        if (heads_[r] >= RunEnd(r)) continue;
        if (best == SIZE_MAX || Less(order_[heads_[r]], order_[heads_[best]])) best = r;
      }
      if (best == SIZE_MAX) return DumpStatus::kDone;
      if (!out.Put(Line(order_[heads_[best]]))) return DumpStatus::kMore;
      ++heads_[best];
    }
  }

 private:
  const uint8_t* Row(uint32_t i) const {
    return blocks_[i / kBlockRows].get() + (i % kBlockRows) * stride_;
  }
  size_t RunEnd(size_t r) const { return std::min(order_.size(), (r + 1) * kSortRun); }

  // Keeps a row that passes the key and the filters (every row counts in `used`).
  void Keep(const StickRowView& r) {
    ++total_;
    if (key_ && r.key != *key_) return;
    for (const StickFilterView& f : filters_) {
      for (size_t c = 0; c < ncols_; ++c) {
        if (t_.columns[c].data == f.data && !Passes(f, r.values[c])) return;
      }
    }
    const size_t n = order_.size();
    if (n % kBlockRows == 0) blocks_.push_back(std::make_unique<uint8_t[]>(kBlockRows * stride_));
    uint8_t* p = blocks_.back().get() + (n % kBlockRows) * stride_;
    std::memcpy(p, r.key.data(), std::min<size_t>(r.key.size(), t_.key_len));
    p += t_.key_len;
    std::memcpy(p, &r.ref, 8);
    std::memcpy(p + 8, &r.use, 4);
    std::memcpy(p + 12, &r.exp_ms, 4);
    for (size_t c = 0; c < ncols_; ++c) std::memcpy(p + 16 + 8 * c, &r.values[c], 8);
    order_.push_back(static_cast<uint32_t>(n));
  }

  // Sorts each complete run (and the last one when `all`).
  void SortRuns(bool all) {
    while (sorted_ + kSortRun <= order_.size() || (all && sorted_ < order_.size())) {
      const size_t end = std::min(order_.size(), sorted_ + kSortRun);
      std::sort(order_.begin() + static_cast<std::ptrdiff_t>(sorted_),
                order_.begin() + static_cast<std::ptrdiff_t>(end),
                [this](uint32_t a, uint32_t b) { return Less(a, b); });
      sorted_ = end;
    }
  }

  // HAProxy's tree order: integers by value, other keys by their stored bytes.
  bool Less(uint32_t a, uint32_t b) const {
    const uint8_t* x = Row(a);
    const uint8_t* y = Row(b);
    if (t_.type == "integer") {
      uint32_t u, v;
      std::memcpy(&u, x, 4);
      std::memcpy(&v, y, 4);
      return u < v;
    }
    return std::memcmp(x, y, t_.key_len) < 0;
  }

  std::string Line(uint32_t i) const {
    const uint8_t* p = Row(i);
    const std::string key(reinterpret_cast<const char*>(p), t_.key_len);
    p += t_.key_len;
    uint64_t ref;
    uint32_t use, exp;
    std::memcpy(&ref, p, 8);
    std::memcpy(&use, p + 8, 4);
    std::memcpy(&exp, p + 12, 4);
    char head[48];
    std::snprintf(head, sizeof head, "0x%" PRIx64 ":", ref);
    std::string line = std::string(head) + " key=" + KeyText(t_, key) +
                       " use=" + std::to_string(use) + " exp=" + std::to_string(exp);
    for (size_t c = 0; c < ncols_; ++c) {
      const StickColumn& col = t_.columns[c];
      int64_t v;
      std::memcpy(&v, p + 16 + 8 * c, 8);
      line += " " + col.name;
      if (col.period_ms) line += "(" + std::to_string(col.period_ms) + ")";
      line += "=";
      if (col.dict || !col.names.empty()) {
        line += v > 0 && static_cast<size_t>(v) <= col.names.size()
                    ? col.names[static_cast<size_t>(v - 1)]
                    : std::string("-");
      } else {
        line += std::to_string(v);
      }
    }
    line += "\n";
    return line;
  }

  const StickTableView& t_;
  std::unique_ptr<StickRows> rows_src_;
  std::vector<StickFilterView> filters_;
  std::optional<std::string> key_;
  bool contents_;
  size_t ncols_, stride_;
  std::vector<std::unique_ptr<uint8_t[]>> blocks_;  // the rows kept, `stride_` bytes each
  std::vector<uint32_t> order_;  // row numbers, each run of kSortRun sorted
  std::vector<size_t> heads_;    // the next position to print in each run
  size_t sorted_ = 0;            // order_[0, sorted_) is in sorted runs
  uint64_t total_ = 0;           // rows in the table (the header's `used`)
  bool gathered_ = false, header_ = false;
};

// Waits for a worker's answer, then prints the error it gave, if any (and one found before).
class AnswerDump final : public Dump {
 public:
  AnswerDump(std::unique_ptr<PendingAnswer> p, const Session& s, std::string later)
      : p_(std::move(p)), s_(s), later_(std::move(later)) {}
  DumpStatus Step(Writer& out) override {
    if (!answered_) {
      if (p_->Poll(&error_) == Gather::kWait) return DumpStatus::kWait;
      answered_ = true;
      if (error_.empty()) error_ = later_;
    }
    if (error_.empty()) return DumpStatus::kDone;
    return out.Put(WithSeverity(s_, Severity::kErr, error_)) ? DumpStatus::kDone
                                                            : DumpStatus::kMore;
  }

 private:
  std::unique_ptr<PendingAnswer> p_;
  const Session& s_;
  std::string later_, error_;
  bool answered_ = false;
};

// The table args[2] names: -1 (and the answer given) when there is none (`usage`) or it is
// unknown.
int TableArg(Call& call, const std::string& usage) {
  if (Arg(call, 2).empty()) {
    call.Error(usage);
    return -1;
  }
  const int t = FindTable(call.appliance.Stick(), Arg(call, 2));
  if (t < 0) call.Error("No such table\n");
  return t;
}

// The key args[4] names, as table `t` stores it; nothing (and the answer given) when it is
// missing or cannot be read. `verb` names the action in HAProxy's message for binary keys.
std::optional<std::string> KeyArg(Call& call, const StickTableView& t, std::string_view verb) {
  if (Arg(call, 4).empty()) {
    call.Error("Key value expected\n");
    return std::nullopt;
  }
  std::string key, err;
  if (!ParseKey(t, Arg(call, 4), &key, &err, verb)) {
    call.Error(err);
    return std::nullopt;
  }
  return key;
}

std::unique_ptr<Dump> ShowTable(Call& call) {
  StickControl* st = call.appliance.Stick();
  if (Arg(call, 2).empty()) {
    if (!st) return nullptr;
    return std::make_unique<ListDump>(st);
  }
  const int t = TableArg(call, "");
  if (t < 0) return nullptr;
  const StickTableView& tv = st->Tables()[static_cast<size_t>(t)];
  std::vector<StickFilterView> filters;
  std::optional<std::string> key;
  const std::string_view w = Arg(call, 3);
  if (w == "key") {
    key = KeyArg(call, tv, "Showing");
    if (!key) return nullptr;
  } else if (w.substr(0, 5) == "data.") {
    std::string err;
    if (!ParseFilters(call, tv, &filters, &err)) {
      call.Error(err);
      return nullptr;
    }
  } else if (!w.empty()) {
    call.Error(
        "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key "
        "<key>\n");
    return nullptr;
  }
  const bool contents = call.session.level >= Level::kOperator;
  return std::make_unique<TableDump>(st, static_cast<size_t>(t), std::move(filters),
                                     std::move(key), contents);
}

std::unique_ptr<Dump> SetTable(Call& call) {
  static const std::string kUsage =
      "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n";
  StickControl* st = call.appliance.Stick();
  const int t = TableArg(call, kUsage);
  if (t < 0) return nullptr;
  const StickTableView& tv = st->Tables()[static_cast<size_t>(t)];
  if (Arg(call, 3).substr(0, 5) == "data.") {
    call.Error("content-based lookup is only supported with the \"show\" and \"clear\" actions\n");
    return nullptr;
  }
  if (Arg(call, 3) != "key") {
    call.Error(kUsage);
    return nullptr;
  }
  const std::optional<std::string> key = KeyArg(call, tv, "Inserting");
  if (!key) return nullptr;
  // The pairs: applied up to the first bad one, which is then reported (the entry is made).
  std::vector<std::pair<uint8_t, int64_t>> data;
  std::string later;
  for (size_t i = 5; !Arg(call, i).empty(); i += 2) {
    const std::string_view w = Arg(call, i);
    if (w.substr(0, 5) != "data." || Arg(call, i + 1).empty()) {
      later = "\"data.<type>\" followed by a value expected\n";
      break;
    }
    if (!KnownData(w.substr(5))) {
      later = "Unknown data type\n";
      break;
    }
    const StickColumn* c = Column(tv, w.substr(5));
    if (!c) {
      later = "Data type not stored in this table\n";
      break;
    }
    int64_t v = 0;
    if (!ParseValue(Arg(call, i + 1), &v)) {
      later = "Require a valid integer value to store\n";
      break;
    }
    data.emplace_back(c->data, v);
  }
  return std::make_unique<AnswerDump>(st->Set(static_cast<size_t>(t), *key, data), call.session,
                                      later);
}

std::unique_ptr<Dump> ClearTable(Call& call) {
  static const std::string kUsage =
      "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key "
      "<key>\n";
  StickControl* st = call.appliance.Stick();
  const int t = TableArg(call, kUsage);
  if (t < 0) return nullptr;
  const StickTableView& tv = st->Tables()[static_cast<size_t>(t)];
  std::vector<StickFilterView> filters;
  const std::string_view w = Arg(call, 3);
  if (w == "key") {
    const std::optional<std::string> key = KeyArg(call, tv, "Removing");
    if (!key) return nullptr;
    return std::make_unique<AnswerDump>(st->Clear(static_cast<size_t>(t), &*key, filters),
                                        call.session, "");
  }
  if (w.substr(0, 5) == "data.") {
    std::string err;
    if (!ParseFilters(call, tv, &filters, &err)) {
      call.Error(err);
      return nullptr;
    }
  } else if (!w.empty()) {
    call.Error(kUsage);
    return nullptr;
  }
  return std::make_unique<AnswerDump>(st->Clear(static_cast<size_t>(t), nullptr, filters),
                                      call.session, "");
}

constexpr CommandRow kStickCommands[] = {
    {{"show", "table"},
     Level::kUser,
     &ShowTable,
     "show table <table> [<filter>]*",
     "report table usage stats or dump this table's contents (filter: data/key)"},
    {{"set", "table"},
     Level::kOperator,
     &SetTable,
     "set table <table> key <k> [data.* <v>]*",
     "update or create a table entry's data"},
    {{"clear", "table"},
     Level::kOperator,
     &ClearTable,
     "clear table <table> [<filter>]*",
     "remove an entry from a table (filter: data/key)"},
};

}  // namespace

std::span<const CommandRow> StickCommands() { return kStickCommands; }

}  // namespace sluice::cli
