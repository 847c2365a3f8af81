// Slow path: the SSL options of `bind` lines (configuration.txt 2.6, section 5.1) and of the
// global section's `ssl-default-bind-*`, `crt-base` and `ca-base`: certificates and their
// companions, ticket key files, client-certificate checks (docs/tls.md).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/parse_context.h"

namespace sluice::config {

std::optional<uint16_t> TlsVersion(std::string_view name) {
  if (name == "SSLv3") return 0x0300;
  if (name == "TLSv1.0") return 0x0301;
  if (name == "TLSv1.1") return 0x0302;
  if (name == "TLSv1.2") return 0x0303;
  if (name == "TLSv1.3") return 0x0304;
  return std::nullopt;
}

namespace {

std::optional<std::string> Slurp(const std::string& path) {
  std::string text;
  if (ReadBoundedFile(path, kMaxTlsFileBytes, &text) != FileRead::kOk) return std::nullopt;
  return text;
}

bool HasCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  X509_free(x);
  BIO_free(bio);
  ERR_clear_error();
  return x != nullptr;
}

// The private key in `pem`, null when there is none (the caller frees it).
EVP_PKEY* ReadKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ERR_clear_error();
  return key;
}

bool KeyMatches(const std::string& cert_pem, EVP_PKEY* key) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  const bool ok = x && X509_check_private_key(x, key) == 1;
  X509_free(x);
  BIO_free(bio);
  ERR_clear_error();
  return ok;
}

// Reads one certificate file as HAProxy does: the certificate and its chain, and the key in
// the same file or else in FILE.key. Alerts (HAProxy's texts) and returns false when it
// cannot.
bool LoadCert(ParseContext& ctx, const std::string& where, const std::string& path,
              std::vector<BindTlsConfig::Cert>* out) {
  std::optional<std::string> pem(std::in_place);
  errno = 0;
  const FileRead r = ReadBoundedFile(path, kMaxTlsFileBytes, &*pem);
  if (r == FileRead::kCannotOpen) {
    ctx.Alert(where + " : unable to stat SSL certificate from file " + Quoted(path) + " : " +
              std::strerror(errno ? errno : ENOENT) + ".");
    return false;
  }
  if (r == FileRead::kTooBig || !HasCertificate(*pem)) {
    ctx.Alert(where + " : unable to load certificate from file " + Quoted(path) + ".");
    return false;
  }
  const uint8_t extra = ctx.config.global.ssl_extra_files;
  EVP_PKEY* key = ReadKey(*pem);
  if (!key && (extra & GlobalConfig::kKey)) {
    const std::string key_path = path + ".key";
    std::optional<std::string> key_pem = Slurp(key_path);
    if (key_pem) key = ReadKey(*key_pem);
    if (!key) {
      ctx.Alert(where + " : No Private Key found in " + Quoted(key_path) + ".");
      return false;
    }
    *pem += "\n" + *key_pem;
  }
  if (!key) {  // `ssl-load-extra-files` without `key`
    ctx.Alert(where + " : No Private Key found in " + Quoted(path) + ".");
    return false;
  }
  const bool ok = KeyMatches(*pem, key);
  EVP_PKEY_free(key);
  if (!ok) {
    ctx.Alert(where + " : inconsistencies between private key and certificate loaded from " +
              Quoted(path) + ".");
    return false;
  }
  // The companions HAProxy reads beside a certificate: PATH.ocsp (a DER OCSP response) and
  // PATH.issuer (the issuer's certificate, for the response's certificate id).
  std::string ocsp, issuer;
  if (!(extra & GlobalConfig::kOcsp) ||
      ReadBoundedFile(path + ".ocsp", kMaxTlsFileBytes, &ocsp) != FileRead::kOk) {
    ocsp.clear();
  }
  if (!(extra & GlobalConfig::kIssuer) ||
      ReadBoundedFile(path + ".issuer", kMaxTlsFileBytes, &issuer) != FileRead::kOk) {
    issuer.clear();
  }
  BindTlsConfig::Cert c;
  c.path = path;
  c.pem = std::move(*pem);
  c.ocsp_der = std::move(ocsp);
  c.issuer_pem = std::move(issuer);
  out->push_back(std::move(c));
  return true;
}

