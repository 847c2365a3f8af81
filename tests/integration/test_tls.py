"""TLS termination on the workers (issue 16): real clients (openssl s_client, curl) in
sl-client against `bind ... ssl crt ...` frontends, HTTP mode towards the testbed's HTTP
backends and TCP mode towards a raw backend. Certificates come from a test CA made here with
the openssl command (tests/fixtures holds no private key): a.test (RSA 2048), b.test (ECDSA
P-256) and *.wild.test, so SNI picks among three."""

import base64
import hashlib
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import (NS_CLIENT, Syslog, admin_cli, config_file, run, start_backend,
                      stop_backends)

pytestmark = pytest.mark.sanitizer
from test_http import SERVERS, stat_rows

CERTS = "/tmp/sluice-test-tls"
VIP = "10.10.1.1"
HTTPS = 8443   # mode http, three certificates, alpn h2,http/1.1
TCPS = 8444    # mode tcp to an echo backend (tools/backend.py)
STRICT = 8445  # strict-sni, TLS 1.3 only
KEYED = 8446   # tls-ticket-keys
MTLS = 8447    # verify required, ca-file, crl-file
MTLS_OPT = 8448  # verify optional
TO_TLS = 8449  # plain HTTP to TLS servers (openssl s_server on 10.10.2.13:9443)
LISTED = 8450  # mode tcp, a crt-list with per-line options and SNI filters


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_certs():
    os.makedirs(CERTS, exist_ok=True)
    ca_key, ca = f"{CERTS}/ca.key", f"{CERTS}/ca.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
             "-days", "2", "-subj", "/CN=Sluice Test CA")
    leaves = {"a": ("rsa:2048", "a.test"), "b": ("ec", "b.test"),
              "wild": ("rsa:2048", "*.wild.test"), "dual.pem.rsa": ("rsa:2048", "dual.test"),
              "dual.pem.ecdsa": ("ec", "dual.test")}
    for name, (kind, cn) in leaves.items():
        key, csr, crt = (f"{CERTS}/{name}.{e}" for e in ("key", "csr", "crt"))
        if kind == "ec":
            _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        else:
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", key)
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={cn}")
        ext = f"{CERTS}/{name}.ext"
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{cn}\n")
        _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                 "-out", crt, "-days", "2", "-extfile", ext)
        bundled = "." in name  # dual.pem.rsa: a bundle's part, named as HAProxy reads it
        with open(f"{CERTS}/{name}" if bundled else f"{CERTS}/{name}.pem", "w") as out:
            for part in (crt, key):
                with open(part) as f:
                    out.write(f.read())
    return ca


def _client_certs(ca):
    """Client certificates: client.test and revoked.test from the test CA (revoked.test in the
    CA's CRL), rogue.test from a CA of its own. Returns the CRL's path."""
    ca_key = f"{CERTS}/ca.key"
    rogue_key, rogue_ca = f"{CERTS}/rogue-ca.key", f"{CERTS}/rogue-ca.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rogue_key, "-out",
             rogue_ca, "-days", "2", "-subj", "/CN=Rogue CA")
    for name, (signer, signer_key) in {"client": (ca, ca_key), "revoked": (ca, ca_key),
                                       "rogue": (rogue_ca, rogue_key)}.items():
        key, csr, crt = (f"{CERTS}/{name}-c.{e}" for e in ("key", "csr", "crt"))
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        _openssl("req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={name}.test")
        _openssl("x509", "-req", "-in", csr, "-CA", signer, "-CAkey", signer_key,
                 "-CAcreateserial", "-out", crt, "-days", "2")
    db = f"{CERTS}/cadb"
    os.makedirs(db, exist_ok=True)
    open(f"{db}/index.txt", "w").close()
    with open(f"{db}/crlnumber", "w") as f:
        f.write("01\n")
    with open(f"{db}/ca.cnf", "w") as f:
        f.write(f"[ca]\ndefault_ca = d\n[d]\ndatabase = {db}/index.txt\n"
                f"crlnumber = {db}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n")
    _openssl("ca", "-config", f"{db}/ca.cnf", "-keyfile", ca_key, "-cert", ca, "-revoke",
             f"{CERTS}/revoked-c.crt")
    crl = f"{CERTS}/crl.pem"
    _openssl("ca", "-config", f"{db}/ca.cnf", "-keyfile", ca_key, "-cert", ca, "-gencrl",
             "-out", crl)
    return crl


def _ocsp_response(cert, out, days="1"):
    """A 'good' OCSP response for `cert`, signed by the test CA (openssl ocsp with an index)."""
    serial = _x509_text(cert, "-serial").split("=", 1)[1]
    index = f"{CERTS}/ocsp-index.txt"
    with open(index, "w") as f:
        f.write(f"V\t301231000000Z\t\t{serial}\tunknown\t/CN=x\n")
    _openssl("ocsp", "-index", index, "-rsigner", f"{CERTS}/ca.pem", "-rkey", f"{CERTS}/ca.key",
             "-CA", f"{CERTS}/ca.pem", "-issuer", f"{CERTS}/ca.pem", "-cert", cert,
             "-respout", out, "-ndays", days)


def _x509_text(path, *what):
    p = subprocess.run(["openssl", "x509", "-in", path, "-noout", *what], capture_output=True,
                       text=True, check=True)
    return p.stdout.strip()


CA = _make_certs()
CRL = _client_certs(CA)
# a.pem staples an OCSP response from the start (HAProxy's companions: .ocsp and .issuer).
with open(f"{CERTS}/a.pem.issuer", "w") as _f, open(CA) as _ca:
    _f.write(_ca.read())
_ocsp_response(f"{CERTS}/a.crt", f"{CERTS}/a.pem.ocsp")
KEYS = f"{CERTS}/tls-ticket-keys"
with open(KEYS, "w") as _f:
    _f.write("".join(base64.b64encode(os.urandom(48)).decode() + "\n" for _ in range(3)))

CRT_LIST = f"{CERTS}/crt-list.txt"
with open(CRT_LIST, "w") as _f:
    _f.write(f"""# the first line is the default certificate
{CERTS}/a.pem
{CERTS}/b.pem [ssl-min-ver TLSv1.3 alpn h2] b.test *.b2.test
{CERTS}/wild.pem   [verify required ca-file {CA}]  *.wild.test !deny.wild.test

{CERTS}/a.pem [ciphers ECDHE-RSA-CHACHA20-POLY1305] cipher.test
""")

