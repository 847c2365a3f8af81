#!/usr/bin/python3
"""An HTTP/1.1 test backend for the HTTP-mode tests, run in sl-server.

    http_backend.py ADDR PORT NAME

Keep-alive as HTTP/1.1 says; counts the connections it accepted and the requests it served.
Paths:
  /conns            "CONNS REQUESTS" of this server so far (text)
  /echo             the request as received: start line and fields, as JSON, in the body
  /size/N           N bytes (byte i = i % 251) with Content-Length
  /chunked/N        N bytes (same pattern) in chunks of up to 64 KiB
  /close            a short body, then the server closes the connection (Connection: close)
  /eof/N            N bytes with no Content-Length, delimited by the close (HTTP/1.0 style)
  /sha              (any method with a body, Content-Length or chunked) the body's sha256
  /status/N         an empty answer with status N
  /set-cookie       "ok", with Set-Cookie: SESSIONID=servervalue12345; Path=/ and OTHER=1
  /ws               a WebSocket upgrade (101 with the Sec-WebSocket-Accept RFC 6455 computes
                    from the request's key), then echoes bytes until the close
  /ws-bad-accept    the same with a wrong Sec-WebSocket-Accept
  /idle-close       answers, then closes the connection 50 ms later without a request
  /once             answers; the next request on this connection gets no answer: the
                    connection closes as it arrives (a server closing an idle connection
                    just as a proxy reuses it)
Every answer carries "X-Server: NAME". Prints "ready" once listening."""

import base64
import hashlib
import json
import socket
import sys
import threading
import time

PATTERN = bytes(i % 251 for i in range(251)) * 1024
lock = threading.Lock()
counts = {"conns": 0, "requests": 0}


def pattern(n):
    out = bytearray()
    while len(out) < n:
        out += PATTERN[: n - len(out)]
    return bytes(out)


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_body(c, fields):
    te = fields.get("transfer-encoding", "").lower()
    h = hashlib.sha256()
    n = 0
    if "chunked" in te:
        while True:
            size = int(c.line().split(b";")[0], 16)
            if size == 0:
                while c.line():
                    pass
                break
            data = c.exact(size)
            h.update(data)
            n += size
            c.exact(2)
    elif "content-length" in fields:
        left = int(fields["content-length"])
        while left:
            take = min(left, 1 << 20)
            h.update(c.exact(take))
            left -= take
            n += take
    return h.hexdigest(), n


def answer(sock, status, body=b"", extra=(), length=True, reason="OK"):
    head = [f"HTTP/1.1 {status} {reason}", f"X-Server: {NAME}"]
    head += list(extra)
    if length:
        head.append(f"Content-Length: {len(body)}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def serve(sock):
    with lock:
        counts["conns"] += 1
    c = Conn(sock)
    doomed = False
    try:
        while True:
            start = c.line()
            if not start:
                continue
            if doomed:
                return
            method, target, version = start.decode("latin-1").split(" ", 2)
            target = target.split("?", 1)[0]  # the query does not choose the answer
            raw = []
            fields = {}
            while True:
                line = c.line()
                if not line:
                    break
                raw.append(line.decode("latin-1"))
                k, _, v = line.decode("latin-1").partition(":")
                fields[k.strip().lower()] = v.strip()
            with lock:
                counts["requests"] += 1
            if fields.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # as real servers do
            digest, nbody = read_body(c, fields)
            if target == "/conns":
                answer(sock, 200, f"{counts['conns']} {counts['requests']}".encode())
            elif target == "/echo":
                answer(sock, 200, json.dumps({"start": start.decode("latin-1"),
                                              "fields": raw}).encode(),
                       ["Content-Type: application/json"])
            elif target.startswith("/size/"):
                answer(sock, 200, pattern(int(target[6:])))
            elif target.startswith("/chunked/"):
                n = int(target[9:])
                sock.sendall(f"HTTP/1.1 200 OK\r\nX-Server: {NAME}\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n".encode())
                data = pattern(n)
                for i in range(0, n, 65536):
                    part = data[i:i + 65536]
                    sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sock.sendall(b"0\r\n\r\n")
            elif target == "/close":
                answer(sock, 200, b"bye\n", ["Connection: close"])
                return
            elif target.startswith("/eof/"):
                sock.sendall(f"HTTP/1.0 200 OK\r\nX-Server: {NAME}\r\n\r\n".encode()
                             + pattern(int(target[5:])))
                return
            elif target == "/set-cookie":
                answer(sock, 200, b"ok", ["Set-Cookie: SESSIONID=servervalue12345; Path=/",
                                          "Set-Cookie: OTHER=1"])
            elif target == "/sha":
                answer(sock, 200, f"{digest} {nbody}".encode())
            elif target.startswith("/status/"):
                code = int(target[8:])
                answer(sock, code, b"", length=code not in (204, 304) and code >= 200)
            elif target in ("/ws", "/ws-bad-accept"):
                key = fields.get("sec-websocket-key", "")
                if target == "/ws-bad-accept":
                    key += "x"
                accept = base64.b64encode(hashlib.sha1(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
                sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                             b"\r\n\r\n")
                if c.buf:
                    sock.sendall(c.buf)
                    c.buf = b""
                while True:
                    data = sock.recv(65536)
                    if not data:
                        return
                    sock.sendall(data)
            elif target == "/once":
                answer(sock, 200, b"once\n")
                doomed = True
            elif target == "/idle-close":
                answer(sock, 200, b"soon\n")
                time.sleep(0.05)
                return
            else:
                answer(sock, 404, b"not found\n", reason="Not Found")
            if version == "HTTP/1.0" and fields.get("connection", "").lower() != "keep-alive":
                return
            if fields.get("connection", "").lower() == "close":
                return
    except (EOFError, OSError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    global NAME
    addr, port, NAME = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1024)
    print("ready", flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


NAME = ""
if __name__ == "__main__":
    main()