// `crt FILE|DIR`: a directory gives each of its files in name order, except the companions
// (.key, .ocsp, .issuer, .sctl) read with them.
bool LoadCrt(ParseContext& ctx, const std::string& where, const std::string& path,
             std::vector<BindTlsConfig::Cert>* out) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) &&
      (ctx.config.global.ssl_extra_files & GlobalConfig::kBundle)) {
    // A bundle, as HAProxy 2.6 loads one by default (ssl-load-extra-files): no FILE, but
    // FILE.rsa, FILE.ecdsa, FILE.dsa, each a certificate of its own for the same names.
    bool any = false;
    for (const char* ext : {".dsa", ".ecdsa", ".rsa"}) {
      if (!std::filesystem::exists(path + ext, ec)) continue;
      if (!LoadCert(ctx, where, path + ext, out)) return false;
      any = true;
    }
    if (any) return true;
  }
  if (!std::filesystem::is_directory(path, ec)) return LoadCert(ctx, where, path, out);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    const std::string ext = e.path().extension().string();
    if (ext == ".key" || ext == ".ocsp" || ext == ".issuer" || ext == ".sctl") continue;
    if (e.is_regular_file(ec)) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    if (!LoadCert(ctx, where, f, out)) return false;
    out->back().list = path;  // HAProxy lists a directory as a crt-list
  }
  return true;
}

// `tls-ticket-keys FILE` (HAProxy's texts): one base64 key per line, at least three, of 48
// or 80 bytes, all of the first one's size; the last three are kept.
bool LoadTicketKeys(ParseContext& ctx, const std::string& where, const std::string& path,
                    BindTlsConfig* t) {
  std::optional<std::string> text = Slurp(path);
  if (!text) {
    ctx.Alert(where + " : " + Quoted(path) + " : unable to load ssl tickets keys file");
    return false;
  }
  std::istringstream in(*text);
  std::vector<std::string> keys;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::optional<std::string> key = DecodeBase64(line);
    if (!key) {
      ctx.Alert(where + " : " + Quoted(path) + " : unable to decode base64 key on line " +
                std::to_string(n));
      return false;
    }
    if ((key->size() != 48 && key->size() != 80) ||
        (!keys.empty() && key->size() != keys[0].size())) {
      ctx.Alert(where + " : " + Quoted(path) + " : wrong sized key on line " + std::to_string(n));
      return false;
    }
    keys.push_back(std::move(*key));
  }
  if (keys.size() < 3) {
    ctx.Alert(where + " : " + Quoted(path) + " : please supply at least 3 keys in the "
              "tls-tickets-file");
    return false;
  }
  t->ticket_keys_file = path;
  t->ticket_keys.assign(keys.end() - 3, keys.end());
  return true;
}

// A relative path under `crt-base` / `ca-base` (HAProxy's), when one is set.
std::string Based(const std::string& base, const std::string& path) {
  if (base.empty() || path.empty() || path[0] == '/') return path;
  return base + "/" + path;
}

// `alpn h2,http/1.1` in wire form; false when a name is empty or longer than 255 bytes.
bool AlpnWire(std::string_view list, std::string* out) {
  for (std::string_view name : CommaItems(list)) {
    if (name.empty() || name.size() > 255) return false;
    out->push_back(static_cast<char>(name.size()));
    out->append(name);
  }
  return !out->empty();
}

// The options a crt-list line may give a certificate as well (HAProxy's ssl_bind_conf), in
// the order `show ssl crt-list` prints them.
constexpr std::string_view kCertOptions[] = {"alpn",    "verify",       "ca-file",
                                             "crl-file", "ciphers",      "ciphersuites",
                                             "curves",  "ssl-min-ver", "ssl-max-ver"};

bool IsCertOption(std::string_view kw) {
  return std::find(std::begin(kCertOptions), std::end(kCertOptions), kw) !=
         std::end(kCertOptions);
}

