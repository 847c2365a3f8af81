#!/usr/bin/python3
"""A test backend server for the proxy tests, run in sl-server.

    backend.py ADDR PORT NAME [--mode echo|raw-echo|source|http|reset|stall] [--status CODE]

echo (default): on each connection sends "NAME\\n", then echoes everything until the
client closes (half-close honoured), then closes. raw-echo: the same without the name line.
source: sends byte i = i % 251 until the client closes (as Sluice's source service). http:
answers every request with "HTTP/1.0 200" (or --status CODE) and a body "NAME\\n" (used by
`option httpchk`). reset: resets every connection at once (SO_LINGER 0). stall: keeps every
connection open, never reads or writes. Threads per connection; prints "ready" once listening."""

import socket
import struct
import sys
import threading


BLOCK = bytes(i % 251 for i in range(251)) * 256  # a multiple of 251


def serve_source(conn, name):
    try:
        while True:
            conn.sendall(BLOCK)
    except OSError:
        pass
    finally:
        conn.close()


def serve_echo(conn, name, greet=True):
    try:
        if greet:
            conn.sendall(name.encode() + b"\n")
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        conn.close()


def serve_http(conn, name, status=200):
    try:
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
        body = name.encode() + b"\n"
        head = b"HTTP/1.0 %d Status\r\nContent-Length: %d\r\n\r\n" % (status, len(body))
        conn.sendall(head + body)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    mode = opts.get("--mode", "echo")
    status = int(opts.get("--status", "200"))
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1024)
    print("ready", flush=True)
    handler = {"http": serve_http, "source": serve_source,
               "raw-echo": lambda c, n: serve_echo(c, n, greet=False)}.get(mode, serve_echo)
    stalled = []
    while True:
        conn, _ = s.accept()
        if mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        elif mode == "stall":
            stalled.append(conn)
        else:
            args = (conn, name, status) if mode == "http" else (conn, name)
            threading.Thread(target=handler, args=args, daemon=True).start()


if __name__ == "__main__":
    main()
