#!/usr/bin/python3
"""Capture HAProxy 2.6 behaviour of sample fetches, converters and ACLs as a JSON corpus.

Writes rules_haproxy_cases.json next to this script (or to argv[1]); stdlib only, run with
/usr/bin/python3. Each case is one rule in a `mode http` frontend on 127.0.0.1:19100 selected by an
`X-Case: <index>` request header; invalid configs go through `haproxy -c -f`. See NOTES below.
"""
import json, os, re, socket, subprocess, sys, tempfile, time

PORT = 19100
FRONTEND = "fe"
FILES = {
    "ips.lst": "127.0.0.2\n192.168.0.0/16\n10.0.0.0/8\n2001:db8::/32\n",
    "hosts.lst": "foo.bar\nexample.com\n",
    "paths.lst": "/admin\n/a/\n",
    "geo.map": "10.0.0.0/8 PRIV\n10.1.0.0/16 TEN1\n10.1.2.0/24 TEN12\n127.0.0.0/8 LOOP\n"
               "192.168.1.1 HOST1\n2001:db8::/32 DOC6\n2001:db8:1::/48 DOC6A\n::1 LO6\n",
    "hosts.map": "# comment line\nexample.com site1\nwww.example.com site2\n\nfoo.bar   value with spaces\n",
    "paths.map": "/api api\n/api/v2 apiv2\n/static static\n",
    "dom.map": "example.com EX\nsub.example.com SUBEX\n",
    "end.map": ".com COM\n.example.com EXCOM\n",
    "reg.map": "^/api/v[0-9]+/ APIV\n\\.php$ PHP\n^/a/ SLASHA\n",
    "int.map": "0 zero\n1 one\n42 answer\n100:199 hundreds\n",
    "num.map": "example.com 10\nfoo.bar 20\n",
    "ipval.map": "example.com 10.0.0.1\nfoo.bar 192.168.1.10\nv6 2001:db8::5\n",
    "ipnum.map": "10.0.0.0/8 8\n10.1.0.0/16 16\n127.0.0.1 1\n",
    "intnum.map": "42 4200\n1:9 -9\n",
    "bad_int.map": "example.com notanint\n",
}
PRELUDE = ["option http-buffer-request",
           "http-request set-var(txn.x) str(hello)",
           "http-request set-var(txn.n) int(5)"]
NAMED_ACLS = [["is_get", "method GET"], ["is_admin", "path_beg /admin"],
              ["host_ex", "hdr(host) -i example.com"], ["multi", "path_beg /x"],
              ["multi", "path_beg /a"], ["never", "always_false"]]
BACKEND = ["backend be", "    server s1 127.0.0.1:19198", "    server s2 127.0.0.1:19199"]
DEF_HEADERS = [["Host", "ExAmple.COM"], ["User-Agent", "capture/1.0"], ["Cookie", "a=1; b=2"],
               ["X-Multi", "one"], ["X-Multi", "two, three"], ["X-List", "a, b, c"],
               ["X-Num", "42"], ["X-Ip", "10.1.2.3"]]

CASES = []


def req(target="/a/b?x=1&y=2", method="GET", version="HTTP/1.1", headers=None, add=(), body=None):
    h = [list(x) for x in (DEF_HEADERS if headers is None else headers)] + [list(x) for x in add]
    r = {"method": method, "target": target, "version": version, "headers": h}
    if body is not None:
        h.append(["Content-Length", str(len(body.encode()))])
        r["body"] = body
    return r


def E(name, expr, **kw): CASES.append({"name": name, "kind": "expr", "expr": expr, "request": req(**kw)})  # noqa: E704
def A(name, acl, **kw): CASES.append({"name": name, "kind": "acl", "acl": acl, "request": req(**kw)})  # noqa: E704
def C(name, cond, keyword="if", **kw): CASES.append(  # noqa: E704
    {"name": name, "kind": "cond", "cond": cond, "keyword": keyword, "request": req(**kw)})


