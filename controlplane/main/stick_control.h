// Slow path. The Runtime API's stick-table commands on the appliance
// (runtime-api/commands/context.h StickControl): every request goes on the workers'
// request/reply rings (base::Op::kStick*), each worker answering for its shard; a listing is
// gathered from all of them in slices. A key's entry lives on the worker that owns it
// (dataplane/stick/owner.h): `set table` and `clear table ... key` go to that worker alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "controlplane/main/appliance.h"
#include "dataplane/stick/stick.h"
#include "runtime-api/commands/context.h"

namespace sluice::app {

class StickCliControl final : public cli::StickControl {
 public:
  // `servers`, `addrs`: every server's name and address:port by its index (server_key's
  // values, as a table's `srvkey` says).
  StickCliControl(Appliance& app, const stick::StickSnap& tables,
                  const std::vector<std::string>& servers, const std::vector<std::string>& addrs);

  const std::vector<cli::StickTableView>& Tables() override { return views_; }
  std::unique_ptr<cli::StickRows> Rows(size_t table, const std::string* key,
                                       const std::vector<cli::StickFilterView>& filters) override;
  std::unique_ptr<cli::PendingAnswer> Used(std::vector<uint64_t>* used) override;
  std::unique_ptr<cli::PendingAnswer> Set(
      size_t table, const std::string& key,
      const std::vector<std::pair<uint8_t, int64_t>>& data) override;
  std::unique_ptr<cli::PendingAnswer> Clear(size_t table, const std::string* key,
                                            const std::vector<cli::StickFilterView>& f) override;

 private:
  // The worker that holds `key` of `table`.
  unsigned OwnerOf(size_t table, const std::string& key) const;
  // A key and filters as the workers apply them.
  static stick::StickClear Want(const std::string* key,
                                const std::vector<cli::StickFilterView>& filters);

  Appliance& app_;
  const stick::StickSnap& tables_;
  std::vector<cli::StickTableView> views_;
};

}  // namespace sluice::app
