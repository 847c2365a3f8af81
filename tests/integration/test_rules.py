"""Rules, ACLs and maps changed live (issue 14, docs/rules.md), on examples/rules.cfg: the
Runtime API article's whitelist, map and rate-limit sessions replayed with socat (and nc),
with client requests before and after each change proving the effect; use_backend by a
Host map; http-request return, redirect and header edits seen by the backend; tcp-request
connection reject in TCP mode; %[expr] in the log line."""

import json
import os
import re
import subprocess

import pytest

from conftest import NS_CLIENT, ROOT, STATE_DIR, Syslog, admin_cli, run, start_backend, \
    stop_backends

from test_http import curl

RULES_DIR = os.path.join(ROOT, "examples/rules")
WHITELIST = os.path.join(RULES_DIR, "whitelist.lst")
BLACKLIST = os.path.join(RULES_DIR, "blacklist.lst")
COUNTRY = os.path.join(RULES_DIR, "ip-country.lst")
HOSTS = os.path.join(RULES_DIR, "hosts.map")
SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12", "s3": "10.10.2.13"}
VIP = "10.10.1.1"


def _config():
    # The example with its pattern files' paths made absolute (sluice, like HAProxy, reads
    # a relative path from its working directory).
    with open(os.path.join(ROOT, "examples/rules.cfg")) as f:
        text = f.read().replace("examples/rules/", RULES_DIR + "/")
    path = "/tmp/sluice-test-rules.cfg"
    with open(path, "w") as f:
        f.write(text)
    return path


TESTBED_CONFIG = _config()