POST = dict(method="POST", target="/submit", body="hello")
H10 = dict(version="HTTP/1.0", headers=[["X-Num", "7"]])
ABS = dict(target="http://www.example.org:8080/x/y?z=1", headers=[["Host", "www.example.org:8080"]])
# ---- fetches -----------------------------------------------------------------
E("src", "src"); E("src_port_bool", "src_port,bool"); E("dst", "dst"); E("dst_port", "dst_port")
E("fe_name", "fe_name"); E("fe_id", "fe_id")
E("method", "method"); E("method_custom", "method", method="PURGE"); E("method_post", "method", **POST)
E("path", "path"); E("pathq", "pathq"); E("url", "url"); E("query", "query")
E("query_absent", "query", target="/nq"); E("query_empty", "query", target="/p?")
E("path_abs_uri", "path", **ABS); E("url_abs_uri", "url", **ABS); E("pathq_abs_uri", "pathq", **ABS)
E("base_abs_uri", "base", **ABS); E("base", "base"); E("base_no_query", "base", target="/nq")
E("url_param_x", "url_param(x)"); E("url_param_y", "url_param(y)"); E("url_param_missing", "url_param(missing)")
E("url_param_repeated_first", "url_param(x)", target="/r?x=1&x=2"); E("url_param_empty", "url_param(e)", target="/r?e=&x=1")
E("url_param_no_value", "url_param(e)", target="/r?e&x=1"); E("urlp_alias", "urlp(y)")
E("url_param_semicolon_delim", "url_param(b,;)", target="/r?a=1;b=2")
E("hdr_host", "hdr(host)"); E("hdr_multi_default", "hdr(x-multi)"); E("hdr_multi_1", "hdr(x-multi,1)")
E("hdr_multi_2", "hdr(x-multi,2)"); E("hdr_multi_3", "hdr(x-multi,3)"); E("hdr_multi_4", "hdr(x-multi,4)")
E("hdr_multi_neg1", "hdr(x-multi,-1)"); E("hdr_multi_neg2", "hdr(x-multi,-2)"); E("hdr_cnt_multi", "hdr_cnt(x-multi)")
E("hdr_cnt_missing", "hdr_cnt(x-none)"); E("req_hdr_list", "req.hdr(x-list)"); E("req_hdr_list_1", "req.hdr(x-list,1)")
E("req_fhdr_list", "req.fhdr(x-list)"); E("req_fhdr_multi", "req.fhdr(x-multi)"); E("req_fhdr_multi_1", "req.fhdr(x-multi,1)")
E("req_fhdr_cnt_multi", "req.fhdr_cnt(x-multi)"); E("req_hdr_cnt_list", "req.hdr_cnt(x-list)")
E("req_hdr_missing", "req.hdr(x-none)"); E("req_hdr_empty_value", "req.hdr(x-empty)", add=[["X-Empty", ""]])
E("hdr_case_insensitive_name", "req.hdr(USER-AGENT)"); E("hdr_val_num", "hdr_val(x-num)")
E("hdr_val_non_numeric", "hdr_val(host)"); E("hdr_val_prefix_numeric", "hdr_val(x-n)", add=[["X-N", "12abc"]])
E("hdr_ip", "req.hdr_ip(x-ip)"); E("hdr_ip_invalid", "req.hdr_ip(host)")
E("cook_b", "req.cook(b)"); E("cook_a", "req.cook(a)"); E("cook_missing", "req.cook(c)")
E("cook_cnt_a", "req.cook_cnt(a)"); E("cook_val_b", "req.cook_val(b)"); E("cook_multiple_headers", "req.cook(b)",
  headers=[["Host", "h"], ["Cookie", "a=1; b=2"], ["Cookie", "b=3"]])
