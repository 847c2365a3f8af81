// Slow path. The stick-table commands on the appliance (controlplane/main/stick_control.h).
#include "controlplane/main/stick_control.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "dataplane/stick/owner.h"

namespace sluice::app {
namespace {

// Rows one dump reply carries at most (a slice of about 64 KiB).
constexpr uint32_t kRowSlice = 256;
constexpr auto kReplyTimeout = std::chrono::seconds(5);

std::string_view TypeName(stick::KeyType t) {
  switch (t) {
    case stick::KeyType::kIp:
      return "ip";
    case stick::KeyType::kIpv6:
      return "ipv6";
    case stick::KeyType::kInteger:
      return "integer";
    case stick::KeyType::kString:
      return "string";
    case stick::KeyType::kBinary:
      return "binary";
  }
  return "ip";
}

// A dumped row's bytes: the row, then its arrays' elements past 0.
size_t RowBytes(const stick::TableDef& t) { return sizeof(stick::StickRow) + 8 * t.ArrayTail(); }

// `show table <t>`: one request in flight per worker, each answered with a slice of its
// shard; the next slice is asked for as each reply is taken.
class Rows final : public cli::StickRows {
 public:
  Rows(Appliance& app, const stick::StickSnap& tables, size_t table, const stick::StickClear& want)
      : app_(app), tables_(tables), table_(table), want_(want),
        deadline_(std::chrono::steady_clock::now() + kReplyTimeout) {
    for (unsigned w = 0; w < app_.requests().workers(); ++w) flights_.push_back(Ask(w, 0));
  }

  cli::Gather Next(std::vector<cli::StickRowView>* out) override {
    app_.requests().Poll();
    bool got = false;
    const stick::TableDef& def = tables_.tables[table_];
    for (auto& f : flights_) {
      if (!f || !f->answered) continue;
      const base::Request r = f->req;
      const publish::RequestHub::Ref done = std::move(f);
      if (!r.done && r.status == base::ReplyStatus::kOk) f = Ask(r.worker, r.cursor);
      seen_ += r.seen;
      const size_t stride = RowBytes(def);
      for (uint32_t i = 0; i < r.count; ++i) {
        stick::StickRow row;
        const uint8_t* at = done->payload.get() + i * stride;
        std::memcpy(&row, at, sizeof row);
        cli::StickRowView v;
        v.key.assign(reinterpret_cast<const char*>(row.key), def.key_len);
        v.ref = row.ref;
        v.use = row.use;
        v.exp_ms = row.exp_ms;
        const uint8_t* tail = at + sizeof row;  // the arrays' elements past 0
        for (size_t d = 0; d < stick::kDataTypes; ++d) {
          const auto data = static_cast<stick::Data>(d);
          if (!def.Stores(data)) continue;
          v.values.push_back(row.values[d]);
          for (uint32_t e = 1; e < def.Elems(data); ++e, tail += 8) {
            int64_t x;
            std::memcpy(&x, tail, 8);
            v.values.push_back(x);
          }
        }
        out->push_back(std::move(v));
      }
      got = true;
    }
    if (std::all_of(flights_.begin(), flights_.end(), [](const auto& f) { return !f; })) {
      return cli::Gather::kDone;
    }
    if (got) deadline_ = std::chrono::steady_clock::now() + kReplyTimeout;
    if (std::chrono::steady_clock::now() > deadline_) return cli::Gather::kDone;
    return cli::Gather::kWait;
  }

 private:
  publish::RequestHub::Ref Ask(unsigned worker, uint64_t cursor) {
    // The key and filters go with each slice: the worker applies them, at the start of the
    // payload its rows then overwrite.
    const uint32_t bytes = static_cast<uint32_t>(
        std::max(kRowSlice * RowBytes(tables_.tables[table_]), sizeof(stick::StickClear)));
    return app_.requests().Send(worker, base::Op::kStickDump, table_ | base::kStickFiltered,
                                cursor, bytes, &want_, sizeof want_);
  }

 public:
  bool Seen(uint64_t* n) const override {
    *n = seen_;
    return true;
  }

 private:

  Appliance& app_;
  const stick::StickSnap& tables_;
  size_t table_;
  stick::StickClear want_;
  uint64_t seen_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<publish::RequestHub::Ref> flights_;
};

// Requests sent to some workers; the answer once all replied: `on_reply` reads each one and
// may set the error text.
class Answer final : public cli::PendingAnswer {
 public:
  using OnReply = std::function<void(const base::Request&, std::string*)>;
  Answer(publish::RequestHub& hub, std::vector<publish::RequestHub::Ref> refs, OnReply on_reply)
      : hub_(hub),
        refs_(std::move(refs)),
        on_reply_(std::move(on_reply)),
        deadline_(std::chrono::steady_clock::now() + kReplyTimeout) {}
  cli::Gather Poll(std::string* error) override {
    hub_.Poll();
    for (const auto& r : refs_) {
      if (r->answered) continue;
      if (std::chrono::steady_clock::now() <= deadline_) return cli::Gather::kWait;
      *error = "The workers did not answer in time.\n";
      return cli::Gather::kDone;
    }
    for (const auto& r : refs_) {
      if (r->req.status == base::ReplyStatus::kBusy) {
        *error = "Too many requests are waiting for the workers; try again.\n";
        return cli::Gather::kDone;
      }
      on_reply_(r->req, error);
    }
    return cli::Gather::kDone;
  }

