#!/usr/bin/python3
"""Sends each case of h1_cases.json to sluice and records what happened, run in sl-client.

    h1_corpus_client.py CASES.json RECORD_DIR HOST

For each case: the bytes go to the frontend of the case's configuration; the reply is read
until the connection closes or stays idle; what the recording backend received meanwhile is
read from RECORD_DIR (the new bytes of each connection's file). Prints one JSON list."""

import glob
import json
import os
import re
import socket
import sys
import time

PORTS = {
    "base": 8080,
    "base + option accept-invalid-http-request": 8082,
    "base + option forwardfor": 8083,
    "base + option forwardfor if-none": 8084,
}


def sizes(d):
    return {f: os.path.getsize(f) for f in glob.glob(os.path.join(d, "*.bin"))}


def new_bytes(d, before):
    out = b""
    files = sorted(glob.glob(os.path.join(d, "*.bin")),
                   key=lambda f: int(os.path.basename(f)[:-4]))
    for f in files:
        with open(f, "rb") as fh:
            fh.seek(before.get(f, 0))
            out += fh.read()
    return out


def run_case(case, host, record):
    port = PORTS[case["config"]]
    before = sizes(record)
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(case["request"].encode("latin-1"))
    # A 408 or a silent wait needs the request timeout (2 s) to pass.
    idle = 3.0 if case["status"] in (0, 408) else 0.4
    s.settimeout(idle)
    reply = b""
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            reply += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    time.sleep(0.05)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    saw = new_bytes(record, before)
    return {"name": case["name"], "status": int(m.group(1)) if m else 0,
            "forwarded": bool(saw), "backend_saw": saw.decode("latin-1"),
            "client_saw": reply.decode("latin-1"), "client_closed": closed}


def main():
    cases = [c for c in json.load(open(sys.argv[1])) if c["config"] in PORTS]
    record, host = sys.argv[2], sys.argv[3]
    print(json.dumps([run_case(c, host, record) for c in cases]))


if __name__ == "__main__":
    main()