E("req_ver_11", "req.ver"); E("req_ver_10", "req.ver", **H10)
E("capture_req_method", "capture.req.method"); E("capture_req_uri", "capture.req.uri"); E("capture_req_ver", "capture.req.ver")
E("req_body", "req.body", **POST); E("req_body_len", "req.body_len", **POST); E("req_body_get_empty", "req.body_len")
E("int_42", "int(42)"); E("int_neg", "int(-7)"); E("str_abc", "str(abc)")
E("always_true", "always_true"); E("always_false", "always_false"); E("bool_true", "bool(1)")
E("ipv4", "ipv4(10.1.2.3)"); E("ipv6_loopback", "ipv6(::1)"); E("ipv6_doc", "ipv6(2001:DB8:0::1)")
E("nbsrv_be", "nbsrv(be)"); E("var_txn_x", "var(txn.x)"); E("var_txn_n", "var(txn.n)"); E("var_missing", "var(txn.missing)")
E("http_first_req", "http_first_req")
# ---- converters ----------------------------------------------------------------
E("lower_host", "req.hdr(host),lower"); E("upper_host", "req.hdr(host),upper"); E("length_str", "str(hello),length")
E("length_int", "int(12345),length"); E("length_empty", "req.hdr(x-empty),length", add=[["X-Empty", ""]])
E("bytes_1_3", "str(abcdef),bytes(1,3)"); E("bytes_2", "str(abcdef),bytes(2)"); E("bytes_past_end", "str(abc),bytes(5)")
E("bytes_len_overflow", "str(abcdef),bytes(4,10)")
E("word_2_slash", "path,word(2,/)"); E("word_1_slash", "path,word(1,/)"); E("word_neg1", "path,word(-1,/)")
E("word_out_of_range", "path,word(5,/)"); E("word_count", "str(a/b/c/d),word(2,/,2)")
E("field_2_slash", "path,field(2,/)"); E("field_1_slash", "path,field(1,/)"); E("field_neg1", "path,field(-1,/)")
E("field_count", "str(a/b/c/d),field(2,/,2)"); E("field_count_zero", "str(a/b/c/d),field(2,/,0)")
E("field_multi_delims", "str(a.b-c),field(2,.-)")
E("regsub_global", "str(aXbXa),regsub(a,b,g)"); E("regsub_first", "str(aXbXa),regsub(a,b)")
E("regsub_icase_global", "str(AxaX),regsub(a,z,ig)"); E("regsub_nomatch", "str(xyz),regsub(a,b,g)")
E("regsub_empty_repl", "str(a-b-c),regsub(-,,g)")
E("hex_str", "str(abc),hex"); E("hex_int", "int(255),hex"); E("base64", "str(hello),base64")
E("b64dec", "str(aGVsbG8=),b64dec"); E("hex2i", "str(ff),hex2i"); E("ipmask_24", "ipv4(10.1.2.3),ipmask(24)")
E("ipmask_src_8", "src,ipmask(8)"); E("ipmask_dotted", "ipv4(10.1.2.3),ipmask(255.255.0.0)")
E("ipmask_v6_64", "ipv6(2001:db8:1:2:3::1),ipmask(24,64)"); E("ipmask_v6_noarg", "ipv6(2001:db8:1:2:3::1),ipmask(24)")
E("ipmask_hdr_str", "req.hdr(x-ip),ipmask(16)")
E("json_quote", "req.hdr(x-j),json", add=[["X-J", 'a"b\\c/d']]); E("json_utf8s", "req.hdr(x-j),json(utf8s)", add=[["X-J", "caf\u00e9"]])
E("json_ascii", "req.hdr(x-j),json(ascii)", add=[["X-J", "caf\u00e9"]])
E("url_dec", "req.hdr(x-e),url_dec", add=[["X-E", "a%20b%2Fc+d"]]); E("url_dec_form", "req.hdr(x-e),url_dec(1)", add=[["X-E", "a%20b+c"]])
E("url_dec_bad", "req.hdr(x-e),url_dec", add=[["X-E", "a%zz"]]); E("url_enc", "req.hdr(x-e),url_enc(query)", add=[["X-E", "a b&c/d"]])
E("url_dec_ctrl_chars", "req.hdr(x-e),url_dec", add=[["X-E", "a%0Ab%09c%01d%7F%25"]])
E("url_dec_ctrl_chars_hex", "req.hdr(x-e),url_dec,hex", add=[["X-E", "a%0Ab%09c%01d%7F%25"]])
E("url_dec_all_bytes", "req.hdr(x-e),url_dec", add=[["X-E", "".join("%%%02X" % b for b in range(1, 256))]])
E("raw_percent_in_value", "req.hdr(x-e)", add=[["X-E", "100% a%41"]]); E("sha1_raw_binary", "str(hello),sha1")
E("ipmask_on_nonip_str", "str(a),ipmask(24)")
E("concat_var", "str(a),concat(-,txn.x,-)"); E("concat_missing_var", "str(a),concat(-,txn.missing,-)")
E("concat_prefix_only", "str(a),concat(<)")
E("add_3", "int(10),add(3)"); E("sub_3", "int(10),sub(3)"); E("mul_3", "int(10),mul(3)"); E("div_3", "int(10),div(3)")
E("div_0", "int(10),div(0)"); E("div_neg", "int(-7),div(2)"); E("mod_3", "int(10),mod(3)"); E("mod_0", "int(10),mod(0)")
E("mod_neg", "int(-7),mod(3)"); E("and_6", "int(10),and(6)"); E("or_1", "int(10),or(1)"); E("xor_3", "int(10),xor(3)")
E("neg", "int(10),neg"); E("neg_neg", "int(-10),neg"); E("cpl", "int(0),cpl"); E("not_0", "int(0),not"); E("not_5", "int(5),not")
E("bool_5", "int(5),bool"); E("odd", "int(5),odd"); E("even", "int(5),even"); E("add_var", "int(10),add(txn.n)")
E("str_to_int_add", "str(12),add(1)"); E("str_nonnum_add", "str(abc),add(1)"); E("str_prefixnum_add", "str(12abc),add(1)")
E("str_neg_add", "str(-5),add(1)"); E("hdr_to_int_mul", "req.hdr(x-num),mul(2)"); E("add_overflow", "int(9223372036854775807),add(1)")
E("int_to_ip", "int(167772161),ipmask(32)")
E("crc32", "str(hello),crc32"); E("djb2", "str(hello),djb2"); E("sha1_hex", "str(hello),sha1,hex"); E("ltrim", "str(xxabx),ltrim(x)")
E("rtrim", "str(xxabx),rtrim(x)"); E("lower_upper_chain", "str(Hello),lower,upper"); E("host_only", "req.hdr(host),host_only",
  headers=[["Host", "example.com:8080"]]); E("port_only", "req.hdr(host),port_only", headers=[["Host", "example.com:8080"]])