@pytest.fixture(scope="module")
def rules_tb(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    yield testbed
    stop_backends(procs)


def get(path, *extra):
    """curl from sl-client: (status, headers text, body)."""
    p = curl("-i", *extra, f"http://{VIP}:8080{path}")
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition("\n\n")
    return int(head.split()[1]), head, body


def echo(*extra):
    status, head, body = get("/echo", *extra)
    assert status == 200, head
    seen = json.loads(body)
    fields = {}
    for f in seen["fields"]:
        name, _, value = f.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    server = re.search(r"(?im)^x-server: (\S+)", head).group(1)
    return seen, fields, server


def test_show_acl_and_map_lists(rules_tb):
    out = admin_cli("show acl")
    lines = out.split("\n")
    assert lines[0] == "# id (file) description"
    # The whitelist file (id 0), the inline values of the same line (id 1), path_beg (id 2),
    # as HAProxy numbers them (transcript 60).
    assert lines[1] == (f"0 ({WHITELIST}) pattern loaded from file '{WHITELIST}' used by acl at "
                        f"file '{TESTBED_CONFIG}' line 38. curr_ver=0 next_ver=0 entry_cnt=3")
    assert lines[2] == (f"1 () acl 'src' file '{TESTBED_CONFIG}' line 38. curr_ver=0 next_ver=0 "
                        "entry_cnt=0")
    assert lines[3] == (f"2 () acl 'path_beg' file '{TESTBED_CONFIG}' line 39. curr_ver=0 "
                        "next_ver=0 entry_cnt=1")
    assert out.endswith("\n\n")
    maps = admin_cli("show map").split("\n")
    assert maps[0] == "# id (file) description"
    country = [l for l in maps if f"({COUNTRY})" in l]
    assert len(country) == 1
    # Used by the return rule, set-header and the log-format (newest user first).
    assert "used by map at file" in country[0] and "entry_cnt=6" in country[0]
    entries = admin_cli(f"show map {COUNTRY}").split("\n")
    assert re.fullmatch(r"0x[0-9a-f]+ 127\.0\.0\.0/8 LO", entries[0]), entries
    assert [e.split(" ", 1)[1] for e in entries if e] == [
        "127.0.0.0/8 LO", "10.0.0.0/8 PRIV", "10.10.1.0/24 LAB", "1.0.0.0/24 AU",
        "2.22.246.0/23 GB", "8.8.8.0/24 US"]


def test_get_acl_and_map(rules_tb):
    assert admin_cli("get acl #0 192.168.1.10") == (
        'type=ip, case=sensitive, match=yes, idx=tree, pattern="192.168.0.0/16"\n\n')
    assert admin_cli("get acl #0 8.8.8.8") == "type=ip, case=sensitive, match=no\n\n"
    assert admin_cli("get acl #2 /admin/x") == (
        'type=beg, case=sensitive, match=yes, idx=tree, pattern="/admin"\n\n')
    mid = admin_cli("show map").split("\n")[1].split()[0]
    assert admin_cli(f"get map #{mid} 1.0.0.7") == (
        'type=ip, case=sensitive, found=yes, idx=tree, key="1.0.0.0/24", value="AU", '
        'type="str"\n\n')
    assert admin_cli(f"get map #{mid} 9.9.9.9") == "type=ip, case=sensitive, found=no\n\n"
    assert admin_cli("show map #42") == "Unknown map identifier. Please use #<id> or <file>.\n\n"
    assert admin_cli("add acl #99 1.2.3.4") == (
        "Unknown ACL identifier. Please use #<id> or <file>.\n\n")
    assert admin_cli("add acl #0 not-an-ip") == (
        "'not-an-ip' is not a valid IPv4 or IPv6 address.\n\n")


@pytest.mark.sanitizer
def test_whitelist_session(rules_tb):
    """Transcripts 63-64: the client is let into /admin once added, refused once deleted."""
    assert get("/admin")[0] == 403
    assert admin_cli(f"add acl {WHITELIST} 10.10.1.2") == "\n"
    assert get("/admin")[0] == 404  # let through: the backend has no /admin
    entries = admin_cli("show acl #0").split("\n")
    assert [e.split(" ", 1)[1] for e in entries if e] == [
        "127.0.0.2", "192.168.0.0/16", "10.1.2.3", "10.10.1.2"]
    assert admin_cli("del acl #0 10.10.1.2") == "\n"
    assert get("/admin")[0] == 403
    assert admin_cli("del acl #0 99.99.99.99") == "Key not found.\n\n"
    # By reference, as `show acl` prints it.
    admin_cli("add acl #0 10.10.1.0/24")
    assert get("/admin")[0] == 404  # let through: the backend has no /admin
    ref = [e for e in admin_cli("show acl #0").split("\n") if e.endswith(" 10.10.1.0/24")]
    assert admin_cli(f"del acl #0 #{ref[0].split()[0]}") == "\n"
    assert get("/admin")[0] == 403
    # The file on disk is never rewritten.
    with open(WHITELIST) as f:
        assert "10.10.1" not in f.read()


def test_prepare_commit_session(rules_tb):
    """Transcripts 65-65h: a new version is filled, then replaces the whole list at once."""
    assert admin_cli("prepare acl #0") == "New version created: 1\n\n"
    assert admin_cli("add acl @1 #0 10.10.1.2") == "\n"
    assert admin_cli("add acl @1 #0 127.0.0.2") == "\n"
    assert get("/admin")[0] == 403  # not committed yet
    assert "curr_ver=0 next_ver=1" in admin_cli("show acl").split("\n")[1]
    assert [e.split(" ", 1)[1] for e in admin_cli("show acl @1 #0").split("\n") if e] == [
        "10.10.1.2", "127.0.0.2"]
    assert admin_cli("add acl @7 #0 1.2.3.4") == (
        "Version number in the future, please use 'prepare acl' before.\n\n")
    assert admin_cli("commit acl @1 #0") == "\n"
    assert get("/admin")[0] == 404  # let through: the backend has no /admin
    assert [e.split(" ", 1)[1] for e in admin_cli("show acl #0").split("\n") if e] == [
        "10.10.1.2", "127.0.0.2"]
    assert "curr_ver=1 next_ver=1" in admin_cli("show acl").split("\n")[1]
    assert admin_cli("commit acl @1 #0") == "Version number out of range.\n\n"
    assert admin_cli("clear acl #0") == "\n"
    assert get("/admin")[0] == 403
    assert admin_cli("show acl #0") == "\n"


@pytest.mark.sanitizer
def test_map_session(rules_tb):
    """Transcripts 72-78b: set, add (most specific wins), del, the default, the log line."""
    log = Syslog()
    try:
        log.drain()
        assert echo()[1]["x-country"] == ["LAB"]
        assert admin_cli(f"set map {COUNTRY} 10.10.1.0/24 LABX") == "\n"
        assert echo()[1]["x-country"] == ["LABX"]
        assert admin_cli(f"add map {COUNTRY} 10.10.1.2/32 HOST") == "\n"
        assert echo()[1]["x-country"] == ["HOST"]
        assert get("/country")[2] == "country=HOST\n"
        assert admin_cli(f"del map {COUNTRY} 10.10.1.2/32") == "\n"
        assert admin_cli(f"del map {COUNTRY} 10.10.1.2/32") == "Key not found.\n\n"
        assert admin_cli(f"set map {COUNTRY} 5.5.5.0/24 XX") == "entry not found.\n\n"
        assert admin_cli(f"add map {COUNTRY} 4.4.4.0/24") == (
            "'add map' expects three parameters (map identifier, key and value) or one "
            "parameter (map identifier) and a payload\n\n")
        assert echo()[1]["x-country"] == ["LABX"]
        admin_cli(f"del map {COUNTRY} 10.0.0.0/8")
        admin_cli(f"del map {COUNTRY} 10.10.1.0/24")
        assert echo()[1]["x-country"] == ["ZZ"]  # the default
        # The log line's %[...] uses the map as it is now (transcript 78b).
        lines = [l for l in log.lines(20, timeout=3) if "fe_main" in l]
        assert lines and lines[-1].rstrip().endswith("country=ZZ"), lines
    finally:
        log.close()
    # Payload form (transcript B0d), through nc on the TCP socket is not configured here:
    # socat with the "<<" payload on the unix socket.
    out = admin_cli(f"add map {COUNTRY} <<\n10.10.1.0/24 PAYLOAD\n6.6.6.0/24 SIX with spaces\n")
    assert out == "\n"
    assert echo()[1]["x-country"] == ["PAYLOAD"]
    assert "6.6.6.0/24 SIX with spaces" in admin_cli(f"show map {COUNTRY}")


@pytest.mark.sanitizer
def test_set_log_level(rules_tb):
    log = Syslog()
    try:
        log.drain()
        get("/quiet")
        get("/loud")
        lines = [l for l in log.lines(5, timeout=2) if "fe_main" in l]
        # Nothing for /quiet (silent); /loud at err: local0 (16) * 8 + 3.
        assert len(lines) == 1 and lines[0].startswith("<131>"), lines
    finally:
        log.close()


@pytest.mark.sanitizer
def test_captures_in_log_and_headers(rules_tb):
    """fe_cap: `capture request|response header`, `http-request capture ... len`, `declare
    capture` with `http-response capture ... id`, read back by capture.req.hdr /
    capture.res.hdr in a response header and written by %hr / %hs in the httplog line, with
    HAProxy's '#XX' escaping (its bytes as Debian's haproxy 2.6 wrote them)."""
    log = Syslog()
    try:
        log.drain()
        p = curl("-i", "-H", "Host: example.com.long", "-A", "curl/8", "-H", "X-Foo: a|bcd",
                 f"http://{VIP}:8081/cap")
        assert p.returncode == 0, p.stderr
        head = p.stdout.partition("\n\n")[0]
        cap = re.search(r"(?im)^x-cap: (.*)$", head)
        server = re.search(r"(?im)^x-server: (.*)$", head).group(1).strip()
        assert cap and cap.group(1).strip() == f"example.com./a|b/{server}", head
        # Missing fields: empty slots; the last field of a name is the one kept.
        p = curl("-i", "-H", "User-Agent:", "-H", "X-Foo: 1", "-H", "X-Foo: 2",
                 f"http://{VIP}:8081/cap2")
        assert p.returncode == 0, p.stderr
        # capture cookie SESS len 10: the first cookie named SESS..., "name=value" cut to
        # 10 bytes, blanks around '=' dropped; the response's first Set-Cookie so named; a
        # name without '=' is not taken (as Debian's haproxy 2.6.12 logged the same).
        for cookie in ("a=1; SESSID=abcdefghijklmnop; SESS=2", "SESS; SESx=1;  SESSx = y"):
            p = curl("-H", f"Cookie: {cookie}", f"http://{VIP}:8081/set-cookie")
            assert p.returncode == 0 and p.stdout == "ok", p.stderr
        # A request the rules deny never gets to the capture (HAProxy captures on the way to
        # a server).
        p = curl("-H", "Cookie: SESSID=1", f"http://{VIP}:8081/no-cookie-logged")
        assert p.returncode == 0, p.stderr
        lines = [l for l in log.lines(20, timeout=3) if " fe_cap " in l]
        assert len(lines) == 5, lines
        assert re.search(r' 403 \d+ - - PR-- ', lines[4]), lines[4]
        assert re.search(r' [1-5]\d\d \d+ - - ---- .* 0/0 \{example\.com\.\|curl/\|a#7Cb\} '
                         r'\{s\|s[12]\} "GET /cap HTTP/1\.1"$', lines[0].rstrip()), lines[0]
        assert re.search(r'0/0 \{10\.10\.1\.1:80\|\|2\} \{s\|s[12]\} "GET /cap2 HTTP/1\.1"$',
                         lines[1].rstrip()), lines[1]
        assert re.search(r' 200 \d+ SESSID=abc SESSIONID= ---- ', lines[2]), lines[2]
        assert re.search(r' 200 \d+ SESSx=y SESSIONID= ---- ', lines[3]), lines[3]
    finally:
        log.close()


@pytest.mark.sanitizer
def test_basic_auth(rules_tb):
    """fe_auth: `http-request auth` answers HAProxy 2.6's 401 (the bytes Debian's haproxy
    2.6.12 sends) until curl gives a user of the userlist; a group guards /ops; clear and
    crypt(3) passwords."""
    url = f"http://{VIP}:8082"
    p = curl("-i", f"{url}/echo")
    head, _, body = p.stdout.partition("\n\n")
    assert head.split("\n") == [
        "HTTP/1.1 401 Unauthorized", "content-length: 112", "cache-control: no-cache",
        "content-type: text/html", 'www-authenticate: Basic realm="Sluice admin"'], head
    assert body == ("<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password "
                    "to access this content.\n</body></html>\n")
    # HTTP/1.0 without keep-alive: the connection closes, and the answer says so.
    p = curl("-i", "--http1.0", f"{url}/echo")
    assert re.search(r"(?m)^connection: close$", p.stdout), p.stdout
    for user in ("alice:secret", "bob:pw"):
        p = curl("-i", "-u", user, f"{url}/echo")
        head, _, body = p.stdout.partition("\n\n")
        assert head.startswith("HTTP/1.1 200"), head
        fields = [f.partition(":") for f in json.loads(body)["fields"]]
        assert [v.strip() for n, _, v in fields if n.lower() == "x-user"] == \
            [user.split(":")[0]], body
    for user in ("alice:wrong", "bob:x", "nobody:pw"):
        assert curl("-i", "-u", user, f"{url}/echo").stdout.startswith("HTTP/1.1 401"), user
    # alice (in ops) reaches the server (which knows no /ops: its 404); bob is refused.
    out = curl("-i", "-u", "alice:secret", f"{url}/ops/x").stdout
    assert out.startswith("HTTP/1.1 404") and "x-server:" in out, out
    assert curl("-i", "-u", "bob:pw", f"{url}/ops/x").stdout.startswith("HTTP/1.1 403")


def test_use_backend_by_host_map(rules_tb):
    assert echo("-H", "Host: b.example")[2] == "s3"
    assert {echo("-H", "Host: c.example")[2] for _ in range(4)} <= {"s1", "s2"}
    assert admin_cli(f"add map {HOSTS} c.example be_b") == "\n"
    assert echo("-H", "Host: C.Example")[2] == "s3"
    assert admin_cli(f"set map {HOSTS} c.example be_web") == "\n"
    assert echo("-H", "Host: c.example")[2] in ("s1", "s2")


@pytest.mark.sanitizer
def test_return_redirect_and_header_edits(rules_tb):
    status, head, body = get("/old")
    assert status == 301 and re.search(r"(?im)^location: /new$", head), head
    status, head, body = get("/country")
    assert status == 200 and re.search(r"(?im)^content-type: text/plain$", head)
    assert body.startswith("country=")
    seen, fields, _ = echo("-H", "X-Secret: 1", "-H", "X-Country: forged")
    assert "x-secret" not in fields
    assert fields["x-via"] == ["sluice"]
    assert len(fields["x-country"]) == 1 and fields["x-country"][0] != "forged"
    seen, fields, _ = echo("-H", "X-Rep: v-old", "-H", "X-Vals: a, b,a", "-H", "X-Keep: old")
    assert fields["x-rep"] == ["v-new"] and fields["x-vals"] == ["A, b, A"], seen
    assert fields["x-keep"] == ["old"]
    status, head, body = get("/rewrite/x")
    assert status == 200 and json.loads(body)["start"] == "GET /echo HTTP/1.1"
    status, head, body = get("/", "-H", "X-Flood: 1")
    assert status == 429 and "Too Many Requests" in body
    # http-response rules: a header added to every answer, a status rewritten, one refused.
    status, head, _ = get("/status/200")
    assert status == 200 and re.search(r"(?im)^x-rules: on$", head), head
    # hdr() in an http-response rule reads the response (HAProxy 2.6.12 does the same).
    server = re.search(r"(?im)^x-server: (\S+)$", head).group(1)
    assert re.search(rf"(?im)^x-answered-by: {server}$", head), head
    status, head, _ = get("/status/209")
    assert head.startswith("HTTP/1.1 299 Fine"), head
    assert get("/status/210")[0] == 502
    rows = [l.split(",") for l in admin_cli("show stat").split("\n") if l.startswith("fe_main,")]
    header = admin_cli("show stat").split("\n")[0][2:].split(",")
    assert int(dict(zip(header, rows[0]))["dreq"]) >= 1  # the 403s and the 429


def _tcp_connect():
    """Connects to the TCP frontend from sl-client and sends a request: the answer, or ''
    when the connection is refused or reset."""
    p = run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "5",
             f"http://{VIP}:8090/status/200", "-o", "/dev/null", "-w", "%{http_code}"],
            check=False)
    return p.stdout.strip()


@pytest.mark.sanitizer
def test_tcp_request_connection_reject(rules_tb):
    assert _tcp_connect() == "200"
    assert admin_cli(f"add acl {BLACKLIST} 10.10.1.0/24") == "\n"
    assert _tcp_connect() in ("", "000")
    assert admin_cli(f"del acl {BLACKLIST} 10.10.1.0/24") == "\n"
    assert _tcp_connect() == "200"


def test_nc_on_admin_socket(rules_tb):
    # The same commands through nc, as the article also shows (unix socket).
    sock = os.path.join(STATE_DIR, "admin.sock")
    p = subprocess.run(["nc", "-U", "-N", sock], input="add acl #0 10.1.2.0/24\n",
                       capture_output=True, text=True, timeout=10)
    assert p.stdout == "\n"
    p = subprocess.run(["nc", "-U", "-N", sock], input="get acl #0 10.1.2.4\n",
                       capture_output=True, text=True, timeout=10)
    assert p.stdout == 'type=ip, case=sensitive, match=yes, idx=tree, pattern="10.1.2.0/24"\n\n'