SECTIONS = f"""
global
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
    tune.ssl.lifetime 10m
    tune.ssl.default-dh-param 3072
    tune.ssl.maxrecord 1400

defaults
    mode http
    timeout connect 2s
    timeout client 3s
    timeout server 30s

frontend fe_tls
    bind {VIP}:{HTTPS} ssl crt {CERTS}/a.pem crt {CERTS}/b.pem crt {CERTS}/wild.pem crt {CERTS}/dual.pem alpn h2,http/1.1
    default_backend be_web

frontend fe_tcps
    mode tcp
    bind {VIP}:{TCPS} ssl crt {CERTS}/a.pem alpn h2,http/1.1
    default_backend be_raw

frontend fe_keys
    bind {VIP}:{KEYED} ssl crt {CERTS}/a.pem tls-ticket-keys {KEYS} alpn http/1.1
    log 127.0.0.1:5514 local0
    log-format "%ft %sslv %sslc %[ssl_fc_sni] %ST"
    http-request set-header X-Tls %[ssl_fc]/%[ssl_fc_protocol]/%[ssl_fc_cipher]
    http-request set-header X-Tls-Sni %[ssl_fc_sni]
    http-request set-header X-Tls-Alpn %[ssl_fc_alpn]
    http-request set-header X-Tls-Reused %[ssl_fc_session_reused]
    http-request deny deny_status 403 if {{ ssl_fc_sni -m str denied.test }}
    default_backend be_web

frontend fe_mtls
    bind {VIP}:{MTLS} ssl crt {CERTS}/a.pem verify required ca-file {CA} crl-file {CRL}
    http-request set-header X-Client %[ssl_c_used]/%[ssl_c_verify]/%[ssl_c_s_dn]
    default_backend be_web

frontend fe_mtls_opt
    bind {VIP}:{MTLS_OPT} ssl crt {CERTS}/a.pem verify optional ca-file {CA}
    http-request set-header X-Client %[ssl_c_used]/%[ssl_c_verify]
    default_backend be_web

frontend fe_to_tls
    bind {VIP}:{TO_TLS}
    use_backend be_tls_badname if {{ path_beg /badname }}
    use_backend be_tls_noverify if {{ path_beg /noverify }}
    use_backend be_tls_dyn if {{ path_beg /dyn }}
    default_backend be_tls

backend be_tls_dyn
    server t1 10.10.2.13:9443 ssl verify required ca-file {CA} sni req.hdr(host),lower

backend be_tls
    server t1 10.10.2.13:9443 ssl verify required ca-file {CA} sni str(b.test) alpn http/1.1

backend be_tls_badname
    server t1 10.10.2.13:9443 ssl verify required ca-file {CA} sni str(a.test)

backend be_tls_noverify
    server t1 10.10.2.13:9443 ssl verify none

frontend fe_strict
    bind {VIP}:{STRICT} ssl crt {CERTS}/a.pem crt {CERTS}/b.pem strict-sni ssl-min-ver TLSv1.3
    default_backend be_web

frontend fe_listed
    mode tcp
    bind {VIP}:{LISTED} ssl crt-list {CRT_LIST} alpn http/1.1
    default_backend be_raw

backend be_web
    server s1 10.10.2.11:9000

backend be_raw
    mode tcp
    server r1 10.10.2.12:9001
"""

# 10 000 half-open handshakes at once (and the other tests' connections) fit in the table.
TESTBED_CONFIG = config_file("tls", SECTIONS, dataplane_extra="    tcp-connections 16384\n")


@pytest.fixture(scope="module")
def tls_tb(testbed):
    procs = [start_backend(SERVERS["s1"], 9000, "s1", tool="http_backend.py"),
             start_backend(SERVERS["s2"], 9001, "r1")]
    # A TLS server: openssl s_server answering each request with its status page.
    tls_server = subprocess.Popen(
        ["ip", "netns", "exec", "sl-server", "openssl", "s_server", "-accept",
         "10.10.2.13:9443", "-cert", f"{CERTS}/b.pem", "-www", "-alpn", "http/1.1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    yield testbed
    tls_server.kill()
    tls_server.wait()
    stop_backends(procs)


def s_client(*args, data=b"", port=HTTPS, timeout=15):
    """openssl s_client in sl-client; returns its stdout and stderr as text."""
    p = subprocess.run(["ip", "netns", "exec", NS_CLIENT, "timeout", str(timeout), "openssl",
                        "s_client", "-connect", f"{VIP}:{port}", "-CAfile", CA, *args],
                       input=data, capture_output=True, timeout=timeout + 5)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def curl(*args):
    return run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "10", "--cacert",
                CA, *args], check=False)


def worker_counter(tb, name):
    return sum(w[name] for w in tb.worker_counters())


@pytest.mark.parametrize("version", ["--tlsv1.2", "--tlsv1.3"])
def test_curl_https_get(tls_tb, version):
    args = [version, "--tls-max", version[2:].replace("tlsv", ""), "--resolve",
            f"a.test:{HTTPS}:{VIP}", "-i", f"https://a.test:{HTTPS}/echo"]
    p = curl("-v", *args)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition("\n\n")
    assert head.startswith("HTTP/1.1 200 OK"), p.stdout
    assert '"start": "GET /echo HTTP/1.1"' in body
    want = "TLSv1.2" if version == "--tlsv1.2" else "TLSv1.3"
    assert f"SSL connection using {want}" in p.stderr, p.stderr
    # ALPN: curl offers h2 and http/1.1 with --http1.1 off; here it asked http/1.1 only.
    assert "ALPN: server accepted http/1.1" in p.stderr or \
        "ALPN, server accepted to use http/1.1" in p.stderr, p.stderr


def test_keep_alive_requests_over_one_tls_connection(tls_tb):
    url = f"https://a.test:{HTTPS}/echo"
    p = curl("--resolve", f"a.test:{HTTPS}:{VIP}", "-v", url, url, url)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count('"start": "GET /echo HTTP/1.1"') == 3
    assert p.stderr.count("Re-using existing connection") == 2, p.stderr


def test_large_download_and_upload(tls_tb):
    # 4 MiB each way through TLS (records bigger than a segment, the window's back-pressure).
    p = curl("--resolve", f"a.test:{HTTPS}:{VIP}", "-o", "/dev/null", "-w", "%{size_download}",
             f"https://a.test:{HTTPS}/size/4194304")
    assert p.returncode == 0 and p.stdout == "4194304", (p.stdout, p.stderr)
    blob = "/tmp/sluice-test-tls/blob"
    data = os.urandom(4 << 20)
    with open(blob, "wb") as f:
        f.write(data)
    p = curl("--resolve", f"a.test:{HTTPS}:{VIP}", "--data-binary", f"@{blob}",
             f"https://a.test:{HTTPS}/sha")
    assert p.returncode == 0, p.stderr
    assert hashlib.sha256(data).hexdigest() in p.stdout, p.stdout