# ---- maps --------------------------------------------------------------------------
E("map_str_hit_lower", "req.hdr(host),lower,map(FILE:hosts.map)"); E("map_case_sensitive_miss", "req.hdr(host),map(FILE:hosts.map,none)")
E("map_miss_no_default", "req.hdr(host),map(FILE:hosts.map)"); E("map_str_explicit", "str(www.example.com),map_str(FILE:hosts.map)")
E("map_value_with_spaces", "str(foo.bar),map_str(FILE:hosts.map)"); E("map_comment_not_key", "req.hdr(x-k),map_str(FILE:hosts.map,none)", add=[["X-K", "#"]])
E("map_beg_first_in_file", "path,map_beg(FILE:paths.map,none)", target="/api/v2/x"); E("map_beg_static", "path,map_beg(FILE:paths.map,none)", target="/static/a.css")
E("map_beg_miss", "path,map_beg(FILE:paths.map,none)"); E("map_sub", "path,map_sub(FILE:paths.map,none)", target="/x/static/y")
E("map_dir", "path,map_dir(FILE:paths.map,none)", target="/x/api/y"); E("map_dir_partial_miss", "path,map_dir(FILE:paths.map,none)", target="/apix/y")
E("map_dom_first", "str(a.sub.example.com),map_dom(FILE:dom.map,none)"); E("map_dom_exact", "str(example.com),map_dom(FILE:dom.map,none)")
E("map_dom_miss", "str(notexample.com),map_dom(FILE:dom.map,none)")
E("map_end_first", "str(www.example.com),map_end(FILE:end.map,none)"); E("map_end_miss", "str(example.org),map_end(FILE:end.map,none)")
E("map_reg", "path,map_reg(FILE:reg.map,none)", target="/api/v12/x"); E("map_reg_php", "path,map_reg(FILE:reg.map,none)", target="/x/index.php")
E("map_reg_order", "path,map_reg(FILE:reg.map,none)"); E("map_int_hit", "int(42),map_int(FILE:int.map,none)")
E("map_int_range", "int(150),map_int(FILE:int.map,none)"); E("map_int_zero", "int(0),map_int(FILE:int.map,none)")
E("map_int_miss", "int(7),map_int(FILE:int.map,none)"); E("map_int_from_str", "req.hdr(x-num),map_int(FILE:int.map,none)")
E("map_ip_src", "src,map_ip(FILE:geo.map,ZZ)"); E("map_ip_most_specific", "ipv4(10.1.2.3),map_ip(FILE:geo.map,ZZ)")
E("map_ip_mid", "ipv4(10.1.9.9),map_ip(FILE:geo.map,ZZ)"); E("map_ip_wide", "ipv4(10.9.9.9),map_ip(FILE:geo.map,ZZ)")
E("map_ip_host", "ipv4(192.168.1.1),map_ip(FILE:geo.map,ZZ)"); E("map_ip_miss_default", "ipv4(8.8.8.8),map_ip(FILE:geo.map,ZZ)")
E("map_ip_miss_no_default", "ipv4(8.8.8.8),map_ip(FILE:geo.map)"); E("map_ip_v6_specific", "ipv6(2001:db8:1::5),map_ip(FILE:geo.map,ZZ)")
E("map_ip_v6_wide", "ipv6(2001:db8:2::1),map_ip(FILE:geo.map,ZZ)"); E("map_ip_v6_host", "ipv6(::1),map_ip(FILE:geo.map,ZZ)")
E("map_ip_v4mapped", "ipv6(::ffff:10.1.2.3),map_ip(FILE:geo.map,ZZ)"); E("map_ip_from_hdr", "req.hdr(x-ip),map_ip(FILE:geo.map,ZZ)")
E("map_ip_from_bad_str", "req.hdr(host),map_ip(FILE:geo.map,ZZ)")
E("map_str_int", "str(example.com),map_str_int(FILE:num.map,0)"); E("map_str_int_add", "str(foo.bar),map_str_int(FILE:num.map,0),add(1)")
E("map_str_int_default", "str(nope),map_str_int(FILE:num.map,-1)"); E("map_str_int_miss", "str(nope),map_str_int(FILE:num.map)")
E("map_str_ip", "str(example.com),map_str_ip(FILE:ipval.map)");
E("map_str_ip_v6", "str(v6),map_str_ip(FILE:ipval.map)"); E("map_str_ip_default", "str(nope),map_str_ip(FILE:ipval.map,1.2.3.4)")
E("map_ip_int", "ipv4(10.1.2.3),map_ip_int(FILE:ipnum.map,0)"); E("map_ip_int_src", "src,map_ip_int(FILE:ipnum.map,0),mul(10)")
E("map_ip_int_miss_default", "ipv4(9.9.9.9),map_ip_int(FILE:ipnum.map,-1)")
E("map_int_int", "int(42),map_int_int(FILE:intnum.map,3)"); E("map_int_int_range", "int(5),map_int_int(FILE:intnum.map,3)")
E("map_int_int_miss", "int(50),map_int_int(FILE:intnum.map,3)")
# ---- ACLs ------------------------------------------------------------------------
for m, pos, neg, ipos, ineg in [
        ("str", "hdr(host) -m str ExAmple.COM", "hdr(host) -m str example.com", "hdr(host) -i -m str example.com", "hdr(host) -m str -i other.com"),
        ("beg", "path -m beg /a", "path -m beg /b", "path -i -m beg /A", "path -m beg /A"),
        ("end", "path -m end /b", "path -m end /a", "path -m end -i /B", "path -m end /B"),
        ("sub", "path -m sub a/", "path -m sub zz", "path -i -m sub A/", "path -m sub A/"),
        ("dir", "path -m dir a", "path -m dir x", "path -i -m dir A", "path -m dir A"),
        ("dom", "hdr(host) -m dom COM", "hdr(host) -m dom ample.COM", "hdr(host) -i -m dom example.com", "hdr(host) -m dom example.com"),
        ("reg", "path -m reg ^/a/", "path -m reg ^/b", "path -i -m reg ^/A/", "path -m reg ^/A/"),
        ("len", "path -m len 4", "path -m len 5", "hdr(host) -i -m len 11", "hdr(host) -m len 10")]:
    A(f"m_{m}_pos", pos); A(f"m_{m}_neg", neg); A(f"m_{m}_i_pos", ipos); A(f"m_{m}_{'i' if 'i' in ineg.split() else 'noi'}_neg", ineg)
