// The answers a proxy sends instead of HAProxy's own pages: `errorfile CODE FILE`,
// `errorfiles NAME [CODE...]` and `http-error status CODE ...` (configuration.txt 4.2), and
// the `http-errors NAME` sections (3.8) errorfiles names, each kept as the whole answer's
// bytes (ProxyConfig::errorfiles). Messages are HAProxy 2.6.12's, checked against Debian's
// haproxy.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "controlplane/config/parse_context.h"
#include "dataplane/http/h1.h"
#include "dataplane/http/h1_replies.h"

namespace sluice::config {
namespace {

// The codes an errorfile or http-error may replace: HAProxy's.
constexpr unsigned kErrorfileCodes[] = {200, 400, 401, 403, 404, 405, 407, 408, 410,
                                        413, 425, 429, 500, 501, 502, 503, 504};

bool Handled(uint64_t code) {
  return std::find(std::begin(kErrorfileCodes), std::end(kErrorfileCodes), code) !=
         std::end(kErrorfileCodes);
}

// A file's bytes, or nothing (with `prefix` + HAProxy's words alerted).
std::optional<std::string> ReadFile(ParseContext& ctx, const std::string& prefix,
                                    const std::string& path) {
  std::string text;
  const FileRead r = ReadBoundedFile(path, http::kMaxHeadBytes, &text);
  if (r == FileRead::kCannotOpen) {
    ctx.Alert(prefix + "error opening file " + Quoted(path) + ".");
    return std::nullopt;
  }
  if (r == FileRead::kTooBig) {
    ctx.Alert(prefix + "file " + Quoted(path) + " is larger than " +
              std::to_string(http::kMaxHeadBytes) + " bytes (tune.bufsize less tune.maxrewrite).");
    return std::nullopt;
  }
  return text;
}

// A whole answer read from `path`: a head that parses, then a body as long as it says.
std::optional<std::string> ReadAnswer(ParseContext& ctx, const std::string& prefix,
                                      const std::string& path) {
  std::optional<std::string> text = ReadFile(ctx, prefix, path);
  if (!text) return std::nullopt;
  http::HeadScanner scan;
  const auto* p = reinterpret_cast<const uint8_t*>(text->data());
  const uint32_t n = static_cast<uint32_t>(text->size());
  scan.Scan(p, n);
  http::ParseOptions o;
  o.request = false;
  auto head = std::make_unique<http::MessageHead>();
  if (!scan.done() || !http::ParseHead(p, scan.bytes(), o, head.get()) ||
      (head->body == http::Body::kLength && head->content_length != n - scan.bytes())) {
    ctx.Alert(prefix + "Unable to convert message in HTX (" + Quoted(path) +
              "): not a whole HTTP answer with its Content-Length.");
    return std::nullopt;
  }
  return text;
}

// The proxy's answer for `code` is `text` from now on (none: HAProxy's page again, kept as an
// empty answer so that it still wins over an earlier `errorfiles` resolved later).
void SetAnswer(ParseContext& ctx, uint64_t code, std::optional<std::string> text) {
  auto& files = Target(ctx).errorfiles;
  std::erase_if(files, [&](const auto& f) { return f.code == code; });
  files.push_back({static_cast<unsigned>(code), text ? std::move(*text) : "", ++ctx.reply_seq});
}

// The answers of http-errors section `name` (codes: those only) are the proxy's from here,
// once the section is known (ResolveErrorfiles).
void AddErrorfilesRef(ParseContext& ctx, const std::string& name, std::vector<unsigned> codes) {
  Target(ctx).errorfiles_refs.push_back(
      {name, std::move(codes), ++ctx.reply_seq, ctx.file, ctx.line});
}

// `errorfile CODE FILE` in an http-errors section.
void SectionErrorfile(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (args.size() != 3) {
    ctx.Alert("errorfile: expects <status_code> and <file> as arguments.");
    return;
  }
  const std::optional<uint64_t> code = ParseDecimal(args[1]);
  if (!code || !Handled(*code)) {
    ctx.Alert("errorfile : status code " + Quoted(args[1]) + " not handled.");
    return;
  }
  std::optional<std::string> text = ReadAnswer(ctx, "", args[2]);
  if (!text) return;
  auto& files = ctx.config.http_errors.back().errorfiles;
  std::erase_if(files, [&](const auto& f) { return f.first == *code; });
  files.emplace_back(static_cast<unsigned>(*code), std::move(*text));
}

constexpr KeywordRow kHttpErrorsKeywords[] = {
    {"errorfile", Match::kExact, &SectionErrorfile, 0, -1, "a status code and a file", ""},
};

// Header names http-error never adds: the answer's own framing and type.
constexpr std::string_view kReplyOwnHeaders[] = {"content-length", "content-type",
                                                 "transfer-encoding"};

}  // namespace

void Errorfile(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t code = 0;
  if (!ParseUnsignedArg(ctx, args[1], 100, 599, &code)) return;
  if (!Handled(code)) {
    ctx.Alert("status code '" + args[1] + "' not handled.");
    return;
  }
  std::optional<std::string> text = ReadAnswer(ctx, "", args[2]);
  if (text) SetAnswer(ctx, code, std::move(text));
}

// errorfiles NAME [CODE...]: the section's answers (for CODE... only), as if each were an
// errorfile line here: they replace the ones before and give way to the ones after.
void Errorfiles(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (args.size() < 2) {
    ctx.Alert("errorfiles : expects <name> as argument.");
    return;
  }
  std::vector<unsigned> codes;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::optional<uint64_t> code = ParseDecimal(args[i]);
    if (!code || !Handled(*code)) {
      ctx.Alert("errorfiles : status code " + Quoted(args[i]) + " not handled.");
      return;
    }
    codes.push_back(static_cast<unsigned>(*code));
  }
  AddErrorfilesRef(ctx, args[1], std::move(codes));
}

