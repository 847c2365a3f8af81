// Slow path. What the Runtime API commands need from the appliance: the control plane
// implements ApplianceContext (an adapter over its counters and configuration) and hands it
// to CliServer. Everything here runs on the control-plane thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime-api/commands/proxy_view.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli {

// `show info` types, printed as haproxy does in the typed and json forms.
enum class InfoType { kStr, kU32, kS32, kU64, kS64, kFlt };
std::string_view InfoTypeName(InfoType type);  // "str", "u32", ...

struct InfoField {
  int pos;                // haproxy's field position (typed form)
  std::string_view name;  // "Nbthread", "Unstoppable Jobs"
  std::string_view tags;  // origin, nature, scope letters: "CGS"
  InfoType type;
  std::string_view desc;  // `desc` option
  std::string value;      // as printed
  std::string float_value;  // `float` option: set by SetFloat, printed instead of value
};

// Every HAProxy 2.6 `show info` field in its order (commands/info_fields.def), pre-filled
// with defaults (Name "Sluice", Nbproc and Process_num 1, Pid from getpid(), zeros); the
// appliance overwrites what it knows. Setting an unknown name is a programming error (abort).
class InfoValues {
 public:
  InfoValues();
  void SetStr(std::string_view name, std::string_view value);
  void SetNum(std::string_view name, uint64_t value);
  void SetSigned(std::string_view name, int64_t value);
  // An integer value and its `show info float` form ("%f").
  void SetFloat(std::string_view name, double value);
  // Uptime ("0d 0h00m35s"), Uptime_sec (and its float form) from seconds since start.
  void SetUptime(double seconds);
  const std::vector<InfoField>& fields() const { return fields_; }
  const InfoField* Find(std::string_view name) const;

 private:
  InfoField& Get(std::string_view name);
  std::vector<InfoField> fields_;
};

// haproxy's uptime text: "%ud %uh%02um%02us".
std::string FormatUptime(uint64_t seconds);

// `show activity`: one row per counter, one value per worker lcore, printed as haproxy's
// per-thread rows "name: total [ w1 w2 ... ]". Sluice's appliance fills, in this order:
// "loops", "busy_cycles" (TSC cycles spent on packets), "rx_pkts", "tx_pkts", then one row
// per other counter of dataplane/counters/worker_counters.def (TCP's included, drop reasons
// named "<layer>_drop_<reason>").
struct ActivityRow {
  std::string name;
  std::vector<uint64_t> per_worker;
};
struct ActivityDump {
  unsigned workers = 0;
  std::vector<ActivityRow> rows;
};

// ACLs' and maps' pattern references (`show|get|add|del|set|clear|prepare|commit acl|map`,
// commands/pattern_cmds.cc). Errors are HAProxy's texts; the control plane implements it over
// its pattern store and carries changes to the workers.
struct PatternRefView {
  uint32_t id = 0;
  std::string file;         // empty for values written in the configuration
  std::string description;  // the rest of the `show acl|map` line
  uint64_t entries = 0;     // every version's (its entry_cnt)
};
struct PatternEntryView {
  uintptr_t ref = 0;  // printed as HAProxy prints its pointers
  std::string key, value;
};
class PatternControl {
 public:
  virtual ~PatternControl() = default;
  virtual std::vector<PatternRefView> List(bool map) = 0;
  // `#<id>` or a file name among the references used as maps (`map`) or ACLs; -1: none.
  virtual int64_t Find(std::string_view name, bool map) = 0;
  virtual bool IsMap(uint32_t id) = 0;
  // Up to `max` entries of version `ver` (the current one unless `has_ver`) from `*cursor`
  // (0: the first); *cursor becomes where the next call resumes, 0 at the end.
  virtual void Entries(uint32_t id, bool has_ver, uint32_t ver, uintptr_t* cursor, size_t max,
                       std::vector<PatternEntryView>* out) = 0;
  virtual std::string Get(uint32_t id, std::string_view value, bool map) = 0;
  // Empty on success, else the error's text.
  virtual std::string Add(uint32_t id, std::string_view key, std::string_view value, bool has_ver,
                          uint32_t ver) = 0;
  virtual bool Delete(uint32_t id, std::string_view key_or_ref) = 0;  // false: none found
  virtual bool Set(uint32_t id, std::string_view key_or_ref, std::string_view value) = 0;
  virtual void Clear(uint32_t id, bool has_ver, uint32_t ver) = 0;
  virtual uint32_t Prepare(uint32_t id) = 0;
  virtual std::string Commit(uint32_t id, uint32_t ver) = 0;
  // Sends what changed to the workers; Applied() says when every worker has it.
  virtual uint64_t Flush() = 0;
  virtual bool Applied(uint64_t seq) = 0;
};