A("m_dir_multi_seg", "path -m dir a/b"); A("m_dir_second", "path -m dir b"); A("m_dom_exact", "hdr(host) -i -m dom example.com", headers=[["Host", "example.com"]])
A("m_dom_leftlabel", "hdr(host) -i -m dom example", )
A("m_ip_src_net", "src -m ip 127.0.0.0/8"); A("m_ip_src_neg", "src -m ip 10.0.0.0/8"); A("m_ip_src_host", "src 127.0.0.1/32")
A("m_ip_hdr_str", "hdr(x-ip) -m ip 10.1.0.0/16"); A("m_ip_hdr_str_neg", "hdr(x-ip) -m ip 10.2.0.0/16")
A("m_ip_src_v6mapped_pattern", "src ::ffff:127.0.0.1"); A("m_ip_src_v6_pattern_neg", "src ::1")
A("m_ip_file_src_neg", "src -f FILE:ips.lst"); A("m_ip_file_hdr_pos", "req.hdr_ip(x-ip) -f FILE:ips.lst")
A("m_ip_file_plus_inline", "src -f FILE:ips.lst 127.0.0.1"); A("m_ip_dotted_mask", "src 127.0.0.0/255.0.0.0")
A("m_int_pos", "hdr_val(x-num) -m int 42"); A("m_int_neg", "hdr_val(x-num) -m int 41"); A("m_int_multi", "hdr_val(x-num) 1 2 42")
A("m_int_from_str", "hdr(x-num) -m int 42"); A("m_int_from_nonnum_str", "hdr(host) -m int 0")
for op, v in [("eq", 42), ("eq", 41), ("ge", 42), ("ge", 43), ("gt", 41), ("gt", 42), ("le", 42), ("le", 41), ("lt", 43), ("lt", 42)]:
    A(f"int_{op}_{v}", f"hdr_val(x-num) {op} {v}")