 private:
  publish::RequestHub& hub_;
  std::vector<publish::RequestHub::Ref> refs_;
  OnReply on_reply_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace

StickCliControl::StickCliControl(Appliance& app, const stick::StickSnap& tables,
                                 const std::vector<std::string>& servers,
                                 const std::vector<std::string>& addrs)
    : app_(app), tables_(tables) {
  for (const stick::TableDef& t : tables.tables) {
    cli::StickTableView v;
    v.name = t.name;
    v.type = std::string(TypeName(t.type));
    v.size = t.size;
    v.key_len = t.key_len;
    for (size_t d = 0; d < stick::kDataTypes; ++d) {
      const auto data = static_cast<stick::Data>(d);
      if (!t.Stores(data)) continue;
      const std::string type(stick::Info(data).name);
      // An array's elements: gpt0.., gpc0.., gpc0_rate..; `data.gpc` names element 0.
      for (uint32_t i = 0; i < t.Elems(data); ++i) {
        cli::StickColumn c;
        c.name = !stick::IsArray(data)           ? type
                 : data == stick::Data::kGpcRate ? "gpc" + std::to_string(i) + "_rate"
                                                 : type + std::to_string(i);
        c.type = i == 0 ? type : "";
        c.data = i == 0 ? static_cast<uint8_t>(d) : cli::kNoData;
        c.period_ms = t.period[d];
        c.is_signed = stick::Info(data).kind == stick::Kind::kSint;
        if (stick::Info(data).kind == stick::Kind::kDict) {
          c.names = t.srvkey_addr ? addrs : servers;
          c.dict = true;
        }
        v.columns.push_back(std::move(c));
      }
    }
    views_.push_back(std::move(v));
  }
}

unsigned StickCliControl::OwnerOf(size_t table, const std::string& key) const {
  uint8_t k[stick::kMaxKeyBytes] = {};
  std::memcpy(k, key.data(), std::min<size_t>(key.size(), sizeof k));
  return stick::OwnerOf(tables_.tables[table], k, app_.net().steering,
                        static_cast<uint16_t>(app_.requests().workers()));
}

std::unique_ptr<cli::StickRows> StickCliControl::Rows(
    size_t table, const std::string* key, const std::vector<cli::StickFilterView>& filters) {
  return std::make_unique<app::Rows>(app_, tables_, table, Want(key, filters));
}

stick::StickClear StickCliControl::Want(const std::string* key,
                                        const std::vector<cli::StickFilterView>& filters) {
  stick::StickClear cl;
  std::memset(cl.key, 0, sizeof cl.key);
  if (key) {
    cl.has_key = true;
    std::memcpy(cl.key, key->data(), std::min<size_t>(key->size(), sizeof cl.key));
  }
  for (const cli::StickFilterView& x : filters) {
    if (cl.nfilters == stick::kMaxFilters) break;
    cl.filters[cl.nfilters++] =
        stick::StickFilter{x.data, static_cast<stick::FilterOp>(x.op), x.value};
  }
  return cl;
}

std::unique_ptr<cli::PendingAnswer> StickCliControl::Used(std::vector<uint64_t>* used) {
  std::vector<publish::RequestHub::Ref> refs;
  used->assign(tables_.tables.size(), 0);
  for (size_t t = 0; t < tables_.tables.size(); ++t) {
    for (unsigned w = 0; w < app_.requests().workers(); ++w) {
      refs.push_back(app_.requests().Send(w, base::Op::kStickUsed, t));
    }
  }
  return std::make_unique<Answer>(app_.requests(), std::move(refs),
                                  [used](const base::Request& r, std::string*) {
                                    if (r.arg < used->size()) (*used)[r.arg] += r.count;
                                  });
}

std::unique_ptr<cli::PendingAnswer> StickCliControl::Set(
    size_t table, const std::string& key, const std::vector<std::pair<uint8_t, int64_t>>& data) {
  stick::StickSet set;
  std::memset(set.key, 0, sizeof set.key);
  std::memcpy(set.key, key.data(), std::min<size_t>(key.size(), sizeof set.key));
  for (const auto& [d, v] : data) {
    if (set.n == stick::kDataTypes) break;
    set.items[set.n++] = stick::StickSet::Item{d, v};
  }
  std::vector<publish::RequestHub::Ref> refs;
  refs.push_back(app_.requests().Send(OwnerOf(table, key), base::Op::kStickSet, table, 0,
                                      sizeof set, &set));
  return std::make_unique<Answer>(app_.requests(), std::move(refs),
                                  [](const base::Request& r, std::string* err) {
                                    if (r.count) *err = "Unable to allocate a new entry\n";
                                  });
}

std::unique_ptr<cli::PendingAnswer> StickCliControl::Clear(
    size_t table, const std::string* key, const std::vector<cli::StickFilterView>& f) {
  const stick::StickClear cl = Want(key, key ? std::vector<cli::StickFilterView>{} : f);
  std::vector<publish::RequestHub::Ref> refs;
  if (key) {
    refs.push_back(app_.requests().Send(OwnerOf(table, *key), base::Op::kStickClear, table, 0,
                                        sizeof cl, &cl));
  } else {
    for (unsigned w = 0; w < app_.requests().workers(); ++w) {
      refs.push_back(
          app_.requests().Send(w, base::Op::kStickClear, table, 0, sizeof cl, &cl));
    }
  }
  return std::make_unique<Answer>(app_.requests(), std::move(refs),
                                  [](const base::Request& r, std::string* err) {
                                    if (r.cursor == 1) {
                                      *err = "Entry currently in use, cannot remove\n";
                                    }
                                  });
}

}  // namespace sluice::app
