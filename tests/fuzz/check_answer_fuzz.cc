// libFuzzer target for the health checks' answer reading (dataplane/health/expect.h): the
// first byte picks where the answer is cut, the rest is a server's answer. It is judged by
// rules of every kind (status, string, rstring, hdr, fhdr, negated) once as read up to the
// cut and once whole with nothing more to come. Whatever the bytes, the reading stays in
// bounds (ASan), and the whole answer always gets a verdict: a check never waits after the
// last read.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/health/expect.h"

namespace {

using namespace sluice::check;

std::vector<Expect> MakeRules() {
  std::vector<Expect> rules;
  std::string error;
  Expect status;
  status.codes.AddRange(100, 599);
  rules.push_back(std::move(status));
  Expect hdr;
  hdr.kind = ExpectKind::kHeader;
  hdr.text = "x-";
  hdr.name_match = HeaderMatch::kBeg;
  hdr.negate = true;
  hdr.has_value = true;
  hdr.value_match = HeaderMatch::kReg;
  hdr.value_re = CompileRegex("^zz+$", &error);
  rules.push_back(std::move(hdr));
  Expect fhdr;
  fhdr.kind = ExpectKind::kHeader;
  fhdr.full = true;
  fhdr.name_match = HeaderMatch::kReg;
  fhdr.re = CompileRegex("^nope", &error);
  fhdr.negate = true;
  rules.push_back(std::move(fhdr));
  Expect str;
  str.kind = ExpectKind::kString;
  str.text = "q";
  str.negate = true;
  rules.push_back(std::move(str));
  Expect re;
  re.kind = ExpectKind::kRegex;
  re.re = CompileRegex("[a-z]", &error);
  rules.push_back(std::move(re));
  return rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Expect> rules = MakeRules();
  static const auto head = std::make_unique<sluice::http::MessageHead>();
  static pcre2_real_match_data_8* md = NewMatchData();
  if (size < 1 || size > 70000) return 0;
  std::vector<uint8_t> answer(data + 1, data + size);
  const size_t cut = answer.empty() ? 0 : data[0] % (answer.size() + 1);
  EvalContext ctx;
  ctx.head = head.get();
  ctx.md = md;
  ctx.head_request = data[0] & 1;
  std::vector<uint8_t> part(answer.begin(), answer.begin() + static_cast<ptrdiff_t>(cut));
  Evaluate(part.data(), static_cast<uint32_t>(part.size()), false, rules.data(), rules.size(),
           ctx);
  const Verdict whole = Evaluate(answer.data(), static_cast<uint32_t>(answer.size()), true,
                                 rules.data(), rules.size(), ctx);
  if (whole.what == Verdict::kWait) __builtin_trap();
  return 0;
}