void EnterHttpErrors(ParseContext& ctx, const Args& args) {
  if (args.size() < 2 || args[1].empty()) {
    ctx.Alert("missing name for http-errors section.");
    ctx.section = Section::kSkipped;
    return;
  }
  for (const HttpErrorsConfig& h : ctx.config.http_errors) {
    if (h.name == args[1]) {
      ctx.Alert("http-errors section " + Quoted(args[1]) + " already exists (declared at " +
                At(h.file, h.line) + ").");
      ctx.section = Section::kSkipped;
      return;
    }
  }
  ctx.config.http_errors.push_back({args[1], ctx.file, ctx.line, {}});
  ctx.section = Section::kHttpErrors;
}

std::span<const KeywordRow> HttpErrorsKeywords() { return kHttpErrorsKeywords; }

// Every proxy's `errorfiles` (and http-error's) in the order written: a section's answer for
// a code replaces what came before the reference and not what came after it.
void ResolveErrorfiles(ParseContext& ctx) {
  for (ProxyConfig& p : ctx.config.proxies) {
    for (const ProxyConfig::ErrorfilesRef& ref : p.errorfiles_refs) {
      const HttpErrorsConfig* section = nullptr;
      for (const HttpErrorsConfig& h : ctx.config.http_errors) {
        if (h.name == ref.section) section = &h;
      }
      if (section == nullptr) {
        ctx.AddAt(Diagnostic::Severity::kAlert, ref.file, ref.line, "errorfiles",
                  "proxy " + Quoted(p.name) + ": unknown http-errors section " +
                      Quoted(ref.section) + ".");
        continue;
      }
      for (const unsigned code : ref.codes) {  // named codes the section lacks: HAProxy warns
        if (std::none_of(section->errorfiles.begin(), section->errorfiles.end(),
                         [&](const auto& f) { return f.first == code; })) {
          ctx.AddAt(Diagnostic::Severity::kWarning, ref.file, ref.line, "errorfiles",
                    "proxy " + Quoted(p.name) + " : status '" + std::to_string(code) +
                        "' not declared in http-errors section " + Quoted(ref.section) + ".");
        }
      }
      for (const auto& answer : section->errorfiles) {
        const unsigned code = answer.first;
        if (!ref.codes.empty() &&
            std::find(ref.codes.begin(), ref.codes.end(), code) == ref.codes.end()) {
          continue;
        }
        auto it = std::find_if(p.errorfiles.begin(), p.errorfiles.end(),
                               [&](const auto& f) { return f.code == code; });
        if (it == p.errorfiles.end()) {
          p.errorfiles.push_back({code, answer.second, ref.seq});
        } else if (it->seq < ref.seq) {
          it->text = answer.second;
          it->seq = ref.seq;
        }
      }
    }
    p.errorfiles_refs.clear();
  }
}