// Stick tables (`show|set|clear table`, docs/stick-tables.md). Types and data are given by
// HAProxy's names and numbers (the data type's position in HAProxy's list).
struct StickColumn {
  std::string name;         // "http_req_rate"; an array's element "gpc1", "gpc1_rate"
  std::string type;         // what `data.<type>` names it ("gpc" for gpc0; "" past element 0)
  uint8_t data = 0;         // its number (kNoData past an array's element 0)
  uint32_t period_ms = 0;   // rates: printed "name(period)"
  bool is_signed = false;   // server_id
  // server_key: the servers' names, a value v > 0 printed as names[v - 1] (0: "-").
  std::vector<std::string> names;
  bool dict = false;  // server_key: printed by `names`, even when there are none
};
inline constexpr uint8_t kNoData = 255;
struct StickTableView {
  std::string name, type;  // "fe_main", "ip"
  uint64_t size = 0;
  uint32_t key_len = 0;
  std::vector<StickColumn> columns;  // the stored data, in HAProxy's order
};
struct StickRowView {
  std::string key;  // the key's bytes (key_len of them)
  uint64_t ref = 0;
  uint32_t use = 0, exp_ms = 0;
  std::vector<int64_t> values;  // by column
};
struct StickFilterView {
  uint8_t data = 0;
  uint8_t op = 0;  // eq ne le ge lt gt
  int64_t value = 0;
};
class StickRows {
 public:
  virtual ~StickRows() = default;
  // kDone once every worker's rows are in `out` (in no order).
  virtual Gather Next(std::vector<StickRowView>* out) = 0;
  // When the workers applied the key and filters themselves: true, with the entries they
  // looked at (the table's `used`) in `n`; false: every row came, the caller filters.
  virtual bool Seen(uint64_t* n) const {
    (void)n;
    return false;
  }
};
class StickControl {
 public:
  virtual ~StickControl() = default;
  virtual const std::vector<StickTableView>& Tables() = 0;
  // The rows of `table`; `key` (key_len bytes) and `filters` may be applied where the rows
  // are (see StickRows::Seen).
  virtual std::unique_ptr<StickRows> Rows(size_t table, const std::string* key,
                                          const std::vector<StickFilterView>& filters) = 0;
  // The entries of every table, summed over the workers, in `used` once kDone.
  virtual std::unique_ptr<PendingAnswer> Used(std::vector<uint64_t>* used) = 0;
  // Creates or updates the entry of `key` (key_len bytes) with (data, value) pairs.
  virtual std::unique_ptr<PendingAnswer> Set(
      size_t table, const std::string& key,
      const std::vector<std::pair<uint8_t, int64_t>>& data) = 0;
  // Removes the entry of `key` (when given), else the entries passing every filter.
  virtual std::unique_ptr<PendingAnswer> Clear(size_t table, const std::string* key,
                                               const std::vector<StickFilterView>& filters) = 0;
};

// TLS session-ticket key files (`show tls-keys`, `set ssl tls-key`, commands/tls_cmds.cc).
struct TicketKeysView {
  uint32_t id = 0;
  std::string file;
  std::vector<std::string> keys;  // base64, oldest first
};
class TlsControl {
 public:
  virtual ~TlsControl() = default;
  virtual std::vector<TicketKeysView> TicketKeys() = 0;  // id order
  // Rotates `key` (base64, as typed) into the file of TicketKeys()[index]: HAProxy's error
  // (bad base64, wrong size), or "".
  virtual std::string SetTicketKey(size_t index, const std::string& key) = 0;
  // Certificates (`show|set|commit|abort ssl cert`): HAProxy's answer text, and whether it is
  // an error.
  struct Answer {
    std::string text;
    bool error = false;
  };
  virtual Answer ShowCerts() = 0;
  virtual Answer ShowCert(const std::string& name) = 0;  // "*FILE": the transaction's
  virtual Answer SetCert(const std::string& path, const std::string& payload) = 0;
  virtual Answer CommitCert(const std::string& path) = 0;
  virtual Answer AbortCert(const std::string& path) = 0;
  virtual Answer NewCert(const std::string& path) = 0;
  virtual Answer DelCert(const std::string& path) = 0;
  // `show ssl crt-list [-n] [LIST]` ("": the lists) and `show ssl ca-file [FILE[:N]]`.
  virtual Answer ShowCrtList(bool numbered, const std::string& list) = 0;
  virtual Answer ShowCaFile(const std::string& name) = 0;
  // OCSP (`show ssl ocsp-response [KEY]`, `set ssl ocsp-response BASE64|<<payload`).
  virtual Answer ShowOcsp(const std::string& key) = 0;  // "": the list
  virtual Answer SetOcsp(const std::string& base64) = 0;
};

class ApplianceContext {
 public:
  virtual ~ApplianceContext() = default;
  // `show version`, and Version / Build info in `show info` unless FillInfo sets them.
  virtual std::string Version() = 0;
  // Overwrites the fields the appliance knows (Nbthread, Pid, Uptime, Maxconn, CurrConns...).
  virtual void FillInfo(InfoValues& info) = 0;
  virtual void Activity(ActivityDump& out) = 0;
  // `clear counters` (max values, operator) or `clear counters all` (every counter, admin).
  virtual void ClearCounters(bool all) = 0;
  // `show cli sockets`: one line per stats socket, "unix@PATH admin all" or
  // "ipv4@A:P operator all" (ipv6@[A]:P), in configuration order.
  virtual std::string CliSockets() { return ""; }
  // The proxies, servers and sessions (commands/proxy_view.h). nullptr: the appliance has
  // none yet, and the proxy commands answer as HAProxy does with no proxies configured.
  virtual ProxyControl* Proxy() { return nullptr; }
  // ACLs and maps; nullptr: none configured (every name is unknown).
  virtual PatternControl* Patterns() { return nullptr; }
  // Stick tables; nullptr: none configured.
  virtual StickControl* Stick() { return nullptr; }
  // TLS binds' keys; nullptr: no TLS bind.
  virtual TlsControl* Tls() { return nullptr; }
};

}  // namespace sluice::cli