A("int_range_in", "hdr_val(x-num) 10:50"); A("int_range_out", "hdr_val(x-num) 43:100"); A("int_range_edge", "hdr_val(x-num) 42:42")
A("int_range_open_hi", "hdr_val(x-num) 40:"); A("int_range_open_lo", "hdr_val(x-num) :41"); A("int_negative", "int(-3) -- -3")
A("m_len_ge", "path -m len ge 4"); A("m_len_lt", "path -m len lt 4"); A("path_len_shortcut", "path_len 4")
A("m_found_pos", "hdr(x-num) -m found"); A("m_found_neg", "hdr(x-none) -m found"); A("m_found_urlp", "url_param(x) -m found")
A("m_found_empty_hdr", "req.hdr(x-empty) -m found", add=[["X-Empty", ""]]); A("m_found_always_false", "always_false -m found")
A("m_bool_pos", "hdr_val(x-num) -m bool"); A("m_bool_neg", "int(0) -m bool"); A("m_bool_always_true", "always_true")
A("m_bool_always_false", "always_false"); A("m_bool_found_int", "hdr_val(x-none) -m bool")
A("multi_values_any", "hdr(host) -i foo.com example.com"); A("multi_values_none", "path /nope /x")
A("file_hosts_i", "hdr(host) -i -f FILE:hosts.lst"); A("file_hosts_case", "hdr(host) -f FILE:hosts.lst")
A("file_paths_beg", "path_beg -f FILE:paths.lst"); A("file_paths_beg_neg", "path_beg -f FILE:paths.lst", target="/b/a")
A("double_dash", "url_param(d) -m str -- -i", target="/r?d=-i"); A("str_default_path", "path /a/b")
A("path_beg_pos", "path_beg /a"); A("path_beg_neg", "path_beg /admin"); A("path_end_pos", "path_end /b")
A("path_end_neg", "path_end /a"); A("path_reg_pos", "path_reg ^/a/b$"); A("path_reg_neg", "path_reg ^/a$")
A("path_sub_pos", "path_sub /b"); A("path_sub_neg", "path_sub /c"); A("path_dir_pos", "path_dir b"); A("path_dir_neg", "path_dir c")
A("path_dom_pos", "path_dom a"); A("path_dom_neg", "path_dom /a"); A("path_dom_dotted", "path_dom example.com", target="/x/www.example.com/y")
A("hdr_sub_host", "hdr_sub(host) Ample"); A("hdr_sub_host_neg", "hdr_sub(host) AMPLE"); A("hdr_sub_host_i", "hdr_sub(host) -i AMPLE")
A("hdr_beg_pos", "hdr_beg(host) ExA"); A("hdr_beg_neg", "hdr_beg(host) exa"); A("hdr_beg_i", "hdr_beg(host) -i exa")
A("hdr_end_pos", "hdr_end(host) .COM"); A("hdr_end_neg", "hdr_end(host) .com"); A("hdr_reg_pos", "hdr_reg(host) ^Ex.*M$")
A("hdr_reg_neg", "hdr_reg(host) ^ex"); A("hdr_dom_pos", "hdr_dom(host) -i example.com"); A("hdr_dom_neg", "hdr_dom(host) -i ample.com")
A("hdr_cnt_eq3", "hdr_cnt(x-multi) eq 3"); A("hdr_cnt_gt3", "hdr_cnt(x-multi) gt 3"); A("hdr_cnt_missing_eq0", "hdr_cnt(x-none) 0")
A("hdr_val_gt", "hdr_val(x-num) gt 40"); A("hdr_val_lt", "hdr_val(x-num) lt 40"); A("hdr_any_occurrence", "hdr(x-multi) two")
A("hdr_any_occurrence_first", "hdr(x-multi) one"); A("hdr_occurrence_explicit", "hdr(x-multi,1) two"); A("hdr_list_elem", "hdr(x-list) b")
A("fhdr_list_elem_neg", "req.fhdr(x-list) b"); A("fhdr_full_value", "req.fhdr(x-list) -m str a,\\ b,\\ c")
A("hdr_missing_str", "hdr(x-none) foo")
A("url_param_pos", "url_param(x) 1"); A("url_param_neg", "url_param(x) 2"); A("urlp_int", "urlp(y) -m int 2")
A("url_beg", "url_beg /a/b?"); A("url_sub", "url_sub x=1&"); A("query_sub", "query -m sub y=2"); A("base_beg", "base_beg ExAmple.COM/a")
A("src_pos", "src 127.0.0.1"); A("src_neg", "src 127.0.0.2"); A("src_multi", "src 10.0.0.1 127.0.0.1")
A("method_get", "method GET"); A("method_post_neg", "method POST"); A("method_lower", "method get"); A("method_i", "method -i get"); A("acl_method_custom", "method PURGE", method="PURGE")
A("acl_method_custom_i", "method -i purge", method="PURGE"); A("m_bool_with_pattern", "always_true -m bool yes")
A("req_ver_pos", "req.ver 1.1"); A("req_ver_neg", "req.ver 1.0"); A("req_ver_http10", "req_ver 1.0", **H10)
A("cook_pos", "cook(a) 1"); A("cook_int", "req.cook(b) -m int gt 1"); A("cook_missing_neg", "cook(z) -m found")
A("var_str", "var(txn.x) -m str hello"); A("var_int", "var(txn.n) -m int 5"); A("nbsrv_eq2", "nbsrv(be) eq 2")
A("dst_port_pos", f"dst_port {PORT}"); A("dst_port_neg", "dst_port 80"); A("dst_pos", "dst 127.0.0.1"); A("fe_name_pos", f"fe_name {FRONTEND}")
A("conv_in_acl", "hdr(host),lower -m str example.com"); A("map_in_acl", "src,map_ip(FILE:geo.map) -m str LOOP")
# ---- predefined ACLs and conditions --------------------------------------------------
for p in ["TRUE", "FALSE", "LOCALHOST", "HTTP", "HTTP_1.0", "HTTP_1.1", "METH_GET", "METH_POST", "METH_HEAD",
          "METH_OPTIONS", "HTTP_URL_SLASH", "HTTP_URL_ABS", "HTTP_URL_STAR", "HTTP_CONTENT", "REQ_CONTENT"]:
    C("pre_" + p, p)
