"""gpt(N), gpc(N) and gpc_rate(N,P) arrays in stick tables (issue 15, docs/stick-tables.md),
replayed from Debian's haproxy 2.6.12 answering the same configurations (the expected
texts below are its answers, the client's address and the entries' references aside):
how `show table` writes the elements, the array fetches and actions with their edge cases
(an index past the array, a counter not tracked, no value), the legacy gpt0/gpc0/gpc1
falling back to elements 0 and 1 when only the array is stored, and `set table` / filters
naming element 0."""

import re
import subprocess

from conftest import NS_CLIENT, admin_cli, config_file

VIP = "10.10.1.1"

SECTIONS = r"""
defaults
    mode http
    timeout connect 5s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 10.10.1.1:24000
    stick-table type ip size 1k expire 1m store gpc(3),gpt(2),gpc_rate(2,10s),http_req_cnt
    http-request track-sc0 src
    http-request sc-inc-gpc(1,0)
    http-request sc-set-gpt(1,0) 7
    http-request return status 200 content-type text/plain lf-string "nosmp=[%[var(txn.nope)]]\na=%[sc_get_gpc(1,0)] b=%[sc_gpc_rate(1,0)] c=%[sc_get_gpt(1,0)] d=%[src_get_gpc(1,fe)] e=%[src_get_gpt(1,fe)] f=%[src_gpc_rate(1,fe)] f0=%[src_gpc_rate(0,fe)]\noor: g=%[sc_get_gpc(5,0)] h=%[sc_get_gpt(5,0)] i=%[sc_gpc_rate(5,0)] g2=%[src_get_gpc(3,fe)] h2=%[sc_get_gpt(2,0)] l=%[sc_get_gpc(-1,0)] l2=%[sc_get_gpc(100,0)]\nctr: j=%[sc_get_gpc(1,1)] k=%[sc_get_gpc(1,3)]\nlegacy: m=%[sc_get_gpc0(0)] m1=%[sc_get_gpc1(0)] n=%[sc_get_gpt0(0)] o=%[sc_get_gpc(0,0)] o2=%[sc0_gpc0_rate]\nside: p=%[sc_inc_gpc(1,0)] q=%[src_inc_gpc(1,fe)] r=%[sc_get_gpc(1,0)] s=%[sc_clr_gpc(1,0)] t=%[sc_get_gpc(1,0)] u=%[src_inc_gpc(1,fe)] v=%[src_clr_gpc(1,fe)] w=%[src_get_gpc(1,fe)] x=%[sc_inc_gpc(0,0)] y=%[sc_clr_gpc(5,0)] z=%[sc_inc_gpc(5,0)]\n"

frontend fe_noarr
    bind 10.10.1.1:24001
    stick-table type ip size 1k expire 1m store http_req_cnt,gpc0,gpt0,gpc0_rate(10s)
    http-request track-sc0 src
    http-request sc-inc-gpc(1,0)
    http-request sc-inc-gpc(0,0)
    http-request sc-set-gpt(0,0) 9
    http-request return status 200 content-type text/plain lf-string "notstored: a=%[sc_get_gpc(1,0)] b=%[sc_gpc_rate(1,0)] c=%[sc_get_gpt(1,0)] d=%[src_get_gpc(1,fe_noarr)] e=%[src_get_gpt(1,fe_noarr)] f=%[src_gpc_rate(1,fe_noarr)] ic=%[sc_inc_gpc(1,0)] cc=%[sc_clr_gpc(1,0)]\nidx0 vs legacy: g0=%[sc_get_gpc(0,0)] t0=%[sc_get_gpt(0,0)] r0=%[sc_gpc_rate(0,0)] legacy gpc0=%[sc_get_gpc0(0)] gpt0=%[sc_get_gpt0(0)] rate=%[sc0_gpc0_rate]\n"

frontend fe_legacy
    bind 10.10.1.1:24002
    stick-table type ip size 1k expire 1m store gpt(3),gpc(3),gpc_rate(3,10s),http_req_cnt
    http-request track-sc0 src
    http-request sc-set-gpt(2,0) 5
    http-request sc-set-gpt(2,0)
    http-request sc-set-gpt(1,0) 6
    http-request sc-set-gpt(1,0) req.hdr(x)
    http-request sc-set-gpt0(0) 9
    http-request sc-set-gpt(5,0) 7
    http-request sc-inc-gpc(5,0)
    http-request sc-inc-gpc0(0)
    http-request sc-inc-gpc1(0)
    http-request return status 200 content-type text/plain lf-string "t=%[sc_get_gpt(0,0)],%[sc_get_gpt(1,0)],%[sc_get_gpt(2,0)] c=%[sc_get_gpc(0,0)],%[sc_get_gpc(1,0)],%[sc_get_gpc(2,0)] r=%[sc_gpc_rate(0,0)],%[sc_gpc_rate(1,0)]\n"

frontend fe_mix
    bind 10.10.1.1:24003
    stick-table type ip size 1k expire 1m store gpc(2),gpc0_rate(10s)
    http-request track-sc0 src
    http-request sc-inc-gpc0(0)
    http-request sc-inc-gpc(1,0)
    http-request return status 200 content-type text/plain lf-string "gpc0=%[sc_get_gpc0(0)] gpc(0)=%[sc_get_gpc(0,0)] gpc0_rate=%[sc_gpc0_rate(0)] gpc_rate(0)=%[sc_gpc_rate(0,0)] conv=%[src,table_gpc(1,fe_mix)],%[src,table_gpc(2,fe_mix)],%[str(1.2.3.4),table_gpc(0,fe_mix)],%[src,table_gpt(0,fe_mix)] sc0=%[sc0_get_gpt0]\n"

frontend fe_set
    bind 10.10.1.1:24004
    stick-table type ip size 1k expire 1m store gpc(3),gpt(2),gpc_rate(2,10s),http_req_cnt
    http-request track-sc0 src
    http-request sc-inc-gpc(1,0)
    http-request sc-set-gpt(1,0) 7
    http-request sc-inc-gpc0(0)
    http-request return status 200 content-type text/plain lf-string "ok\n"

backend order
    stick-table type ip size 1k expire 1m store gpc_rate(2,10s),gpc(2),gpt(2),http_req_cnt,server_key,server_id
"""