@pytest.mark.parametrize("sni,subject", [("a.test", "CN = a.test"), ("b.test", "CN = b.test"),
                                         ("x.wild.test", "CN = *.wild.test"),
                                         ("other.test", "CN = a.test")])
def test_sni_picks_the_certificate(tls_tb, sni, subject):
    out = s_client("-servername", sni, "-brief", data=b"")
    m = re.search(r"subject=(.*)", out) or re.search(r"Peer certificate: (.*)", out)
    assert m and subject in m.group(1), out
    if sni != "other.test":
        assert "Verification: OK" in out, out


def test_ecdsa_certificate_served(tls_tb):
    out = s_client("-servername", "b.test", "-brief", "-tls1_3")
    assert "Peer signature type: ECDSA" in out or "ecdsa" in out.lower(), out


@pytest.mark.parametrize("args,kind", [
    ((), "ECDSA"),                                                       # ECDSA preferred
    (("-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"), "RSA"),
    (("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"), "RSA"),     # no ECDSA suite
    (("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"), "ECDSA"),
])
def test_rsa_and_ecdsa_certificates_for_one_name(tls_tb, args, kind):
    # dual.pem is a bundle (dual.pem.rsa, dual.pem.ecdsa, as HAProxy loads one): each client
    # gets the certificate it can verify.
    out = s_client("-servername", "dual.test", "-brief", *args)
    assert "Verification: OK" in out and "CN = dual.test" in out, out
    m = re.search(r"^Signature type: (\S+)", out, re.M)
    assert m and (m.group(1) == "ECDSA") == (kind == "ECDSA"), out


def test_alpn(tls_tb):
    # An HTTP frontend's `alpn h2,http/1.1` offers http/1.1 only (sluice speaks HTTP/1.1; the
    # configuration check warns); a TCP frontend passes h2 on to its server.
    out = s_client("-servername", "a.test", "-alpn", "h2,http/1.1", data=b"")
    assert "ALPN protocol: http/1.1" in out, out
    out = s_client("-servername", "a.test", "-alpn", "h2,http/1.1", data=b"", port=TCPS)
    assert "ALPN protocol: h2" in out, out
    out = s_client("-servername", "a.test", "-alpn", "spdy/3", data=b"")
    assert "No ALPN negotiated" in out, out


def test_strict_sni_and_min_version(tls_tb):
    out = s_client("-servername", "nobody.test", port=STRICT)
    assert "unrecognized name" in out or "alert" in out, out
    out = s_client("-servername", "a.test", "-tls1_2", port=STRICT)
    assert "alert protocol version" in out or "no protocols available" in out or \
        "wrong version" in out or "unsupported protocol" in out, out
    out = s_client("-servername", "b.test", "-brief", port=STRICT)
    assert "CN = b.test" in out and "TLSv1.3" in out, out


def test_tcp_mode_over_tls(tls_tb):
    out = s_client("-servername", "a.test", "-quiet", data=b"hello through tls\n", port=TCPS)
    assert "r1\nhello through tls" in out, out


def test_session_resumed_with_a_ticket(tls_tb):
    sess = "/tmp/sluice-test-tls/sess.pem"
    for v in ("-tls1_2", "-tls1_3"):
        if os.path.exists(sess):
            os.unlink(sess)
        before = worker_counter(tls_tb, "tls_handshakes_resumed")
        # TLS 1.3 tickets come after the handshake: send a request so they are read.
        req = b"GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
        out = s_client("-servername", "a.test", v, "-sess_out", sess, "-ign_eof", data=req)
        assert "New," in out, out
        out = s_client("-servername", "a.test", v, "-sess_in", sess, "-ign_eof", data=req)
        assert "Reused," in out, out
        assert worker_counter(tls_tb, "tls_handshakes_resumed") == before + 1


def test_no_tls_client_gets_nothing_and_is_counted(tls_tb):
    before = worker_counter(tls_tb, "tls_drop_handshake_failed")
    p = run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "5",
             f"http://{VIP}:{HTTPS}/"], check=False)
    assert p.returncode != 0
    deadline = time.monotonic() + 5
    while worker_counter(tls_tb, "tls_drop_handshake_failed") == before:
        assert time.monotonic() < deadline, "plain HTTP to a TLS bind not counted"
        time.sleep(0.1)


def _raw(payload, wait=1.0):
    """Sends `payload` from sl-client to the TLS bind, then waits; returns what came back."""
    code = ("import socket,sys,time\n"
            f"s=socket.create_connection(('{VIP}',{HTTPS}),timeout=5)\n"
            "s.sendall(bytes.fromhex(sys.argv[1]))\n"
            f"time.sleep({wait})\n"
            "s.settimeout(1)\n"
            "b=b''\n"
            "try:\n"
            "    while True:\n"
            "        d=s.recv(4096)\n"
            "        if not d: break\n"
            "        b+=d\n"
            "except Exception: pass\n"
            "print(b.hex())\n")
    p = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code, payload.hex()],
            check=False, timeout=30)
    return bytes.fromhex(p.stdout.strip() or "")


def test_garbage_and_truncated_client_hellos(tls_tb):
    before = worker_counter(tls_tb, "tls_drop_handshake_failed")
    # Garbage: an alert back (content type 21), then the reset.
    back = _raw(b"\x16\x03\x01\x00\x05hello" + os.urandom(64))
    assert back[:1] == b"\x15", back
    # A ClientHello cut short, then nothing: the handshake timeout (timeout client, 3 s) ends it.
    stalled_before = worker_counter(tls_tb, "tls_drop_handshake_timeout")
    _raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", wait=4.0)
    assert worker_counter(tls_tb, "tls_drop_handshake_failed") >= before + 1
    assert worker_counter(tls_tb, "tls_drop_handshake_timeout") == stalled_before + 1


def test_renegotiation_refused(tls_tb):
    # s_client's "R" command asks for a renegotiation (TLS 1.2); the bind refuses it and the
    # session goes on (a no_renegotiation warning) or ends: never a second handshake.
    before = worker_counter(tls_tb, "tls_handshakes")
    s_client("-servername", "a.test", "-tls1_2", data=b"R\n", timeout=5)
    assert worker_counter(tls_tb, "tls_handshakes") == before + 1


