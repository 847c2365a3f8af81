// Slow path. `show info [desc|json|typed|float]*` and `show version`, with HAProxy 2.6's
// fields, order and formats (../shared/compat/haproxy-2.6/RUNTIME-API.md section 3.3).
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "dataplane/base/assert.h"
#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/typed_text.h"

namespace sluice::cli {

std::string_view InfoTypeName(InfoType type) {
  switch (type) {
    case InfoType::kStr:
      return "str";
    case InfoType::kU32:
      return "u32";
    case InfoType::kS32:
      return "s32";
    case InfoType::kU64:
      return "u64";
    case InfoType::kS64:
      return "s64";
    case InfoType::kFlt:
      return "flt";
  }
  return "str";
}

InfoValues::InfoValues() {
#define SL_INFO_FIELD(pos, name, tags, type, default_value, desc) \
  fields_.push_back(InfoField{pos, name, tags, InfoType::type, desc, default_value, ""});
#include "runtime-api/commands/info_fields.def"
#undef SL_INFO_FIELD
  SetNum("Pid", static_cast<uint64_t>(getpid()));
}

const InfoField* InfoValues::Find(std::string_view name) const {
  for (const InfoField& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

InfoField& InfoValues::Get(std::string_view name) {
  for (InfoField& f : fields_) {
    if (f.name == name) return f;
  }
  LB_BUG("unknown show info field");
}

void InfoValues::SetStr(std::string_view name, std::string_view value) {
  Get(name).value = std::string(value);
}

void InfoValues::SetNum(std::string_view name, uint64_t value) {
  Get(name).value = std::to_string(value);
}

void InfoValues::SetSigned(std::string_view name, int64_t value) {
  Get(name).value = std::to_string(value);
}

void InfoValues::SetFloat(std::string_view name, double value) {
  InfoField& f = Get(name);
  f.value = std::to_string(static_cast<uint64_t>(value < 0 ? 0 : value));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%f", value);
  f.float_value = buf;
}

std::string FormatUptime(uint64_t seconds) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%" PRIu64 "d %" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s",
                seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
  return buf;
}

void InfoValues::SetUptime(double seconds) {
  if (seconds < 0) seconds = 0;
  SetStr("Uptime", FormatUptime(static_cast<uint64_t>(seconds)));
  SetFloat("Uptime_sec", seconds);
}

namespace {

enum class InfoFormat { kText, kTyped, kJson };

class ShowInfoDump final : public Dump {
 public:
  ShowInfoDump(InfoValues values, InfoFormat format, bool desc, bool floats)
      : values_(std::move(values)), format_(format), desc_(desc), floats_(floats) {}

  DumpStatus Step(Writer& out) override {
    const auto& fields = values_.fields();
    while (next_ < fields.size()) {
      if (!out.Put(Record(fields[next_], next_ == 0))) return DumpStatus::kMore;
      ++next_;
    }
    if (format_ == InfoFormat::kJson && !closed_) {
      if (!out.Put(fields.empty() ? "[]\n" : "]\n")) return DumpStatus::kMore;
      closed_ = true;
    }
    return DumpStatus::kDone;
  }

 private:
  std::string Record(const InfoField& f, bool first) const {
    const bool as_float = floats_ && !f.float_value.empty();
    const std::string& value = as_float ? f.float_value : f.value;
    const InfoType type = as_float ? InfoType::kFlt : f.type;
    std::string r;
    switch (format_) {
      case InfoFormat::kText:
        r.append(f.name).append(": ").append(value).append("\n");
        break;
      case InfoFormat::kTyped:
        r = std::to_string(f.pos) + "." + std::string(f.name) + ".1:" + std::string(f.tags) + ":" +
            std::string(InfoTypeName(type)) + ":" + value;
        if (desc_) r.append(":\"").append(f.desc).append("\"");
        r += '\n';
        break;
      case InfoFormat::kJson:
        r = first ? "[" : ",";
        r += "{\"field\":{\"pos\":" + std::to_string(f.pos) + ",\"name\":";
        AppendJsonString(r, f.name);
        r += "},\"processNum\":1,\"tags\":{\"origin\":\"";
        r.append(TagOriginName(f.tags[0])).append("\",\"nature\":\"");
        r.append(TagNatureName(f.tags[1])).append("\",\"scope\":\"");
        r.append(TagScopeName(f.tags[2])).append("\"},\"value\":{\"type\":\"");
        r.append(InfoTypeName(type)).append("\",\"value\":");
        if (type == InfoType::kStr) {
          AppendJsonString(r, value);
        } else {
          r += value.empty() ? "0" : value;
        }
        r += "}}";
        break;
    }
    return r;
  }

  InfoValues values_;
  InfoFormat format_;
  bool desc_;
  bool floats_;
  size_t next_ = 0;
  bool closed_ = false;
};

std::unique_ptr<Dump> ShowInfo(Call& call) {
  InfoFormat format = InfoFormat::kText;
  bool desc = false;
  bool floats = false;
  for (size_t i = 2; i < call.args.size(); ++i) {
    const std::string& a = call.args[i];
    if (a == "typed") {
      format = InfoFormat::kTyped;
    } else if (a == "json") {
      format = InfoFormat::kJson;
    } else if (a == "desc") {
      desc = true;
    } else if (a == "float") {
      floats = true;
    } else if (!a.empty()) {
      call.Error("Expects either 'typed', 'json', 'desc' or 'float'.\n");
      return nullptr;
    }
  }
  InfoValues values;
  const std::string version = call.appliance.Version();
  values.SetStr("Version", version);
  values.SetStr("Build info", version);
  call.appliance.FillInfo(values);
  return std::make_unique<ShowInfoDump>(std::move(values), format, desc, floats);
}

std::unique_ptr<Dump> ShowVersion(Call& call) {
  return std::make_unique<TextDump>(call.appliance.Version() + "\n");
}

constexpr CommandRow kInfoCommands[] = {
    {{"show", "info"}, Level::kUser, &ShowInfo, "show info [desc|json|typed|float]*",
     "report information about the running process"},
    {{"show", "version"}, Level::kUser, &ShowVersion, "show version",
     "show version of the current process"},
};

}  // namespace

std::span<const CommandRow> InfoCommands() { return kInfoCommands; }

}  // namespace sluice::cli
