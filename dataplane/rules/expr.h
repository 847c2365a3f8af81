// Sample expressions, ACLs, conditions and the rules that use them, as the workers run them
// (HAProxy 2.6 doc/configuration.txt sections 7 and 4.2 `http-request`, `tcp-request`,
// `use_backend`). The control plane compiles the configuration's text into these structures
// (controlplane/rules) and publishes them as the snapshot part "rules"; the pattern sets they
// refer to by id are each worker's own indexes (PatternTable). Evaluation never allocates:
// what converters write goes to an Arena, reset per evaluation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/base/tls_facts.h"
#include "dataplane/http/h1.h"
#include "dataplane/rules/pattern.h"
#include "dataplane/rules/sample.h"
#include "dataplane/snapshot/snapshot.h"

namespace sluice::rules {

inline constexpr uint32_t kNoRef = UINT32_MAX;

enum class Fetch : uint8_t {
  kSrc,
  kSrcPort,
  kDst,
  kDstPort,
  kSoId,
  kFeName,
  kBeName,
  kSrvName,
  kFeId,
  kBeId,
  kNbsrv,
  kBeConn,
  kFeConn,
  kConnslots,
  kAlwaysTrue,
  kAlwaysFalse,
  kInt,
  kStr,
  kIpv4,
  kIpv6,
  kBool,
  kVar,
  // HTTP request
  kMethod,
  kPath,
  kPathq,
  kUrl,
  kQuery,
  kUrlParam,
  kBase,
  kHdr,
  kHdrCnt,
  kFhdr,
  kFhdrCnt,
  kCook,
  kCookCnt,
  kBodyLen,
  kBody,
  kBodySize,
  kReqVer,
  kHdrVal,
  kReqLen,
  kProtoHttp,
  // HTTP response
  kStatus,
  kResHdr,
  kResHdrCnt,
  kResCook,
  kResVer,
  // TLS: what the client connection negotiated (base::TlsFacts)
  kSslFc,
  kSslFcSni,
  kSslFcProtocol,
  kSslFcCipher,
  kSslFcAlpn,
  kSslFcSessionReused,
  kSslCUsed,
  kSslCVerify,
  kSslCSDn,
  // The stream's captures (capture.req.hdr(N), capture.res.hdr(N)).
  kCaptureReqHdr,
  kCaptureResHdr,
  // The Authorization field (auth.h): http_auth(L), http_auth_group(L), http_auth_type,
  // http_auth_user, http_auth_pass, http_auth_bearer([hdr]).
  kHttpAuth,
  kHttpAuthGroup,
  kHttpAuthType,
  kHttpAuthUser,
  kHttpAuthPass,
  kHttpAuthBearer,
  // Stick tables (StickAccess): sc0_*/sc1_*/sc2_*/sc_*(N) on a tracked entry, src_* on the
  // client's entry; Expr::stick says which datum and what to do with it.
  kStick,
};

// What a stick-table fetch or converter does with its datum (HAProxy's sc_get_*, sc_inc_*,
// sc_clr_*, sc_tracked, sc_trackers, *_kbytes_* (the byte count / 1024), in_table).
// table_expire / table_idle: the ms left before the entry expires, since it was last touched.
enum class StickOp : uint8_t {
  kGet,
  kInc,
  kClr,
  kTracked,
  kTrackers,
  kKbytes,
  kIn,
  kExpire,
  kIdle,
};
struct StickRef {
  int8_t sc = -1;              // 0..2: a tracked counter; -1: src_* (the client's entry)
  int32_t table = -1;          // a table index; -1: the tracked entry's own table
  uint8_t data = 0;            // stick::Data
  StickOp op = StickOp::kGet;
  uint8_t elem = 0;            // an array's element (gpt(N), gpc(N), gpc_rate(N,P))
};

enum class Conv : uint8_t {
  kLower,
  kUpper,
  kLength,
  kBytes,
  kWord,
  kField,
  kRegsub,
  kHex,
  kBase64,
  kIpmask,
  kJson,
  kUrlDec,
  kConcat,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kAnd,
  kOr,
  kXor,
  kNeg,
  kNot,
  kBool,
  kOdd,
  kEven,
  kMap,
  kSetVar,
  kToStr,
  kToInt,
  kTable,  // table_<datum>(T), in_table(T): Step::stick names the table and the datum
};

// A fetch or converter argument: an integer, a string, a variable, a pattern set.
struct Arg {
  bool set = false;
  int64_t i = 0;
  std::string s;              // slow path: compiled
  uint32_t var = UINT32_MAX;  // a variable's slot (Vars), when the argument names one
  bool is_var = false;
};

struct Step {
  Conv conv = Conv::kLower;
  Arg a[3];
  // map_*: the set, the key's match method, the output type, the default.
  uint32_t ref = kNoRef;
  Match match = Match::kStr;
  SmpType out = SmpType::kStr;
  bool has_default = false;
  MapValue dflt;
  pcre2_real_code_8* regex = nullptr;  // regsub (owned by the snapshot's RulesSnap)
  StickRef stick;                      // Conv::kTable
};

struct Expr {
  Fetch fetch = Fetch::kAlwaysFalse;
  Arg a[2];
  std::vector<Step> convs;  // slow path: compiled from the configuration
  StickRef stick;           // Fetch::kStick
  // What a match on it compares by default (HAProxy's fetch "match" column), and whether it
  // yields one value per header field occurrence (an ACL then matches any of them).
  Match default_match = Match::kStr;
};

// One `acl NAME ...` line, or an anonymous `{ ... }`, or a predefined ACL once used.
struct AclTerm {
  Expr expr;
  Match match = Match::kStr;
  bool icase = false;
  std::vector<uint32_t> refs;  // slow path: compiled; pattern sets searched in order
  uint64_t auth_groups = 0;    // http_auth_group(L): the groups named, as the list's bits
};

// A named ACL: its lines OR'ed (HAProxy appends lines of the same name).
struct Acl {
  std::string name;            // slow path: compiled
  std::vector<AclTerm> terms;  // slow path: compiled
};

struct CondTerm {
  uint32_t acl = 0;  // in RulesSnap::acls
  bool neg = false;
};

// `if|unless` ACL terms, AND within a group, groups OR'ed with `||`. No condition: true.
struct Cond {
  bool present = false;
  bool unless = false;
  std::vector<std::vector<CondTerm>> ors;  // slow path: compiled
};

// A log-format string: literal pieces and `%[expr]` pieces (HAProxy's lf-string, header
// values of set-header / add-header, use_backend's dynamic name).
struct LfPiece {
  bool is_expr = false;
  std::string text;  // slow path: compiled
  Expr expr;
};
struct LogFmt {
  std::vector<LfPiece> pieces;  // slow path: compiled
  bool empty() const noexcept { return pieces.empty(); }
};

enum class Act : uint8_t {
  kAccept,
  kReject,  // tcp-request
  kAllow,
  kDeny,
  kTarpit,
  kReturn,
  kRedirect,
  kSetHeader,
  kAddHeader,
  kDelHeader,
  kSetPath,
  kSetPathq,
  kSetUri,
  kSetQuery,
  kSetMethod,
  kSetVar,
  kUnsetVar,
  kSetStatus,
  kSetLogLevel,
  kReplaceHeader,
  kReplaceValue,
  kCapture,  // http-request / http-response capture: `expr` into capture slot `var`
  kAuth,     // http-request auth: a 401 asking for Basic credentials in realm `name`
  kTrackSc,  // track-sc<status> <expr> [table <var>]
  kScIncGpc,  // sc-inc-gpc0|1(<status>), sc-inc-gpc(<i>,<status>): Expr::stick names it
  // sc-set-gpt0(<status>) <expr>; with var > 0, sc-set-gpt(<var - 1>,<status>) <expr>
  kScSetGpt0,
  // http-request use-service prometheus-exporter: the stream is answered by the control
  // plane's exporter (proxy_service.cc); final, as in HAProxy.
  kUseService,
};

enum class RedirectKind : uint8_t { kLocation, kPrefix, kScheme };

struct Rule {
  Act act = Act::kAllow;
  Cond cond;
  uint16_t status = 0;   // deny/tarpit deny_status, return status, redirect code, set-status
  std::string name;      // slow path: compiled; header name, content type of return
  LogFmt value;          // header value, return body (lf-string), redirect target, path...
  std::string body;      // slow path: compiled; return string / file contents
  bool body_lf = false;  // the body is `value` (lf-string / lf-file)
  RedirectKind redirect = RedirectKind::kLocation;
  bool drop_query = false, append_slash = false;
  uint32_t var = UINT32_MAX;           // set-var / unset-var slot
  Expr expr;                           // set-var's expression
  uint32_t line = 0;                   // configuration line (logs, tests)
  pcre2_real_code_8* regex = nullptr;  // replace-header / replace-value (owned by RulesSnap)
};

struct UseBackend {
  Cond cond;
  uint32_t backend = UINT32_MAX;  // a static name
  LogFmt dynamic;                 // `use_backend %[...]`: the name, found at run time
};

// One capture slot of a frontend (`capture request|response header NAME len N`, `declare
// capture`, `http-request capture ... len N`): where its bytes go in the stream's capture
// block (dataplane/rules/capture.h).
struct CaptureSlot {
  std::string header;  // slow path: compiled; the header captured as received ("": by rules)
  uint16_t len = 0;    // at most this many bytes kept
  uint16_t off = 0;    // in the block's bytes
};

// A backend's `stick match|on|store-request|store-response <expr> [table T] [if|unless C]`
// (HAProxy's sticking rules): `on` is a match and a store-request of the same key.
enum class StickRuleKind : uint8_t { kMatch, kOn, kStoreRequest, kStoreResponse };
struct StickRule {
  StickRuleKind kind = StickRuleKind::kMatch;
  Cond cond;
  Expr expr;
  uint32_t table = 0;  // stick::StickSnap's index
  bool Matches() const noexcept {
    return kind == StickRuleKind::kMatch || kind == StickRuleKind::kOn;
  }
  bool Stores() const noexcept { return kind != StickRuleKind::kMatch; }
};

// force-persist / ignore-persist if|unless <cond>: a backend's, the first that matches
// applies (ignore-persist changes nothing for sticking rules, as in HAProxy 2.6.12).
struct PersistRule {
  bool force = false;
  Cond cond;
};

// A proxy's statistics page (`stats ...`, docs/stats-page.md): served after the proxy's
// http-request rules when the request is a GET, HEAD or POST whose target starts with
// `uri`; `rules` (`stats http-request`, then the check `stats auth` makes) run first, and
// `admin` (`stats admin if|unless COND`) says whether the page's admin form may act.
struct StatsService {
  bool on = false;
  std::string uri;          // slow path: compiled
  std::vector<Rule> rules;  // slow path: compiled
  bool admin_set = false;
  Cond admin;
};

struct ProxyRules {
  // tcp-request connection, session and content; http-request, http-response.
  std::vector<Rule> tcp_conn, tcp_sess, tcp_content, http_req, http_res;  // slow path: compiled
  // A backend's sticking rules: match, on and store-request (run once the backend is
  // chosen), store-response (run on the response).
  std::vector<StickRule> stick_req, stick_res;  // slow path: compiled
  std::vector<PersistRule> persist;              // slow path: compiled
  std::vector<CaptureSlot> req_caps, res_caps;                  // slow path: compiled
  // capture cookie NAME len N: the first cookie whose name starts with `cookie_name`, as
  // "name=value" cut to `cookie_len` bytes, from the request's Cookie fields and the
  // response's Set-Cookie fields (%CC, %CS). cookie_len 0: none.
  std::string cookie_name;  // slow path: compiled
  uint8_t cookie_len = 0;
  std::vector<UseBackend> use_backend;                          // slow path: compiled
  std::vector<LogFmt> log_exprs;  // slow path: the `%[...]` of the log-format, in order
  StatsService stats;
};

// A `userlist` as the workers check credentials against it (auth.h).
struct AuthUser {
  std::string name;      // slow path: compiled
  std::string password;  // slow path: compiled; a crypt(3) hash, or clear text when insecure
  bool insecure = false;
  bool has_password = false;
  uint64_t groups = 0;  // bit i: the list's group i
};
struct Userlist {
  std::string name;                 // slow path: compiled
  std::vector<AuthUser> users;      // slow path: compiled
  std::vector<std::string> groups;  // slow path: compiled
  uint64_t serial = 0;              // unique per compiled list (the workers' cache key)
};

// The snapshot part "rules".
struct RulesSnap : snapshot::Part {
  std::vector<Acl> acls;                                   // slow path: compiled
  std::vector<ProxyRules> frontends;                       // slow path: compiled; by frontend index
  std::vector<ProxyRules> backends;                        // slow path: compiled; by backend index
  std::vector<std::string> fe_names, be_names, srv_names;  // slow path: compiled
  std::vector<std::string> var_names;                      // slow path: "txn.x", by slot
  std::vector<Userlist> userlists;                         // slow path: compiled
  // `server ... sni EXPR`, by server index (srv_names'): evaluated when a stream connects
  // to it; server_sni_set[i] 0: the server has none (a constant name is the tls part's).
  std::vector<Expr> server_sni;             // slow path: compiled
  std::vector<uint8_t> server_sni_set;      // slow path: compiled
  uint32_t nsets = 0;                                      // pattern sets (PatternTable size)
  bool active = false;                      // any rule or use_backend at all (else none runs)
  std::vector<pcre2_real_code_8*> regexes;  // slow path: compiled; regsub's, freed with it
  RulesSnap() = default;
  RulesSnap(const RulesSnap&) = delete;
  RulesSnap& operator=(const RulesSnap&) = delete;
  ~RulesSnap();
};

// A transaction's variables (txn.*, req.*, res.*, sess.* share it): bounded.
inline constexpr uint32_t kMaxVars = 16;
inline constexpr uint32_t kVarBytes = 256;
struct Vars {
  uint64_t owner = 0;  // the session uid it belongs to
  uint32_t n = 0;
  struct Var {
    uint32_t slot;
    Sample smp;
    char buf[kVarBytes];
  } v[kMaxVars];
  void Reset(uint64_t uid) noexcept {
    owner = uid;
    n = 0;
  }
  const Sample* Get(uint32_t slot) const noexcept;
  bool Set(uint32_t slot, const Sample& s) noexcept;
  void Unset(uint32_t slot) noexcept;
};

// The stick tables as the rules reach them (the proxy's shards and the stream's tracked
// entries): a fetch's datum, an update by an action.
class StickAccess {
 public:
  virtual bool Fetch(const StickRef& r, struct Ctx& c, Sample* out) noexcept = 0;
  // table_* / in_table: `s` is the key, replaced by the datum of its entry in r.table (a
  // missing entry: 0, in_table false); false when the table does not store the datum.
  virtual bool Convert(const StickRef& r, Sample& s, struct Ctx& c) noexcept = 0;