def test_many_half_open_handshakes_leave_nothing(tls_tb):
    # 300 clients that connect and never speak: each is reset by the handshake timeout and
    # the connection table is back to its baseline.
    code = ("import socket,time\n"
            f"ss=[socket.create_connection(('{VIP}',{HTTPS}),timeout=5) for _ in range(300)]\n"
            "time.sleep(5)\n")
    before = worker_counter(tls_tb, "tls_drop_handshake_timeout")
    run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code], timeout=60)
    assert worker_counter(tls_tb, "tls_drop_handshake_timeout") >= before + 300
    rows = stat_rows()
    assert rows[("fe_tls", "FRONTEND")]["scur"] == "0"
    # The service still answers.
    p = curl("--resolve", f"a.test:{HTTPS}:{VIP}", f"https://a.test:{HTTPS}/echo")
    assert p.returncode == 0, p.stderr


HALF_OPEN = 10000

# 10 000 clients that send a ClientHello, get the server's flight and never answer it: each
# holds an OpenSSL state on the worker until `timeout client` resets it.
def test_ten_thousand_half_open_handshakes_leave_nothing(tls_tb):
    code = ("import resource, socket, ssl, time\n"
            f"n = {HALF_OPEN + 1000}\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))\n"
            "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
            "ctx.check_hostname = False\n"
            "ctx.verify_mode = ssl.CERT_NONE\n"
            "inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()\n"
            "obj = ctx.wrap_bio(inc, out, server_hostname='a.test')\n"
            "try:\n    obj.do_handshake()\nexcept ssl.SSLWantReadError:\n    pass\n"
            "hello = out.read()\n"
            "assert hello[0] == 22, hello[:5]\n"
            "ss = []\n"
            f"for _ in range({HALF_OPEN}):\n"
            f"    s = socket.create_connection(('{VIP}', {HTTPS}), timeout=10)\n"
            "    s.sendall(hello)\n"
            "    ss.append(s)\n"
            "print('open', len(ss), flush=True)\n"
            "time.sleep(float(__import__('sys').argv[1]))\n")
    pool_before = int(re.search(r"^PoolUsed_bytes: (\d+)", admin_cli("show info"), re.M).group(1))
    c0 = {k: worker_counter(tls_tb, k) for k in
          ("tls_drop_handshake_timeout", "tls_conns_opened", "tls_conns_freed")}
    client = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code,
                               "600"], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == f"open {HALF_OPEN}"
        # every one is reset by the handshake timeout (3 s), the clients still holding theirs
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if worker_counter(tls_tb, "tls_drop_handshake_timeout") >= \
                    c0["tls_drop_handshake_timeout"] + HALF_OPEN:
                break
            time.sleep(1)
        c1 = {k: worker_counter(tls_tb, k) for k in c0}
        assert c1["tls_drop_handshake_timeout"] - c0["tls_drop_handshake_timeout"] >= HALF_OPEN, c1
        assert c1["tls_conns_opened"] - c0["tls_conns_opened"] >= HALF_OPEN, c1
        # nothing left: every OpenSSL state freed, no session, the mbufs back
        assert c1["tls_conns_opened"] - c0["tls_conns_opened"] == \
            c1["tls_conns_freed"] - c0["tls_conns_freed"], c1
        assert stat_rows()[("fe_tls", "FRONTEND")]["scur"] == "0"
        time.sleep(0.5)
        info = admin_cli("show info")
        used = int(re.search(r"^PoolUsed_bytes: (\d+)", info, re.M).group(1))
        alloc = int(re.search(r"^PoolAlloc_bytes: (\d+)", info, re.M).group(1))
        assert used <= pool_before + alloc // 100, (pool_before, info)
    finally:
        client.kill()
        client.wait()
    # The service still answers.
    p = curl("--resolve", f"a.test:{HTTPS}:{VIP}", f"https://a.test:{HTTPS}/echo")
    assert p.returncode == 0, p.stderr


def test_front_counters_see_plaintext(tls_tb):
    rows = stat_rows()
    assert int(rows[("fe_tls", "FRONTEND")]["stot"]) > 0
    assert int(rows[("fe_tcps", "FRONTEND")]["stot"]) > 0


def test_config_check_names_the_bind(tmp_path):
    from conftest import SLUICE_BIN
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("defaults\n    mode http\n    timeout client 1s\n"
                   "frontend f\n    bind :8443 ssl crt /nonexistent.pem\n"
                   "frontend g\n    bind :8444 ssl\n")
    p = run([SLUICE_BIN, "-c", "-f", str(cfg)], check=False)
    assert p.returncode == 1
    assert ("parsing [%s:5] : 'bind :8443' in section 'frontend' : unable to stat SSL "
            "certificate from file '/nonexistent.pem' : No such file or directory." % cfg) \
        in p.stdout + p.stderr, p.stdout + p.stderr
    assert "no SSL certificate specified for bind ':8444'" in p.stdout + p.stderr




def test_crt_list_errors_name_the_list_line(tmp_path):
    from conftest import SLUICE_BIN
    cases = {f"{CERTS}/a.pem [bogus 1]": "parsing [{list}:2]: unknown ssl keyword bogus",
             f"{CERTS}/a.pem [ciphers]": "parsing [{list}:2]: ssl args out of '[]' for ciphers",
             f"[alpn h2] {CERTS}/a.pem": "parsing [{list}:2]: file must start with a cert",
             f"{CERTS}/a.pem [verify maybe]": "'verify' : unknown verify method 'maybe'",
             "/nope.pem": "unable to stat SSL certificate from file '/nope.pem'"}
    for line, text in cases.items():
        lst = tmp_path / "list.txt"
        lst.write_text(f"# comment\n{line}\n")
        cfg = tmp_path / "bad.cfg"
        cfg.write_text("defaults\n    mode http\n    timeout client 1s\n"
                       f"frontend f\n    bind :8443 ssl crt-list {lst}\n")
        p = run([SLUICE_BIN, "-c", "-f", str(cfg)], check=False)
        want = (f"parsing [{cfg}:5] : 'bind :8443' in section 'frontend' : 'crt-list' : " +
                text.format(list=lst))
        assert p.returncode == 1 and want in p.stdout + p.stderr, (want, p.stdout + p.stderr)


def test_global_tune_ssl_settings(tls_tb):
    # tune.ssl.lifetime: the tickets' lifetime hint; tune.ssl.default-dh-param: the DHE group
    out = s_client("-servername", "a.test", "-tls1_2", "-ign_eof",
                   data=b"GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert "TLS session ticket lifetime hint: 600 (seconds)" in out, out
    out = s_client("-servername", "a.test", "-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256",
                   "-brief")
    assert "Server Temp Key: DH, 3072 bits" in out, out
    # tune.ssl.maxrecord: no application record longer than 1400 bytes (+ the AEAD overhead)
    out = s_client("-servername", "a.test", "-tls1_3", "-ign_eof", "-msg",
                   data=b"GET /size/20000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    lengths = [int(hi + lo, 16) for hi, lo in re.findall(
        r"<<< TLS 1.2, RecordHeader \[length 0005\]\n\s+17 03 03 ([0-9a-f]{2}) ([0-9a-f]{2})", out)]
    assert lengths and max(lengths) <= 1400 + 17 + 5, (lengths, out[-2000:])


