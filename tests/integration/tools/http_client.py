#!/usr/bin/python3
"""HTTP clients for the HTTP-mode tests, run in sl-client. Each prints one JSON line.

    http_client.py keepalive HOST PORT N PATH     N requests on one connection (http.client)
    http_client.py pipeline HOST PORT N           N GETs of /size/K written at once, answers read
    http_client.py upload HOST PORT BYTES chunked|length   POST /sha, the body's sha256 back
    http_client.py download HOST PORT PATH        GET PATH, sha256 and length of the body
    http_client.py raw HOST PORT HEX              sends bytes, reads until close or 3 s idle
    http_client.py ws HOST PORT BYTES             GET /ws upgrade, then echo BYTES through it
    http_client.py many HOST PORT CONNS REQUESTS  REQUESTS on each of CONNS keep-alive
                                                  connections at once (asyncio), every answer
                                                  checked (status, length, body)
"""

import hashlib
import http.client
import json
import socket
import sys
import time


def pattern(n):
    block = bytes(i % 251 for i in range(251)) * 1024
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


def keepalive(host, port, n, path):
    c = http.client.HTTPConnection(host, port, timeout=10)
    statuses, servers, bodies = [], {}, set()
    paths = path.split(",")  # one per request in turn
    for i in range(n):
        c.request("GET", paths[i % len(paths)])
        r = c.getresponse()
        body = r.read()
        statuses.append(r.status)
        s = r.getheader("X-Server")
        servers[s] = servers.get(s, 0) + 1
        bodies.add(hashlib.sha256(body).hexdigest())
    c.close()
    return {"statuses": sorted(set(statuses)), "count": len(statuses), "servers": servers,
            "bodies": len(bodies)}


def read_response(f):
    line = f.readline()
    status = int(line.split()[1])
    length = None
    chunked = False
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
        if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
    body = b""
    if chunked:
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += f.read(size)
            f.readline()
    elif length is not None:
        body = f.read(length)
    return status, body


def pipeline(host, port, n):
    s = socket.create_connection((host, port), timeout=10)
    reqs = b"".join(f"GET /size/{100 + i} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
                    for i in range(n))
    s.sendall(reqs)
    f = s.makefile("rb")
    lengths = []
    for _ in range(n):
        status, body = read_response(f)
        assert status == 200, status
        lengths.append(len(body))
    s.close()
    return {"lengths": lengths}


def upload(host, port, size, how):
    data = pattern(size)
    c = http.client.HTTPConnection(host, port, timeout=60)
    t0 = time.monotonic()
    if how == "chunked":
        def gen():
            for i in range(0, size, 1 << 16):
                yield data[i:i + (1 << 16)]
        c.request("POST", "/sha", body=gen(), encode_chunked=True,
                  headers={"Transfer-Encoding": "chunked"})
    else:
        c.request("POST", "/sha", body=data)
    r = c.getresponse()
    body = r.read().decode()
    secs = time.monotonic() - t0
    return {"status": r.status, "answer": body, "sha": hashlib.sha256(data).hexdigest(),
            "seconds": secs}


def download(host, port, path):
    c = http.client.HTTPConnection(host, port, timeout=60)
    t0 = time.monotonic()
    c.request("GET", path)
    r = c.getresponse()
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    secs = time.monotonic() - t0
    return {"status": r.status, "sha": h.hexdigest(), "bytes": n, "seconds": secs,
            "expected": hashlib.sha256(pattern(n)).hexdigest()}


def raw(host, port, data_hex):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(bytes.fromhex(data_hex))
    s.settimeout(3)
    out = b""
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except socket.timeout:
        pass
    s.close()
    return {"reply": out.decode("latin-1"), "closed": closed}


def ws(host, port, size, path="/ws"):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n".encode() +
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    f = s.makefile("rb")
    status = int(f.readline().split()[1])
    while f.readline() not in (b"\r\n", b""):
        pass
    data = pattern(size)
    got = b""
    s.sendall(data)
    while len(got) < size:
        d = f.read1(65536)
        if not d:
            break
        got += d
    s.close()
    return {"status": status, "echoed": got == data}


def many(host, port, conns, requests):
    import asyncio

    async def one(idx):
        reader, writer = await asyncio.open_connection(host, port)
        ok = bad = 0
        for i in range(requests):
            n = 64 + (idx * 7 + i) % 200  # a different size each time: answers can't mix up
            writer.write(f"GET /size/{n} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200 ") and body == pattern(n):
                ok += 1
            else:
                bad += 1
        writer.close()
        return ok, bad

    async def run():
        return await asyncio.gather(*(one(i) for i in range(conns)))

    t0 = time.monotonic()
    results = asyncio.run(run())
    return {"ok": sum(r[0] for r in results), "bad": sum(r[1] for r in results),
            "seconds": time.monotonic() - t0}


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = sys.argv[4:]
    if mode == "keepalive":
        out = keepalive(host, port, int(args[0]), args[1])
    elif mode == "pipeline":
        out = pipeline(host, port, int(args[0]))
    elif mode == "upload":
        out = upload(host, port, int(args[0]), args[1])
    elif mode == "download":
        out = download(host, port, args[0])
    elif mode == "raw":
        out = raw(host, port, args[0])
    elif mode == "ws":
        out = ws(host, port, int(args[0]), *args[1:2])
    elif mode == "many":
        out = many(host, port, int(args[0]), int(args[1]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