C("pre_HTTP_1.0_req10", "HTTP_1.0", **H10); C("pre_HTTP_1.1_req10", "HTTP_1.1", **H10)
C("pre_METH_GET_head", "METH_GET", method="HEAD"); C("pre_METH_POST_post", "METH_POST", **POST)
C("pre_HTTP_CONTENT_post", "HTTP_CONTENT", **POST); C("pre_REQ_CONTENT_post", "REQ_CONTENT", **POST)
C("pre_HTTP_URL_SLASH_abs", "HTTP_URL_SLASH", **ABS); C("pre_HTTP_URL_ABS_abs", "HTTP_URL_ABS", **ABS)
C("pre_HTTP_URL_STAR_opt", "HTTP_URL_STAR", method="OPTIONS", target="*"); C("pre_METH_OPTIONS_opt", "METH_OPTIONS", method="OPTIONS", target="*")
C("named", "is_get"); C("named_not", "!is_get"); C("named_not_space", "! is_get"); C("and_true", "is_get host_ex")
C("and_false", "is_get is_admin"); C("or_true", "is_admin || host_ex"); C("or_false", "is_admin || !host_ex")
C("not_not", "!is_admin !never"); C("named_declared_twice", "multi"); C("named_plus_anon", "is_get { path_end /b }")
C("anon_not", "!{ path_end /b }"); C("precedence_or_and", "is_admin || is_get host_ex")
C("precedence_and_or", "host_ex is_admin || is_get"); C("or_all_false", "never || is_admin"); C("admin_path", "is_admin", target="/admin/x")
C("unless_false_cond", "is_admin", keyword="unless"); C("unless_true_cond", "is_get", keyword="unless")
C("unless_or", "is_admin || never", keyword="unless"); C("unless_and", "is_get host_ex", keyword="unless")
C("unless_not", "!is_get", keyword="unless")

# ---- invalid configurations ----------------------------------------------------------------
ERRORS = [
    ("unknown_fetch", "http-request set-var(txn.a) nosuchfetch"),
    ("unknown_fetch_lf", 'http-request return status 200 content-type text/plain lf-string "%[nosuchfetch]"'),
    ("unknown_converter", "http-request set-var(txn.a) str(a),nosuchconv"), ("bad_acl_flag", "acl a path -z /x"),
    ("unknown_acl_in_condition", "http-request deny if nosuchacl"), ("unknown_acl_keyword", "acl a nosuchkw foo"),
    ("missing_pattern_file", "acl a path -f FILE:missing.lst"),
    ("missing_map_file", "http-request set-var(txn.a) str(a),map(FILE:missing.map)"),
    ("bad_integer_gt", "acl a hdr_val(x) gt x"), ("bad_integer_plain", "acl a hdr_val(x) 12abc"),
    ("bad_ip_pattern", "acl a src 300.1.1.1"), ("bad_ip_mask", "acl a src 10.0.0.0/33"),
    ("converter_arg_type", "http-request set-var(txn.a) str(a),bytes(x)"),
    ("unknown_match_method", "acl a path -m nosuch /x"),
    ("converter_missing_arg", "http-request set-var(txn.a) str(a),word(1)"),
    ("converter_too_many_args", "http-request set-var(txn.a) str(a),bytes(1,2,3)"),
    ("fetch_missing_arg", "http-request set-var(txn.a) int"),
    ("fetch_bad_arg", "http-request set-var(txn.a) int(abc)"), ("bad_regex", "acl a path_reg (unclosed"),
    ("unclosed_anon_acl", "http-request deny if { path /x"),
    ("map_int_bad_value", "http-request set-var(txn.a) str(a),map_str_int(FILE:bad_int.map)"),
    ("converter_type_mismatch", "http-request set-var(txn.a) str(a),sha1,ipmask(24)"),
    ("int_range_reversed", "acl a hdr_val(x) 20:10"),
    ("bad_json_arg", "http-request set-var(txn.a) str(a),json(nosuch)"),
    ("int_pattern_on_str_match", "acl a path -m int abc"),
    ("be_name_in_frontend", 'http-request return status 200 content-type text/plain lf-string "%[be_name]"'),
    ("map_ip_output_to_ipmask", "http-request set-var(txn.a) str(a),map_str_ip(FILE:ipval.map),ipmask(24)"),
    ("negative_int_pattern_without_dashdash", "acl a int(-3) -3"), ("var_without_match_method", "acl a var(txn.n) 5"),
    ("bool_with_pattern", "acl a always_true -m bool yes"),
]


def subst(s, d):
    return re.sub(r"FILE:([\w.-]+)", lambda m: os.path.join(d, m.group(1)), s)


def base_cfg():
    return ["global", "    maxconn 200", "defaults", "    mode http", "    timeout connect 2s",
            "    timeout client 5s", "    timeout server 5s", "", f"frontend {FRONTEND}",
            f"    bind 127.0.0.1:{PORT}"]


def build_cfg(d):
    L = base_cfg() + ["    acl %s %s" % (n, subst(a, d)) for n, a in NAMED_ACLS] + ["    " + p for p in PRELUDE]
    ret = "    http-request return status 200 content-type text/plain "
    for i, c in enumerate(CASES):
        sel = "{ hdr(x-case) -m str %d }" % i
        if c["kind"] == "expr":
            e = subst(c["expr"], d)
            L.append(f'{ret}lf-string "%[{e}]" hdr x-found 1 if {sel} {{ {e} -m found }}')
            L.append(f'{ret}lf-string "%[{e}]" if {sel}')
            continue
        if c["kind"] == "acl":
            L.append(f'{ret}string "yes" hdr x-answer yes if {sel} {{ {subst(c["acl"], d)} }}')
        elif c["keyword"] == "if":  # `||` binds weaker than AND: repeat the selector in each term
            L.append(f'{ret}string "yes" hdr x-answer yes if ' + " || ".join(f"{sel} {t}" for t in c["cond"].split(" || ")))
        else:  # unless (!SEL || COND) == SEL && !COND
            L.append(f'{ret}string "yes" hdr x-answer yes unless !{sel} || {c["cond"]}')
        L.append(f'{ret}string "no" hdr x-answer no if {sel}')
    return "\n".join(L + [""] + BACKEND) + "\n"