// One of kCertOptions with its argument (`value`, null when the line has none), onto `t`.
// Alerts (HAProxy 2.6.12's texts) and returns false when it cannot be taken.
bool CertOption(ParseContext& ctx, const std::string& where, const std::string& kw,
                const std::string* value, BindTlsConfig* t) {
  if (kw == "verify") {
    if (!value) {
      ctx.Alert(where + " : 'verify' : missing verify method");
      return false;
    }
    using V = BindTlsConfig::Verify;
    if (*value == "none") {
      t->verify = V::kNone;
    } else if (*value == "optional") {
      t->verify = V::kOptional;
    } else if (*value == "required") {
      t->verify = V::kRequired;
    } else {
      ctx.Alert(where + " : 'verify' : unknown verify method " + Quoted(*value) +
                ", only 'none', 'optional', and 'required' are supported");
      return false;
    }
  } else if (kw == "ca-file" || kw == "crl-file") {
    const bool ca = kw == "ca-file";
    if (!value) {
      ctx.Alert(where + " : '" + kw + "' : missing " + (ca ? "CAfile" : "CRLfile") + " path");
      return false;
    }
    const std::string path = Based(ctx.config.global.ca_base, *value);
    std::optional<std::string> pem = Slurp(path);
    if (!pem) {
      ctx.Alert(where + " : '" + kw + "' : unable to load " + path);
      return false;
    }
    (ca ? t->ca_file : t->crl_file) = path;
    (ca ? t->ca_pem : t->crl_pem) = std::move(*pem);
  } else if (kw == "alpn") {
    if (!value) {
      ctx.Alert(where + " : 'alpn' : missing the comma-delimited ALPN protocol suite");
      return false;
    }
    t->alpn.clear();
    if (!AlpnWire(*value, &t->alpn)) {
      ctx.Alert(where + " : 'alpn' : invalid protocol name in " + Quoted(*value));
      return false;
    }
  } else if (kw == "ssl-min-ver" || kw == "ssl-max-ver") {
    const std::optional<uint16_t> v = TlsVersion(value ? *value : "");
    if (!v) {
      ctx.Alert(where + " : " + Quoted(value ? *value : "") + " : unknown ssl/tls version");
      return false;
    }
    (kw == "ssl-min-ver" ? t->min_ver : t->max_ver) = *v;
  } else {  // ciphers, ciphersuites, curves
    if (!value) {
      ctx.Alert(where + " : '" + kw + "' : missing " +
                (kw == "curves" ? "curve suite" : "cipher suite"));
      return false;
    }
    (kw == "ciphers" ? t->ciphers : kw == "ciphersuites" ? t->ciphersuites : t->curves) = *value;
  }
  return true;
}

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

// A crt-list line's options: the words between `[` and `]` as (keyword, value) pairs, checked
// against kCertOptions. Alerts and returns false on a bad one.
using Opts = std::vector<std::pair<std::string, std::string>>;
bool LineOptions(ParseContext& ctx, const std::string& at, const std::vector<std::string>& words,
                 Opts* out) {
  for (size_t i = 0; i < words.size(); i += 2) {
    if (!IsCertOption(words[i])) {
      ctx.Alert(at + "unknown ssl keyword " + words[i]);
      return false;
    }
    if (i + 1 >= words.size()) {
      ctx.Alert(at + "ssl args out of '[]' for " + words[i]);
      return false;
    }
    out->emplace_back(words[i], words[i + 1]);
  }
  return true;
}