def test_global_ssl_settings_errors(tmp_path):
    from conftest import SLUICE_BIN
    cases = {"tune.ssl.lifetime x": "unexpected character 'x' in argument to <tune.ssl.lifetime>.",
             "tune.ssl.default-dh-param 512":
                 "'tune.ssl.default-dh-param' expects a value >= 1024.",
             "tune.ssl.maxrecord -1": "'tune.ssl.maxrecord' expects a positive numeric value.",
             "ssl-server-verify maybe":
                 "'ssl-server-verify' expects 'none' or 'required' as argument.",
             "ssl-default-server-options bogus":
                 "unknown option 'bogus' on global statement 'ssl-default-server-options'.",
             "ssl-load-extra-files bogus": "'ssl-load-extra-files' expects one or multiple "
                                           "arguments (none, all, bundle, sctl, ocsp, issuer)."}
    for line, text in cases.items():
        cfg = tmp_path / "bad.cfg"
        cfg.write_text(f"global\n    {line}\ndefaults\n    mode http\n    timeout client 1s\n")
        p = run([SLUICE_BIN, "-c", "-f", str(cfg)], check=False)
        assert p.returncode == 1 and f"parsing [{cfg}:2] : {text}" in p.stdout + p.stderr, \
            (text, p.stdout + p.stderr)
    # ssl-server-verify none: a TLS server needs no ca-file; ssl-load-extra-files none: no
    # FILE.key is read
    cfg = tmp_path / "ok.cfg"
    cfg.write_text("global\n    ssl-server-verify none\n    ssl-load-extra-files none\n"
                   "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n"
                   "    timeout connect 1s\nbackend b\n    server s 10.0.0.1:443 ssl\n")
    p = run([SLUICE_BIN, "-c", "-f", str(cfg)], check=False)
    alerts = [l for l in (p.stdout + p.stderr).splitlines() if "ALERT" in l]
    # (no dataplane section: that is the only complaint)
    assert all("'dataplane' section" in l or "Fatal errors" in l for l in alerts), alerts
    cfg.write_text("global\n    ssl-load-extra-files none\ndefaults\n    mode http\n"
                   f"    timeout client 1s\nfrontend f\n    bind :8443 ssl crt {CERTS}/b.crt\n")
    p = run([SLUICE_BIN, "-c", "-f", str(cfg)], check=False)
    assert p.returncode == 1 and f"No Private Key found in '{CERTS}/b.crt'." in p.stdout + \
        p.stderr, p.stdout + p.stderr


def _subject(out):
    m = re.search(r"Peer certificate: (.*)", out) or re.search(r"subject=(.*)", out)
    return m.group(1) if m else out


def test_crt_list_lines_options_and_filters(tls_tb):
    # filters replace the certificate's names; a line's options hold for its certificate only
    out = s_client("-servername", "b.test", "-alpn", "h2,http/1.1", port=LISTED)
    assert "CN = b.test" in _subject(out) and "ALPN protocol: h2" in out, out
    assert "CN = b.test" in _subject(s_client("-servername", "x.b2.test", "-brief",
                                              port=LISTED))
    out = s_client("-servername", "b.test", "-tls1_2", port=LISTED)  # ssl-min-ver TLSv1.3
    assert "CONNECTED" in out and "Cipher is (NONE)" in out or "alert" in out, out
    out = s_client("-servername", "a.test", "-alpn", "h2,http/1.1", port=LISTED)
    assert "CN = a.test" in _subject(out) and "ALPN protocol: http/1.1" in out, out
    # verify required on the wildcard's line: a client certificate is needed there only
    client = ["-cert", f"{CERTS}/client-c.crt", "-key", f"{CERTS}/client-c.key"]
    out = s_client("-servername", "ok.wild.test", "-brief", *client, port=LISTED)
    assert "CN = *.wild.test" in _subject(out) and "Verification: OK" in out, out
    out = s_client("-servername", "ok.wild.test", "-tls1_2", port=LISTED)
    assert "handshake failure" in out or "certificate required" in out or \
        "Cipher is (NONE)" in out, out
    # !deny.wild.test: not the wildcard's; the default certificate
    assert "CN = a.test" in _subject(s_client("-servername", "deny.wild.test", "-brief",
                                              port=LISTED))
    # the line's ciphers
    out = s_client("-servername", "cipher.test", "-brief", "-tls1_2", port=LISTED)
    assert "Ciphersuite: ECDHE-RSA-CHACHA20-POLY1305" in out, out
    out = s_client("-servername", "a.test", "-brief", "-tls1_2", port=LISTED)
    assert "Ciphersuite: ECDHE-RSA-AES256-GCM-SHA384" in out, out


def test_show_ssl_crt_list_and_ca_file(tls_tb):
    # haproxy 2.6.12's layout: options in its order, the filters as written
    assert admin_cli("show ssl crt-list") == f"{CRT_LIST}\n\n"
    lines = [f"{CERTS}/a.pem", f"{CERTS}/b.pem [alpn h2 ssl-min-ver TLSv1.3] b.test *.b2.test",
             f"{CERTS}/wild.pem [verify required ca-file {CA}] *.wild.test !deny.wild.test",
             f"{CERTS}/a.pem [ciphers ECDHE-RSA-CHACHA20-POLY1305] cipher.test"]
    assert admin_cli(f"show ssl crt-list {CRT_LIST}") == \
        f"# {CRT_LIST}\n" + "".join(l + "\n" for l in lines) + "\n"
    numbered = admin_cli(f"show ssl crt-list -n {CRT_LIST}").splitlines()
    assert numbered[1:5] == [f"{CERTS}/a.pem:2", lines[1].replace(".pem ", ".pem:3 ", 1),
                             lines[2].replace(".pem ", ".pem:4 ", 1),
                             lines[3].replace(".pem ", ".pem:6 ", 1)], numbered
    assert admin_cli("show ssl crt-list /nope") == "didn't find the specified filename\n\n"
    assert admin_cli("show ssl crt-list -n") == \
        "'show ssl crt-list -n' expects a filename or a directory\n\n"
    # CA files of binds, crt-list lines and servers, once each
    assert admin_cli("show ssl ca-file") == f"# filename\n{CA} - 1 certificate(s)\n\n"
    serial = _x509_text(CA, "-serial").split("=", 1)[1]
    detail = admin_cli(f"show ssl ca-file {CA}").splitlines()
    assert detail[:5] == [f"Filename: {CA}", "Status: Used", " ", "Certificate #1:",
                          f"Serial: {serial}"], detail
    assert detail[-2:] == ["Issuer: /CN=Sluice Test CA", ""], detail
    assert admin_cli(f"show ssl ca-file {CA}:1") == admin_cli(f"show ssl ca-file {CA}")
    assert admin_cli(f"show ssl ca-file {CA}:2") == "\n"
    assert admin_cli(f"show ssl ca-file {CA}:x") == f"wrong CA index after colons in '{CA}:x'!\n"
    assert admin_cli("show ssl ca-file /nope") == "Can't display the CA file : Not found!\n\n"