TESTBED_CONFIG = config_file("stick-arrays", SECTIONS)


def get(port, *extra):
    p = subprocess.run(["ip", "netns", "exec", NS_CLIENT, "curl", "-s", "-m", "5", *extra,
                        f"http://{VIP}:{port}/"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout


def rows(table, *args):
    """`show table` with the references and expiry times blanked."""
    out = admin_cli(" ".join(["show table", table, *args]))
    return re.sub(r"^0x[0-9a-f]+: (key=\S+ use=\d+) exp=\d+", r"REF: \1 exp=X", out, flags=re.M)


def test_arrays_show_and_fetch(testbed):
    assert get(24000) == (
        "nosmp=[]\n"
        "a=1 b=1 c=7 d=1 e=7 f=1 f0=0\n"
        "oor: g= h= i= g2= h2= l= l2=\n"
        "ctr: j= k=\n"
        "legacy: m=0 m1=1 n=0 o=0 o2=0\n"
        "side: p=2 q=3 r=3 s=3 t=0 u=1 v=1 w=0 x=1 y= z=0\n")
    assert get(24000) == (
        "nosmp=[]\n"
        "a=1 b=5 c=7 d=1 e=7 f=5 f0=1\n"
        "oor: g= h= i= g2= h2= l= l2=\n"
        "ctr: j= k=\n"
        "legacy: m=1 m1=1 n=0 o=1 o2=1\n"
        "side: p=2 q=3 r=3 s=3 t=0 u=1 v=1 w=0 x=2 y= z=0\n")
    assert rows("fe") == (
        "# table: fe, type: ip, size:1024, used:1\n"
        "REF: key=10.10.1.2 use=0 exp=X http_req_cnt=2 gpt0=0 gpt1=7 gpc0=2 gpc1=0 gpc2=0 "
        "gpc0_rate(10000)=2 gpc1_rate(10000)=8\n\n")


def test_array_fetches_on_a_table_without_arrays(testbed):
    for _ in range(2):
        assert get(24001) == (
            "notstored: a= b= c= d= e= f= ic=0 cc=\n"
            "idx0 vs legacy: g0= t0= r0= legacy gpc0=0 gpt0=0 rate=0\n")
    assert rows("fe_noarr") == (
        "# table: fe_noarr, type: ip, size:1024, used:1\n"
        "REF: key=10.10.1.2 use=0 exp=X gpt0=0 gpc0=0 gpc0_rate(10000)=0 http_req_cnt=2\n\n")


def test_legacy_actions_fall_back_to_elements(testbed):
    assert get(24002) == "t=9,6,0 c=1,1,0 r=1,1\n"
    assert get(24002, "-H", "x: 42") == "t=9,42,0 c=2,2,0 r=2,2\n"
    assert rows("fe_legacy") == (
        "# table: fe_legacy, type: ip, size:1024, used:1\n"
        "REF: key=10.10.1.2 use=0 exp=X http_req_cnt=2 gpt0=9 gpt1=42 gpt2=0 gpc0=2 gpc1=2 "
        "gpc2=0 gpc0_rate(10000)=2 gpc1_rate(10000)=2 gpc2_rate(10000)=0\n\n")
    assert get(24003) == "gpc0=1 gpc(0)=1 gpc0_rate=1 gpc_rate(0)= conv=1,,0, sc0=\n"
    assert get(24003) == "gpc0=2 gpc(0)=2 gpc0_rate=2 gpc_rate(0)= conv=2,,0, sc0=\n"
    assert rows("fe_mix") == (
        "# table: fe_mix, type: ip, size:1024, used:1\n"
        "REF: key=10.10.1.2 use=0 exp=X gpc0_rate(10000)=2 gpc0=2 gpc1=2\n\n")


def test_set_table_and_filters_name_element_zero(testbed):
    for _ in range(3):
        assert get(24004) == "ok\n"
    head = "# table: fe_set, type: ip, size:1024, used:1\n"
    assert rows("fe_set") == head + (
        "REF: key=10.10.1.2 use=0 exp=X http_req_cnt=3 gpt0=0 gpt1=7 gpc0=3 gpc1=3 gpc2=0 "
        "gpc0_rate(10000)=3 gpc1_rate(10000)=3\n\n")
    assert admin_cli("set table fe_set key 10.10.1.2 data.gpc 5") == "\n"
    for cmd, answer in [("data.gpc(1) 5", "Unknown data type\n"),
                        ("data.gpc 1 5", "\"data.<type>\" followed by a value expected\n"),
                        ("data.gpc1 5", "Data type not stored in this table\n"),
                        ("data.gpc0 4", "Data type not stored in this table\n"),
                        ("data.gpt0 11", "Data type not stored in this table\n"),
                        ("data.gpt(1) 5", "Unknown data type\n")]:
        assert admin_cli(f"set table fe_set key 10.10.1.2 {cmd}") == answer + "\n", cmd
    assert admin_cli("set table fe_set key 10.10.1.2 data.gpc_rate 5") == "\n"
    assert admin_cli("set table fe_set key 10.10.1.2 data.http_req_cnt 42") == "\n"
    # `data.gpc 1 5` set gpc before it failed, as HAProxy's does.
    line = ("REF: key=10.10.1.2 use=0 exp=X http_req_cnt=42 gpt0=0 gpt1=7 gpc0=1 gpc1=3 gpc2=0 "
            "gpc0_rate(10000)=5 gpc1_rate(10000)=3\n\n")
    assert rows("fe_set") == head + line
    assert admin_cli("show table fe_set data.gpc(1) gt 0") == "Filter entry #1: Unknown data type\n\n"
    assert rows("fe_set", "data.gpc gt 0") == head + line
    assert rows("fe_set", "data.gpt eq 7") == head + "\n"
    assert admin_cli("show table fe_set data.gpt1 eq 7") == "Filter entry #1: Unknown data type\n\n"
    assert admin_cli("show table fe_set data.gpc0 gt 0") == (
        "Filter entry #1: Data type not stored in this table\n\n")
    assert rows("fe_set", "data.gpc_rate gt 0") == head + line
    assert admin_cli("set table fe_set key 10.10.1.3 data.gpc 8 data.gpt 3") == "\n"
    assert rows("fe_set", "data.gpt eq 3") == (
        "# table: fe_set, type: ip, size:1024, used:2\n"
        "REF: key=10.10.1.3 use=0 exp=X http_req_cnt=0 gpt0=3 gpt1=0 gpc0=8 gpc1=0 gpc2=0 "
        "gpc0_rate(10000)=0 gpc1_rate(10000)=0\n\n")
    assert admin_cli("clear table fe_set data.gpc gt 0") == "\n"
    assert rows("fe_set") == "# table: fe_set, type: ip, size:1024, used:0\n\n"


def test_type_order_with_arrays(testbed):
    assert admin_cli("set table order key 127.0.0.1 data.gpc 3") == "\n"
    assert rows("order") == (
        "# table: order, type: ip, size:1024, used:1\n"
        "REF: key=127.0.0.1 use=0 exp=X server_id=0 http_req_cnt=0 server_key=- gpt0=0 gpt1=0 "
        "gpc0=3 gpc1=0 gpc0_rate(10000)=0 gpc1_rate(10000)=0\n\n")