// `crt-list FILE` (configuration.txt 2.6, section 5.1): one certificate per line, with
// options in brackets over the bind's and SNI filters that replace the certificate's names
// (`!NAME` excludes a name a wildcard filter would take). Comments and empty lines skipped.
bool LoadCrtList(ParseContext& ctx, const std::string& where, const std::string& path,
                 std::vector<BindTlsConfig::Cert>* out) {
  std::string text;
  errno = 0;
  const FileRead r = ReadBoundedFile(path, kMaxTlsFileBytes, &text);
  if (r != FileRead::kOk) {
    ctx.Alert(where + " : cannot open file " + Quoted(path) + " : " +
              (r == FileRead::kTooBig ? "File too big" : std::strerror(errno ? errno : ENOENT)));
    return false;
  }
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string at = where + " : parsing [" + path + ":" + std::to_string(n) + "]: ";
    std::vector<std::string> words = Words(line);
    if (words.empty() || words[0][0] == '#') continue;
    if (words[0][0] == '[') {
      ctx.Alert(at + "file must start with a cert");
      return false;
    }
    Opts opts;
    size_t next = 1;
    if (next < words.size() && words[next][0] == '[') {
      // "[alpn h2 verify none]": the brackets may stand alone or touch a word
      std::vector<std::string> inner;
      bool closed = false;
      for (; next < words.size() && !closed; ++next) {
        std::string w = words[next];
        if (w[0] == '[') w.erase(0, 1);
        if (!w.empty() && w.back() == ']') {
          w.pop_back();
          closed = true;
        }
        if (!w.empty()) inner.push_back(std::move(w));
      }
      if (!closed) {
        ctx.Alert(at + "missing ']'");
        return false;
      }
      if (!LineOptions(ctx, at, inner, &opts)) return false;
    }
    const size_t first = out->size();
    if (!LoadCrt(ctx, where, Based(ctx.config.global.crt_base, words[0]), out)) return false;
    std::sort(opts.begin(), opts.end(), [](const auto& a, const auto& b) {
      return std::find(std::begin(kCertOptions), std::end(kCertOptions), a.first) <
             std::find(std::begin(kCertOptions), std::end(kCertOptions), b.first);
    });
    // Checked here, where the line is read; applied over the whole bind line once it is read
    // (ApplyLineOptions).
    BindTlsConfig check;
    for (const auto& [kw, value] : opts) {
      if (!CertOption(ctx, where, kw, &value, &check)) return false;
    }
    for (size_t i = first; i < out->size(); ++i) {
      BindTlsConfig::Cert& c = (*out)[i];
      c.list = path;
      c.list_line = n;
      c.list_opts = opts;
      c.filters.assign(words.begin() + static_cast<std::ptrdiff_t>(next), words.end());
    }
  }
  return true;
}

// The bind's settings with a crt-list line's options over them: each certificate that has
// options gets a configuration of its own.
bool ApplyLineOptions(ParseContext& ctx, const std::string& where, BindTlsConfig* t) {
  for (BindTlsConfig::Cert& c : t->crts) {
    if (c.list_opts.empty()) continue;
    auto own = std::make_shared<BindTlsConfig>(*t);
    own->crts.clear();
    for (const auto& [kw, value] : c.list_opts) {
      if (!CertOption(ctx, where + " : 'crt-list'", kw, &value, own.get())) return false;
    }
    if (own->verify != BindTlsConfig::Verify::kNone && own->ca_pem.empty()) {
      ctx.Alert(where + " : 'crt-list' : verify is enabled by '" + c.list + ":" +
                std::to_string(c.list_line) + "' but no CA file specified.");
      return false;
    }
    c.conf = std::move(own);
  }
  return true;
}

}  // namespace