def test_new_and_del_ssl_cert(tls_tb):
    new = f"{CERTS}/new.pem"
    assert admin_cli(f"new ssl cert {new}") == f"New empty certificate store '{new}'!\n\n"
    assert admin_cli(f"new ssl cert {new}") == f"Certificate '{new}' already exists!\n\n"
    assert admin_cli(f"show ssl cert {new}") == \
        f"Filename: {new}\nStatus: Empty\nOCSP Response Key: \n\n"
    with open(f"{CERTS}/b.pem") as f:
        pem = f.read().strip()
    assert admin_cli(f"set ssl cert {new} <<\n{pem}\n") == \
        f"Transaction created for certificate {new}!\n\n"
    assert admin_cli(f"del ssl cert {new}") == \
        f"Can't remove the certificate: ongoing transaction for the certificate '{new}'\n\n"
    assert admin_cli(f"commit ssl cert {new}") == f"Committing {new}\nSuccess!\n\n"
    detail = admin_cli(f"show ssl cert {new}").splitlines()
    assert detail[1] == "Status: Unused" and "Subject: /CN=b.test" in detail, detail
    used = f"{CERTS}/a.pem"
    assert admin_cli(f"del ssl cert {used}") == \
        f"Can't remove the certificate: certificate '{used}' in use, can't be deleted!\n\n\n"
    assert admin_cli(f"del ssl cert {new}") == f"Certificate '{new}' deleted!\n\n"
    assert new not in admin_cli("show ssl cert")
    assert admin_cli(f"del ssl cert {new}") == \
        f"Can't remove the certificate: certificate '{new}' doesn't exist!\n\n\n"
    assert admin_cli("new ssl cert") == "'new ssl cert' expects a filename\n\n"


def _ticket_name(out):
    """The first 16 bytes of the session ticket s_client printed: its key's name."""
    m = re.search(r"TLS session ticket:\n((?:\s+[0-9a-f]{4} - .*\n)+)", out)
    assert m, out
    first = m.group(1).splitlines()[0]
    return bytes.fromhex(first.split(" - ")[1][:48].replace("-", " ").replace(" ", ""))


def _file_keys():
    with open(KEYS) as f:
        return [l.strip() for l in f if l.strip()]


def _resume(sess, port=KEYED, out_file=None):
    """Resumes with the session in `sess` (TLS 1.2); returns s_client's output."""
    req = b"GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    args = ["-servername", "a.test", "-tls1_2", "-ign_eof", "-sess_in", sess]
    if out_file:
        args += ["-sess_out", out_file]
    return s_client(*args, data=req, port=port)


def _new_session(sess, port=KEYED):
    req = b"GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    return s_client("-servername", "a.test", "-tls1_2", "-ign_eof", "-sess_out", sess, data=req,
                    port=port)


def test_tls_ticket_keys_shown_used_and_rotated(tls_tb):
    keys = _file_keys()
    assert admin_cli("show tls-keys") == f"# id (file)\n0 ({KEYS})\n\n"
    shown = admin_cli("show tls-keys #0")
    assert shown == (f"# id secret\n# 0 ({KEYS})\n0.0 {keys[0]}\n0.1 {keys[1]}\n"
                     f"0.2 {keys[2]}\n\n"), shown
    assert admin_cli(f"show tls-keys {KEYS}") == shown
    assert admin_cli("show tls-keys *") == shown
    assert admin_cli("show tls-keys #9") == \
        "'show tls-keys' unable to locate referenced filename\n\n"
    # New tickets are under the middle key (HAProxy: the penultimate encrypts).
    old = "/tmp/sluice-test-tls/old-ticket.pem"
    out = _new_session(old)
    assert _ticket_name(out) == base64.b64decode(keys[1])[:16], out
    # A rotation: the new key is appended, the oldest dropped, the previous newest encrypts;
    # the ticket under keys[1] still resumes.
    new = [base64.b64encode(os.urandom(48)).decode() for _ in range(3)]
    assert admin_cli(f"set ssl tls-key #0 {new[0]}") == "TLS ticket key updated!\n\n"
    assert admin_cli("show tls-keys #0").splitlines()[2:5] == \
        [f"0.0 {keys[1]}", f"0.1 {keys[2]}", f"0.2 {new[0]}"]
    out = _resume(old)
    assert "Reused," in out, out
    fresh = "/tmp/sluice-test-tls/fresh-ticket.pem"
    out = _new_session(fresh)
    assert _ticket_name(out) == base64.b64decode(keys[2])[:16], out
    # One more: keys[1] is gone, its ticket gets a full handshake; the fresh one resumes.
    assert admin_cli(f"set ssl tls-key {KEYS} {new[1]}") == "TLS ticket key updated!\n\n"
    assert "New," in _resume(old)
    assert "Reused," in _resume(fresh)
    # And one more: keys[2] is gone too.
    assert admin_cli(f"set ssl tls-key #0 {new[2]}") == "TLS ticket key updated!\n\n"
    assert "New," in _resume(fresh)
    # HAProxy's errors.
    assert admin_cli("set ssl tls-key #0 notbase64!!") == \
        "'set ssl tls-key' received invalid base64 encoded TLS key.\n\n"
    wide = base64.b64encode(os.urandom(80)).decode()
    assert admin_cli(f"set ssl tls-key #0 {wide}") == \
        "'set ssl tls-key' received a key of wrong size.\n\n"
    assert admin_cli(f"set ssl tls-key #3 {new[0]}") == \
        "'set ssl tls-key' unable to locate referenced filename\n\n"
    assert admin_cli("set ssl tls-key #0") == \
        "'set ssl tls-key' expects a filename and the new TLS key in base64 encoding.\n\n"


