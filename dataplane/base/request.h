// Request/reply messages between the control plane and the workers (DESIGN.md section 8,
// AESTHETICS practice 5). The control plane owns every Request and its payload buffer: it
// fills the request, puts a pointer to it on the worker's request ring, and keeps it alive
// until the pointer comes back on that worker's reply ring. In between, the worker alone
// writes the reply fields and the payload. Dumps are sliced: a reply carries at most what
// the payload holds and a cursor where the next request resumes, so a worker never spends
// more than one bounded slice of a loop iteration on a request, however large its tables.
#pragma once

#include <cstdint>

namespace sluice::base {

enum class Op : uint16_t {
  // `show sess`: arg = session id (0: every session); cursor = first session slot to look
  // at. Reply: `count` proxy::SessionInfo records in the payload, `cursor` the next slot,
  // `done` once the table's end was reached.
  kShowSessions,
  // `shutdown session`: arg = session id. Reply: count = 1 when it was found and killed.
  kShutdownSession,
  // `shutdown sessions server`: arg = server index. Reply: count = sessions killed.
  kShutdownServerSessions,
  // ACL and map changes (`add|del|set|clear|commit acl|map`): `count` rules::PatternOp
  // records in the payload, applied in order. A swap record's index is exchanged with the
  // worker's; the reply carries the replaced one back in the same record, for the control
  // plane to free.
  kPatternOps,
  // Stick tables (stick::StickRow and friends, dataplane/stick/stick.h); arg = the table.
  // kStickDump: cursor = the shard's pool index to resume from; with kStickFiltered in arg,
  // the payload comes holding a stick::StickClear (a key, filters) that the rows must pass;
  // reply: `count` StickRow, `seen` the live entries looked at, `done` at the shard's end.
  // kStickUsed: reply count = the shard's entries.
  // kStickSet: a StickSet in the payload; reply count = 1 when the entry could not be made.
  // kStickClear: a StickClear in the payload; reply count = entries removed, cursor = 1
  // when the key named is in use.
  kStickDump,
  kStickUsed,
  kStickSet,
  kStickClear,
  // Answers the control plane renders for a worker's clients (dataplane/proxy/
  // service_call.h): kServiceTake: reply `count` proxy::ServiceCall records, the calls
  // handed over since the last take (each taken once). kServiceData: `arg` a packed
  // proxy::ServiceData, `cursor` the call's session id, the payload the bytes; reply count
  // = 1 when they were queued for the client, 0 when its queue is full (send them again
  // later); seen = 1 when the call is gone (the client left).
  kServiceTake,
  kServiceData,
};

inline constexpr uint64_t kStickFiltered = 1ull << 32;  // kStickDump's arg: filters come

// kBusy: never sent, the control plane had too many requests waiting for that worker.
enum class ReplyStatus : uint8_t { kOk, kUnknownOp, kBusy };

struct Request {
  // Written by the control plane before the request is sent.
  uint64_t id = 0;  // unique per control plane, echoed back
  Op op = Op::kShowSessions;
  uint16_t worker = 0;  // the worker it is sent to
  uint64_t arg = 0;
  uint64_t cursor = 0;  // where a sliced dump resumes; the reply writes the next one
  uint8_t* payload = nullptr;
  uint32_t capacity = 0;  // payload bytes
  // Written by the worker.
  uint32_t used = 0;  // payload bytes written
  uint32_t count = 0;
  uint32_t seen = 0;
  bool done = false;
  ReplyStatus status = ReplyStatus::kOk;
};

}  // namespace sluice::base