// The options after the addresses (HAProxy's bind keywords that sluice takes). Alerts and
// returns false on the first one it cannot take; `tls` is set when `ssl` is given.
bool ParseBindOptions(ParseContext& ctx, const Args& args, const std::string& where,
                      std::optional<BindTlsConfig>* tls) {
  BindTlsConfig t = ctx.config.global.ssl_default_bind;  // the global defaults, then the line
  bool ssl = false;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& kw = args[i];
    const bool has_arg = i + 1 < args.size();
    const std::string value = has_arg ? args[i + 1] : std::string();
    if (kw == "ssl") {
      ssl = true;
    } else if (kw == "no-tls-tickets") {
      t.no_tls_tickets = true;
    } else if (kw == "strict-sni") {
      t.strict_sni = true;
    } else if (kw == "crt" || kw == "crt-list") {
      if (!has_arg) {
        ctx.Alert(where + " : '" + kw + "' : missing certificate location");
        return false;
      }
      if (kw == "crt" ? !LoadCrt(ctx, where, Based(ctx.config.global.crt_base, value), &t.crts)
                      : !LoadCrtList(ctx, where + " : 'crt-list'", value, &t.crts)) {
        return false;
      }
      ++i;
    } else if (kw == "tls-ticket-keys") {
      if (!has_arg) {
        ctx.Alert(where + " : 'tls-ticket-keys' : missing TLS ticket keys file path.");
        return false;
      }
      if (!LoadTicketKeys(ctx, where, value, &t)) return false;
      ++i;
    } else if (IsCertOption(kw)) {
      if (!CertOption(ctx, where, kw, has_arg ? &value : nullptr, &t)) return false;
      if (has_arg) ++i;
    } else {
      ctx.Alert(where + ": unknown keyword " + Quoted(kw) + ".");
      return false;
    }
  }
  if (ssl && t.crts.empty()) {
    ctx.Alert("Proxy " + Quoted(Target(ctx).name) + ": no SSL certificate specified for bind " +
              Quoted(args[1]) + " at [" + At(ctx.file, ctx.line) + "] (use 'crt').");
    return false;
  }
  if (ssl && t.verify != BindTlsConfig::Verify::kNone && t.ca_pem.empty()) {
    ctx.Alert("Proxy " + Quoted(Target(ctx).name) + ": verify is enabled but no CA file "
              "specified for bind " + Quoted(args[1]) + " at [" + At(ctx.file, ctx.line) + "].");
    return false;
  }
  if (ssl && !ApplyLineOptions(ctx, where, &t)) return false;
  if (ssl) *tls = std::move(t);
  return true;
}

// Global `crt-base DIR`, `ca-base DIR`, `ssl-default-bind-ciphers|ciphersuites|curves TEXT`
// and `ssl-default-bind-options
// OPTION...` (ssl-min-ver V, ssl-max-ver V, no-tls-tickets, no-sslv3, no-tlsv10 .. no-tlsv13,
// prefer-client-ciphers): HAProxy 2.6.12's texts.
void SslDefaultBind(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& kw = args[0];
  BindTlsConfig& d = kw.starts_with("ssl-default-server-") ? ctx.config.global.ssl_default_server
                                                          : ctx.config.global.ssl_default_bind;
  if (kw == "crt-base" || kw == "ca-base") {
    (kw == "crt-base" ? ctx.config.global.crt_base : ctx.config.global.ca_base) = args[1];
    return;
  }
  if (!kw.ends_with("-options")) {
    if (args.size() < 2) {
      ctx.Alert("global statement " + Quoted(kw) + " expects a " +
                (kw.ends_with("curves") ? "curves list" : "cipher suite") + " as an argument.");
      return;
    }
    (kw.ends_with("ciphers") ? d.ciphers : kw.ends_with("ciphersuites") ? d.ciphersuites
                                                                         : d.curves) = args[1];
    return;
  }
  const std::string on = " on global statement " + Quoted(kw) + ".";
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& o = args[i];
    if (o == "ssl-min-ver" || o == "ssl-max-ver") {
      if (i + 1 >= args.size()) {
        ctx.Alert(Quoted(o) + " : missing the ssl/tls version" + on);
        return;
      }
      const std::optional<uint16_t> v = TlsVersion(args[++i]);
      if (!v) {
        ctx.Alert(Quoted(args[i]) + " : unknown ssl/tls version" + on);
        return;
      }
      (o == "ssl-min-ver" ? d.min_ver : d.max_ver) = *v;
    } else if (o == "no-tls-tickets") {
      d.no_tls_tickets = true;
    } else if (o == "no-sslv3" || o == "no-tlsv10" || o == "no-tlsv11" || o == "no-tlsv12") {
      // Versions below the one refused are refused too (HAProxy's holes are closed upwards).
      const uint16_t refused = o == "no-sslv3"    ? 0x0300
                               : o == "no-tlsv10" ? 0x0301
                               : o == "no-tlsv11" ? 0x0302
                                                  : 0x0303;
      if (d.min_ver <= refused) d.min_ver = static_cast<uint16_t>(refused + 1);
    } else if (o == "no-tlsv13") {
      d.max_ver = 0x0303;
    } else if (o != "prefer-client-ciphers") {
      ctx.Alert("unknown option " + Quoted(o) + on);
      return;
    }
  }
}