def test_haproxy_and_sluice_resume_each_others_tickets(tls_tb, tmp_path):
    # HAProxy 2.6 (Debian's) on 127.0.0.1 with the same certificate and key file as fe_keys
    # (as it is now: the rotation test may have changed it, so write what sluice shows).
    lines = [l.split(" ", 1)[1] for l in admin_cli("show tls-keys #0").splitlines()[2:5]]
    keys = tmp_path / "keys"
    keys.write_text("".join(k + "\n" for k in lines))
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text("defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n"
                   "    timeout connect 5s\nfrontend f\n"
                   f"    bind 127.0.0.1:19543 ssl crt {CERTS}/a.pem tls-ticket-keys {keys}\n"
                   "    http-request return status 200 content-type text/plain string ok\n")
    hap = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        req = b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"

        def haproxy_client(*args):
            p = subprocess.run(["timeout", "10", "openssl", "s_client", "-connect",
                                "127.0.0.1:19543", "-servername", "a.test", "-tls1_2",
                                "-ign_eof", *args], input=req, capture_output=True, timeout=15)
            return p.stdout.decode(errors="replace")

        from_sluice, from_haproxy = tmp_path / "s.pem", tmp_path / "h.pem"
        assert "New," in _new_session(str(from_sluice))
        assert "Reused," in haproxy_client("-sess_in", str(from_sluice))
        assert "New," in haproxy_client("-sess_out", str(from_haproxy))
        assert "Reused," in _resume(str(from_haproxy))
    finally:
        hap.terminate()
        hap.wait()


def test_tls_fetches_and_log_variables(tls_tb):
    s = Syslog()
    try:
        s.drain()
        p = curl("--resolve", f"a.test:{KEYED}:{VIP}", f"https://a.test:{KEYED}/echo")
        assert p.returncode == 0, p.stderr
        fields = json.loads(p.stdout)["fields"]
        tls = [f for f in fields if f.lower().startswith("x-tls")]
        version = re.search(r"x-tls: 1/(TLSv1\.[23])/(\S+)", "\n".join(tls), re.I)
        assert version, tls
        if version.group(1) == "TLSv1.3":  # the global ssl-default-bind-ciphersuites
            assert version.group(2) == "TLS_AES_128_GCM_SHA256", tls
        assert "x-tls-sni: a.test" in [f.lower() for f in tls], tls
        assert "x-tls-alpn: http/1.1" in [f.lower() for f in tls], tls
        assert "x-tls-reused: 0" in [f.lower() for f in tls], tls
        lines = s.lines(1)
        assert lines, "no log line"
        want = f"fe_keys~ {version.group(1)} {version.group(2)} a.test 200"
        assert lines[-1].rstrip().endswith(want), lines
        # A rule on the SNI.
        p = curl("--resolve", f"denied.test:{KEYED}:{VIP}", "-k", "-o", "/dev/null", "-w",
                 "%{http_code}", f"https://denied.test:{KEYED}/echo")
        assert p.stdout == "403", (p.stdout, p.stderr)
    finally:
        s.close()


def _client_header(port, who=None):
    args = ["--resolve", f"a.test:{port}:{VIP}"]
    if who:
        args += ["--cert", f"{CERTS}/{who}-c.crt", "--key", f"{CERTS}/{who}-c.key"]
    p = curl(*args, f"https://a.test:{port}/echo")
    if p.returncode != 0:
        return None
    fields = json.loads(p.stdout)["fields"]
    return [f.split(": ", 1)[1] for f in fields if f.lower().startswith("x-client:")][0]


def test_client_certificates_verified(tls_tb):
    before = worker_counter(tls_tb, "tls_drop_handshake_failed")
    assert _client_header(MTLS, "client") == "1/0//CN=client.test"
    assert _client_header(MTLS) is None            # required: none sent
    assert _client_header(MTLS, "rogue") is None   # not from the CA
    assert _client_header(MTLS, "revoked") is None  # in the CA's CRL
    assert worker_counter(tls_tb, "tls_drop_handshake_failed") >= before + 3
    assert _client_header(MTLS_OPT) == "0/0"       # optional: none is fine
    assert _client_header(MTLS_OPT, "client") == "1/0"


def test_tls_servers(tls_tb):
    before = worker_counter(tls_tb, "tls_server_handshakes")
    p = curl("-i", f"http://{VIP}:{TO_TLS}/")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("HTTP/1.0 200 ok"), p.stdout[:200]
    assert "s_server" in p.stdout, p.stdout[:500]
    assert worker_counter(tls_tb, "tls_server_handshakes") == before + 1
    # verify none: no SNI, no check.
    p = curl("-i", f"http://{VIP}:{TO_TLS}/noverify")
    assert p.stdout.startswith("HTTP/1.0 200 ok"), p.stdout[:200]
    # The certificate is b.test's: asking for a.test fails the handshake, no server: 503.
    p = curl("-i", f"http://{VIP}:{TO_TLS}/badname")
    assert p.stdout.startswith("HTTP/1.1 503"), p.stdout[:200]
    # sni EXPR: the request's Host, evaluated at each connect, is the name sent and checked
    for host, status in (("B.TEST", "HTTP/1.0 200 ok"), ("a.test", "HTTP/1.1 503"),
                         ("b.test", "HTTP/1.0 200 ok")):
        p = curl("-i", "-H", f"Host: {host}", f"http://{VIP}:{TO_TLS}/dyn")
        assert p.stdout.startswith(status), (host, p.stdout[:200])


def test_server_sni_expression_errors(tmp_path):
    # (rules are compiled once the whole file is read: a dataplane section is needed)
    from conftest import DEFAULT_CONFIG, SLUICE_BIN
    with open(DEFAULT_CONFIG) as f:
        text = f.read().rstrip("\n") + "\n"
    text += ("defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n"
             "    timeout connect 1s\nbackend b\n"
             "    server s 10.0.0.1:443 ssl verify none sni nosuchfetch\n")
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(text)
    line = text.count("\n")
    p = run([SLUICE_BIN, "-c", "-f", str(cfg)], check=False)
    assert p.returncode == 1 and f"parsing [{cfg}:{line}] : 'server b/s' : 'sni' : failed to " \
        "parse sni expression 'nosuchfetch' : " in p.stdout + p.stderr, p.stdout + p.stderr


_x509 = _x509_text


def _stapled(out):
    """The OCSP response s_client -status printed, as its text."""
    m = re.search(r"OCSP response:.*?\n={10,}\n(.*?)\n={10,}", out, re.S)
    return m.group(1) if m else None