def raw_request(r):
    head = f'{r["method"]} {r["target"]} {r["version"]}\r\n'
    head += "".join(f"{k}: {v}\r\n" for k, v in r["headers"]) + "\r\n"
    return (head + r.get("body", "")).encode("utf-8")


def exchange(data, head_only=False):
    with socket.create_connection(("127.0.0.1", PORT), timeout=5) as s:
        s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = 0 if head_only else int(hdrs.get("content-length", "-1"))
        while n < 0 or len(body) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, hdrs, body


def run_cases(d):
    cfg = os.path.join(d, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(build_cfg(d))
    proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if proc.poll() is not None:
                sys.exit("haproxy failed to start:\n" + proc.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        for i, c in enumerate(CASES):
            c["request"]["headers"].append(["X-Case", str(i)])
            status, hdrs, body = exchange(raw_request(c["request"]), c["request"]["method"] == "HEAD")
            if status != 200:
                c["status"], c["result"] = status, None
                continue
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, c["result_hex"] = None, body.hex()
            if c["kind"] == "expr":
                c["result"], c["found"] = text, hdrs.get("x-found") == "1"
            else:
                assert hdrs.get("x-answer") in ("yes", "no"), (c, text)
                c["result"] = hdrs["x-answer"] == "yes"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_errors(d):
    out = []
    for name, line in ERRORS:
        cfg = os.path.join(d, "err.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(base_cfg() + ["    " + subst(line, d)]) + "\n")
        p = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True, text=True)

        def norm(s):
            s = s.replace(cfg, "CFG")
            s = re.sub(re.escape(d) + r"/([\w.-]+)", r"FILE:\1", s)
            return re.sub(r"^(\[\w+\]\s+)\(\d+\)", r"\1(PID)", s)
        lines = [norm(x.rstrip()) for x in p.stderr.splitlines()]
        out.append({"name": name, "line": line, "exit_code": p.returncode,
                    "config_line_number": len(base_cfg()) + 1,
                    "stderr": "\n".join(x for x in lines if x.startswith("[ALERT]")),
                    "warnings": "\n".join(x for x in lines if x.startswith("[WARNING]"))})
    return out


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                   "rules_haproxy_cases.json")
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    version = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    with tempfile.TemporaryDirectory(prefix="capture-rules-") as d:
        for name, text in FILES.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        run_cases(d)
        errors = run_errors(d)
    doc = {"haproxy_version": version, "src": "127.0.0.1", "dst": "127.0.0.1", "dst_port": PORT,
           "frontend": FRONTEND, "backend": {"name": "be", "servers": BACKEND[1:]},
           "frontend_prelude": PRELUDE, "named_acls": NAMED_ACLS, "files": FILES, "notes": NOTES,
           "cases": CASES, "errors": errors}
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out_path}: {len(CASES)} cases, {len(errors)} errors")


NOTES = " ".join([
    "Every request carries a trailing 'X-Case: <index>' header (recorded in request.headers) that selects its rule;",
    "the frontend runs frontend_prelude first (option http-buffer-request, txn.x='hello', txn.n=5).",
    "expr cases: result is the body of `http-request return ... lf-string \"%[EXPR]\"`; found says whether",
    "`{ EXPR -m found }` matched. In HAProxy 2.6 lf-string prints NOTHING (empty body) for a missing sample,",
    "not '-', and also an empty body for an empty string: only `found` tells them apart.",
    "lf-string escapes bytes 0x01-0x08, 0x0A-0x1F and 0x7F as %XX (upper-case hex); TAB, '%' and bytes >= 0x80",
    "are emitted raw (see url_dec_all_bytes). Booleans print 1/0, IPv6 in compressed lower-case form.",
    "If the body is not valid UTF-8, result is null and result_hex holds the body bytes.",
    "acl cases: result is whether `if SEL { ACL }` fired. cond cases: keyword 'if' -> whether `if COND` fired",
    "(named ACLs from named_acls; a name declared twice ORs its lines); keyword 'unless' -> whether",
    "`unless COND` fires, i.e. the negation of COND. A non-200 answer would be recorded as status with result null.",
    "FILE:<name> refers to files[name]. errors: `haproxy -c -f CFG` with the bad line at config_line_number;",
    "the config path is replaced by CFG, temp files by FILE:<name>, pids by (PID)."])

if __name__ == "__main__":
    main()