namespace {

// A number of HAProxy's tune.* forms: digits only, at most `max`.
std::optional<uint64_t> Count(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != text.npos) {
    return std::nullopt;
  }
  const uint64_t v = std::stoull(std::string(text));
  return v <= max ? std::optional<uint64_t>(v) : std::nullopt;
}

}  // namespace

void SslGlobal(ParseContext& ctx, const KeywordRow&, const Args& args) {
  GlobalConfig& g = ctx.config.global;
  const std::string& kw = args[0];
  const std::string value = args.size() > 1 ? args[1] : std::string();
  if (kw == "tune.ssl.lifetime") {
    if (value.empty()) {
      ctx.Alert("'tune.ssl.lifetime' expects ssl sessions <lifetime> in seconds as argument.");
      return;
    }
    // HAProxy's time syntax with seconds as the default unit
    const bool bare = value.find_first_not_of("0123456789") == std::string::npos;
    const std::optional<uint64_t> ms = ParseTimeMs(bare ? value + "s" : value);
    if (!ms || *ms / 1000 > INT32_MAX) {
      const size_t bad = value.find_first_not_of("0123456789");
      ctx.Alert("unexpected character '" + value.substr(bad == std::string::npos ? 0 : bad, 1) +
                "' in argument to <tune.ssl.lifetime>.");
      return;
    }
    g.ssl_default_bind.lifetime_s = static_cast<uint32_t>(*ms / 1000);
  } else if (kw == "tune.ssl.maxrecord") {
    // HAProxy reads it with atol: what does not start with digits is 0 (no limit)
    const size_t digits = value.find_first_not_of("0123456789");
    if (value.starts_with('-')) {
      ctx.Alert("'tune.ssl.maxrecord' expects a positive numeric value.");
      return;
    }
    const std::string lead = value.substr(0, digits);
    const std::optional<uint64_t> n = lead.empty() ? 0 : Count(lead, UINT32_MAX);
    g.ssl_default_bind.maxrecord = static_cast<uint32_t>(n.value_or(UINT32_MAX));
  } else if (kw == "tune.ssl.default-dh-param") {
    const std::optional<uint64_t> n = Count(value, UINT32_MAX);
    if (!n) {
      ctx.Alert("'tune.ssl.default-dh-param' expects an integer argument.");
      return;
    }
    if (*n < 1024) {
      ctx.Alert("'tune.ssl.default-dh-param' expects a value >= 1024.");
      return;
    }
    g.ssl_default_bind.dh_bits = static_cast<uint32_t>(*n);
  } else if (kw == "ssl-server-verify") {
    if (value.empty()) {
      ctx.Alert("'ssl-server-verify' expects an integer argument.");  // HAProxy 2.6.12's text
      return;
    }
    if (value != "none" && value != "required") {
      ctx.Alert("'ssl-server-verify' expects 'none' or 'required' as argument.");
      return;
    }
    g.ssl_server_verify_none = value == "none";
  } else {  // ssl-load-extra-files
    uint8_t bits = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      using G = GlobalConfig;
      if (a == "all") {
        bits |= G::kBundle | G::kOcsp | G::kIssuer | G::kKey | G::kSctl;
      } else if (a == "bundle" || a == "ocsp" || a == "issuer" || a == "key" || a == "sctl") {
        bits |= a == "bundle" ? G::kBundle
                : a == "ocsp" ? G::kOcsp
                : a == "issuer" ? G::kIssuer
                : a == "key" ? G::kKey
                             : G::kSctl;
      } else if (a != "none" || args.size() != 2) {
        ctx.Alert("'ssl-load-extra-files' expects one or multiple arguments (none, all, bundle, "
                  "sctl, ocsp, issuer).");
        return;
      }
    }
    if (args.size() < 2) {
      ctx.Alert("'ssl-load-extra-files' expects one or multiple arguments (none, all, bundle, "
                "sctl, ocsp, issuer).");
      return;
    }
    g.ssl_extra_files = bits;
  }
}

}  // namespace sluice::config