def test_ocsp_stapling_shown_and_replaced(tls_tb):
    stapled = _stapled(s_client("-servername", "a.test", "-status", data=b""))
    assert stapled and "Cert Status: good" in stapled, stapled
    listing = admin_cli("show ssl ocsp-response").splitlines()
    assert listing[0] == "# Certificate IDs"
    key = listing[1].split(" : ")[1]
    serial = _x509(f"{CERTS}/a.crt", "-serial").split("=", 1)[1]
    assert listing[2:6] == [" Certificate ID:", listing[3], listing[4],
                            f"   Serial Number: {serial}"], listing
    assert listing[3].startswith("   Issuer Name Hash: ")
    assert f"OCSP Response Key: {key}" in admin_cli(f"show ssl cert {CERTS}/a.pem")
    detail = admin_cli(f"show ssl ocsp-response {key}")
    assert "OCSP Response Status: successful (0x0)" in detail and "Cert Status: good" in detail
    produced = re.search(r"Produced At: (.*)", detail).group(1)
    # A new response (another Produced At), set live: stapled from the next handshake.
    time.sleep(1.1)
    new = f"{CERTS}/a-new.ocsp"
    _ocsp_response(f"{CERTS}/a.crt", new, days="2")
    with open(new, "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    assert admin_cli(f"set ssl ocsp-response {b64}") == "OCSP Response updated!\n\n"
    detail = admin_cli(f"show ssl ocsp-response {key}")
    assert re.search(r"Produced At: (.*)", detail).group(1) != produced
    stapled = _stapled(s_client("-servername", "a.test", "-status", data=b""))
    assert stapled and re.search(r"Produced At: (.*)", stapled).group(1) != produced, stapled
    # As a payload (base64 over lines), HAProxy's errors.
    lines = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    assert admin_cli(f"set ssl ocsp-response <<\n{lines}\n") == "OCSP Response updated!\n\n"
    assert admin_cli("set ssl ocsp-response AAAA") == "Unable to parse OCSP response.\n\n"
    assert admin_cli("set ssl ocsp-response") == \
        "'set ssl ocsp-response' expects response in base64 encoding.\n\n"
    other = f"{CERTS}/b.ocsp"
    _ocsp_response(f"{CERTS}/b.crt", other)
    with open(other, "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    assert admin_cli(f"set ssl ocsp-response {b64}") == (
        "OCSP single response: Certificate ID does not match any certificate or issuer.\n\n")
    assert admin_cli("show ssl ocsp-response 1234") == \
        "Certificate ID does not match any certificate.\n\n"


def test_show_ssl_cert(tls_tb):
    # a bundle's parts are listed as files of their own (HAProxy 2.6.12 does so)
    assert admin_cli("show ssl cert") == (f"# filename\n{CERTS}/a.pem\n{CERTS}/b.pem\n"
                                          f"{CERTS}/dual.pem.ecdsa\n{CERTS}/dual.pem.rsa\n"
                                          f"{CERTS}/wild.pem\n\n")
    detail = admin_cli(f"show ssl cert {CERTS}/b.pem").splitlines()
    serial = _x509(f"{CERTS}/b.crt", "-serial").split("=", 1)[1]
    sha1 = _x509(f"{CERTS}/b.crt", "-fingerprint", "-sha1").split("=", 1)[1].replace(":", "")
    assert detail[:3] == [f"Filename: {CERTS}/b.pem", "Status: Used", f"Serial: {serial}"]
    assert detail[5:] == ["Subject Alternative Name: DNS:b.test", "Algorithm: EC256",
                          f"SHA1 FingerPrint: {sha1}", "Subject: /CN=b.test",
                          "Issuer: /CN=Sluice Test CA", "OCSP Response Key: ", ""], detail
    assert detail[3].startswith("notBefore: ") and detail[3].endswith(" GMT")
    assert admin_cli("show ssl cert /nope") == \
        "Can't display the certificate: Not found or the certificate is a bundle!\n\n"


def test_commit_ssl_cert_under_traffic(tls_tb):
    # A renewed a.test certificate from the same CA.
    key, csr, crt = (f"{CERTS}/renewed.{e}" for e in ("key", "csr", "crt"))
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=a.test")
    ext = f"{CERTS}/renewed.ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:a.test\n")
    _openssl("x509", "-req", "-in", csr, "-CA", CA, "-CAkey", f"{CERTS}/ca.key",
             "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    with open(crt) as f1, open(key) as f2:
        pem = f1.read() + f2.read()
    new_serial = _x509(crt, "-serial").split("=", 1)[1]
    path = f"{CERTS}/a.pem"
    assert admin_cli(f"commit ssl cert {path}") == \
        f"No ongoing transaction! !\nCan't commit {path}!\n\n"
    assert admin_cli(f"abort ssl cert {path}") == "No ongoing transaction!\n\n"
    assert admin_cli(f"set ssl cert /nope <<\n{pem}") == (
        "Can't replace a certificate which is not referenced by the configuration!\n"
        "Can't update /nope!\n\n")
    # Clients handshake all along; none may fail.
    stop = threading.Event()
    results = []

    def load():
        while not stop.is_set():
            p = curl("--resolve", f"a.test:{HTTPS}:{VIP}", "-o", "/dev/null", "-w",
                     "%{http_code}", f"https://a.test:{HTTPS}/echo")
            results.append((p.returncode, p.stdout))
    t = threading.Thread(target=load)
    t.start()
    try:
        time.sleep(0.5)
        assert admin_cli(f"set ssl cert {path} <<\n{pem}") == \
            f"Transaction created for certificate {path}!\n\n"
        assert admin_cli("show ssl cert").startswith(f"# transaction\n*{path}\n# filename\n")
        assert f"Serial: {new_serial}" in admin_cli(f"show ssl cert *{path}")
        # One dot per instance of the file (HAProxy's ckch instances): per bind line, and per
        # crt-list line naming it.
        lines = [l for l in SECTIONS.splitlines() if "crt {CERTS}/a.pem".format(CERTS=CERTS) in l]
        lines += [l for l in open(CRT_LIST) if l.startswith(f"{CERTS}/a.pem")]
        assert admin_cli(f"commit ssl cert {path}") == \
            f"Committing {path}{'.' * len(lines)}\nSuccess!\n\n"
        time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    assert results and all(r == (0, "200") for r in results), results
    out = s_client("-servername", "a.test", "-showcerts", data=b"")
    served = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    p = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=served.group(0),
                       capture_output=True, text=True)
    assert p.stdout.strip() == f"serial={new_serial}", (p.stdout, out[:300])
    assert f"Serial: {new_serial}" in admin_cli(f"show ssl cert {path}")
