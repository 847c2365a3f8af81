// Slow path. The Runtime API's ACL and map commands (runtime-api/commands/pattern_cmds.cc)
// over the control plane's pattern store, with every change carried to the workers by
// PatternSync.
#pragma once

#include "controlplane/main/pattern_sync.h"
#include "controlplane/rules/pattern_store.h"
#include "runtime-api/commands/context.h"

namespace sluice::app {

class PatternCliControl final : public cli::PatternControl {
 public:
  PatternCliControl(rulescp::PatternStore& store, PatternSync* sync) : store_(store), sync_(sync) {}

  std::vector<cli::PatternRefView> List(bool map) override;
  int64_t Find(std::string_view name, bool map) override;
  bool IsMap(uint32_t id) override;
  void Entries(uint32_t id, bool has_ver, uint32_t ver, uintptr_t* cursor, size_t max,
               std::vector<cli::PatternEntryView>* out) override;
  std::string Get(uint32_t id, std::string_view value, bool map) override;
  std::string Add(uint32_t id, std::string_view key, std::string_view value, bool has_ver,
                  uint32_t ver) override;
  bool Delete(uint32_t id, std::string_view key_or_ref) override;
  bool Set(uint32_t id, std::string_view key_or_ref, std::string_view value) override;
  void Clear(uint32_t id, bool has_ver, uint32_t ver) override;
  uint32_t Prepare(uint32_t id) override;
  std::string Commit(uint32_t id, uint32_t ver) override;
  uint64_t Flush() override;
  bool Applied(uint64_t seq) override;

 private:
  rulescp::PatternStore& store_;
  PatternSync* sync_;  // null before the workers run (then nothing needs carrying)
};

}  // namespace sluice::app