 protected:
  ~StickAccess() = default;
};

// What the proxy knows about servers and load, for nbsrv(), be_conn and the like.
class ProxyEnv {
 public:
  virtual uint32_t UsableServers(uint32_t backend) const noexcept = 0;
  virtual uint64_t BackendConns(uint32_t backend) const noexcept = 0;
  virtual uint64_t FrontendConns(uint32_t frontend) const noexcept = 0;
  virtual int64_t ConnSlots(uint32_t backend) const noexcept = 0;

 protected:
  ~ProxyEnv() = default;
};

struct Ctx {
  const RulesSnap* rules = nullptr;
  const PatternTable* pats = nullptr;
  const ProxyEnv* env = nullptr;
  Arena* arena = nullptr;
  char* tmp = nullptr;                    // kArenaBytes
  pcre2_real_match_data_8* md = nullptr;  // the worker's, for regsub
  Vars* vars = nullptr;
  // The connection.
  const uint8_t* src = nullptr;
  const uint8_t* dst = nullptr;
  bool v6 = false;
  uint16_t src_port = 0, dst_port = 0;
  const base::TlsFacts* tls = nullptr;  // the client connection's TLS; null: not TLS
  uint32_t frontend = UINT32_MAX, backend = UINT32_MAX, server = UINT32_MAX;
  // HTTP: the heads as parsed (their bytes and index), nullptr outside HTTP.
  const uint8_t* req_head = nullptr;
  const http::MessageHead* req = nullptr;
  const uint8_t* res_head = nullptr;
  const http::MessageHead* res = nullptr;
  // option http-buffer-request: the request body read before the rules (chunked: decoded),
  // at most the buffer's room; nullptr: none was waited for.
  const uint8_t* req_body = nullptr;
  uint32_t req_body_len = 0;
  bool req_body_complete = false;
  uint8_t* caps = nullptr;  // the stream's capture block (capture.h), nullptr: none
  class AuthCache* auth = nullptr;  // the worker's (auth.h); nullptr: hashes are not checked
  StickAccess* stick = nullptr;     // nullptr: no stick table (sc_* fetches have no sample)
};

// Evaluates `e`: false when the sample is missing (a fetch without its data, a converter
// that fails). `cursor` walks the occurrences of a multi-value fetch (hdr): 0 on the first
// call; set to non-zero when another occurrence may follow.
bool Eval(const Expr& e, Ctx& c, Sample* out, uint32_t* cursor = nullptr) noexcept;
// Converts `s` to `to` in place (HAProxy's casts): false when it cannot.
bool Cast(Sample& s, SmpType to, Ctx& c) noexcept;
bool EvalAcl(const Acl& a, Ctx& c) noexcept;
bool EvalCond(const Cond& k, Ctx& c) noexcept;
// Writes the log-format's text to `out` (at most `cap` bytes); returns the length written.
// A missing sample writes "-" when `dash` (log lines), nothing otherwise (lf-string, header
// values: HAProxy 2.6).
uint32_t EvalLogFmt(const LogFmt& f, Ctx& c, char* out, uint32_t cap, bool dash) noexcept;
// `v` with the bytes HAProxy's log-format escapes (0x01-0x08, 0x0a-0x1f, 0x7f) written as
// %XX, into `out` (at most `cap` bytes); returns the length.
uint32_t EscapeControls(std::string_view v, char* out, uint32_t cap) noexcept;
// The sample as text in the arena (or its own view for a string); false when missing.
bool AsText(Sample& s, Ctx& c) noexcept;

}  // namespace sluice::rules