// http-error status CODE [content-type TYPE] [default-errorfiles | errorfile FILE | file FILE
// | string TEXT] [hdr NAME VALUE]...: the answer built as haproxy 2.6.12 builds it (the
// status line, the `hdr` fields with their names in lower case, content-length, then
// content-type when there is a body). The log-format forms (lf-string, lf-file, a `%` in a
// hdr value) are refused; `errorfiles NAME` takes the section's answer for CODE.
void HttpError(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string prefix = "http-error : ";
  if (args.size() < 3 || args[1] != "status") {
    ctx.Alert(prefix + "expects at least a <status> as arguments.");
    return;
  }
  const std::optional<uint64_t> code = ParseDecimal(args[2]);
  if (!code || *code < 200 || *code > 599) {
    ctx.Alert(prefix + "Unexpected status code '" + std::to_string(code.value_or(0)) + "'");
    return;
  }
  if (!Handled(*code)) {
    ctx.Alert("http-error: status code '" + args[2] + "' not handled.");
    return;
  }
  std::string type, source, body;
  std::optional<std::string> whole;  // errorfile FILE
  std::string section;               // errorfiles NAME
  bool defaults = false;
  std::string fields;
  for (size_t i = 3; i < args.size(); ++i) {
    const std::string& k = args[i];
    const bool takes_arg = k == "content-type" || k == "errorfile" || k == "file" ||
                           k == "string" || k == "errorfiles";
    if (takes_arg && i + 1 >= args.size()) {
      ctx.Alert(prefix + Quoted(k) + " expects <arg> as argument.");
      return;
    }
    if (k == "content-type") {
      type = args[++i];
    } else if (k == "default-errorfiles" || k == "errorfile" || k == "file" || k == "string" ||
               k == "errorfiles") {
      if (!source.empty()) {
        ctx.Alert(prefix + "unexpected " + Quoted(k) + " argument, " + Quoted(source) +
                  " already defined");
        return;
      }
      source = k;
      if (k == "default-errorfiles") {
        defaults = true;
      } else if (k == "string") {
        body = args[++i];
      } else if (k == "errorfiles") {
        section = args[++i];
      } else if (k == "file") {
        std::optional<std::string> text = ReadFile(ctx, prefix, args[++i]);
        if (!text) return;
        body = std::move(*text);
      } else {
        whole = ReadAnswer(ctx, prefix, args[++i]);
        if (!whole) return;
      }
    } else if (k == "hdr") {
      if (i + 2 >= args.size()) {
        ctx.Alert(prefix + "'hdr' expects <name> and <value> as arguments");
        return;
      }
      std::string name = args[i + 1];
      const std::string& value = args[i + 2];
      i += 2;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (value.find('%') != std::string::npos) {
        ctx.Alert(prefix + "'hdr' values are log-format strings in haproxy; sluice takes only "
                  "plain text, got " + Quoted(value) + ".");
        return;
      }
      if (std::find(std::begin(kReplyOwnHeaders), std::end(kReplyOwnHeaders), name) !=
          std::end(kReplyOwnHeaders)) {
        ctx.Warn("header " + Quoted(name) + " always ignored by the http reply.");
        continue;
      }
      fields += name + ": " + value + "\r\n";
    } else if (k == "lf-string" || k == "lf-file") {
      ctx.Alert(prefix + Quoted(k) + " is not supported by sluice (string, file, errorfile, "
                "errorfiles and default-errorfiles are).");
      return;
    } else {
      ctx.Alert(prefix + "unknown keyword " + Quoted(k) + ".");
      return;
    }
  }
  if (defaults) return SetAnswer(ctx, *code, std::nullopt);
  if (!section.empty()) return AddErrorfilesRef(ctx, section, {static_cast<unsigned>(*code)});
  if (whole) return SetAnswer(ctx, *code, std::move(whole));
  if (!body.empty() && type.empty()) {
    ctx.Alert(prefix + "a content type must be defined when non-empty payload is configured");
    return;
  }
  if (body.empty() && !type.empty()) {
    ctx.Warn("content-type " + Quoted(type) +
             " ignored by the http reply because neither errorfile nor payload defined.");
    type.clear();
  }
  std::string answer = "HTTP/1.1 " + std::to_string(*code) + " " +
                       std::string(http::ReasonPhrase(static_cast<uint16_t>(*code))) + "\r\n" +
                       fields + "content-length: " + std::to_string(body.size()) + "\r\n";
  if (!type.empty()) answer += "content-type: " + type + "\r\n";
  answer += "\r\n" + body;
  if (answer.size() > http::kMaxHeadBytes) {
    ctx.Alert(prefix + "the answer takes " + std::to_string(answer.size()) +
              " bytes, more than " + std::to_string(http::kMaxHeadBytes) +
              " (tune.bufsize less tune.maxrewrite).");
    return;
  }
  SetAnswer(ctx, *code, std::move(answer));
}

}  // namespace sluice::config
