"""errorfile CODE FILE, errorfiles NAME and http-error status CODE ... (issue 13): a backend with
no server up answers with the errorfile's bytes instead of HAProxy's 503 page, another backend
keeps HAProxy's page; http-error answers are the bytes haproxy 2.6.12 sent for the same lines;
an http-errors section written after the proxies that name it gives their answers."""

import os

from conftest import ROOT

from test_http import client

ERRORFILE = os.path.join(ROOT, "tests/integration/data/errorfile-503.http")
FORBIDDEN = os.path.join(ROOT, "tests/integration/data/errorfile-403.http")


def _config():
    # The testbed's HTTP example with a frontend on 8086 whose backend's only server is
    # disabled and has an errorfile (an absolute path: sluice reads it where it starts).
    with open(os.path.join(ROOT, "examples/proxy-http.cfg")) as f:
        text = f.read()
    text += ("\nfrontend fe_down\n    bind 10.10.1.1:8086\n    default_backend be_down\n"
             f"\nbackend be_down\n    errorfile 503 {ERRORFILE}\n"
             "    server s1 10.10.2.11:9000 disabled\n"
             "\nfrontend fe_err\n    bind 10.10.1.1:8087\n    default_backend be_err\n"
             "    http-request deny if { path /deny }\n    http-error status 403\n"
             "\nbackend be_err\n    http-error status 503 content-type text/html string "
             "<b>down</b> hdr X-Foo bar\n    server s1 10.10.2.11:9000 disabled\n"
             "\nfrontend fe_sect\n    bind 10.10.1.1:8088\n    default_backend be_sect\n"
             "    errorfiles site 403\n    http-request deny if { path /deny }\n"
             "\nbackend be_sect\n    http-error status 503 errorfiles site\n"
             "    server s1 10.10.2.11:9000 disabled\n"
             f"\nhttp-errors site\n    errorfile 503 {ERRORFILE}\n    errorfile 403 {FORBIDDEN}\n")
    path = os.path.join("/tmp", "sluice-test-errorfile.cfg")
    with open(path, "w") as f:
        f.write(text)
    return path


TESTBED_CONFIG = _config()


def test_errorfile_replaces_the_503_page(testbed):
    with open(ERRORFILE, "rb") as f:
        page = f.read().decode()
    out = client("raw", "10.10.1.1", 8086, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".hex())
    assert out["reply"] == page, out
    # The other frontends' 503s stay HAProxy's (none here: checked on a bad request's 400).
    bad = client("raw", "10.10.1.1", 8080, b"GET / HTTP/1.1\r\nX Y: 1\r\n\r\n".hex())
    assert bad["reply"].startswith("HTTP/1.1 400 Bad request\r\nContent-length: 90\r\n")


def test_http_error_answers_as_haproxy_builds_them(testbed):
    out = client("raw", "10.10.1.1", 8087, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".hex())
    assert out["reply"] == ("HTTP/1.1 503 Service Unavailable\r\nx-foo: bar\r\n"
                            "content-length: 11\r\ncontent-type: text/html\r\n\r\n<b>down</b>"), out
    out = client("raw", "10.10.1.1", 8087, b"GET /deny HTTP/1.1\r\nHost: a\r\n\r\n".hex())
    assert out["reply"] == "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n", out


def test_errorfiles_from_an_http_errors_section(testbed):
    with open(ERRORFILE, "rb") as f:
        page503 = f.read().decode()
    with open(FORBIDDEN, "rb") as f:
        page403 = f.read().decode()
    out = client("raw", "10.10.1.1", 8088, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".hex())
    assert out["reply"] == page503, out
    out = client("raw", "10.10.1.1", 8088, b"GET /deny HTTP/1.1\r\nHost: a\r\n\r\n".hex())
    assert out["reply"] == page403, out
