#!/usr/bin/python3
"""A recording HTTP/1.1 backend for the request corpus, run in sl-server.

    raw_backend.py ADDR PORT DIR

Writes every byte each connection receives to DIR/<n>.bin (n counts connections) and answers
each request (head, then a Content-Length or chunked body) with
"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok", as the backend of the HAProxy capture
did. Prints "ready" once listening."""

import os
import socket
import sys
import threading

REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
lock = threading.Lock()
seq = [0]


def request_end(buf):
    """The length of the first complete request in buf, or None."""
    i = buf.find(b"\r\n\r\n")
    if i < 0:
        return None
    head = buf[:i].decode("latin-1").lower()
    pos = i + 4
    if "transfer-encoding:" in head and "chunked" in head.split("transfer-encoding:", 1)[1]:
        while True:
            j = buf.find(b"\r\n", pos)
            if j < 0:
                return None
            size = int(buf[pos:j].split(b";")[0] or b"0", 16)
            pos = j + 2
            if size == 0:
                k = buf.find(b"\r\n\r\n", pos - 2)
                return k + 4 if k >= 0 else None
            pos += size + 2
            if pos > len(buf):
                return None
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            pos += int(line.split(":", 1)[1].strip() or 0)
            break
    return pos if pos <= len(buf) else None


def serve(conn, path):
    buf = b""
    answered = False
    with open(path, "wb") as rec:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                rec.write(data)
                rec.flush()
                buf += data
                while True:
                    # Answered once its head is in (as the capture's backend did), dropped
                    # from the buffer once its body is.
                    if not answered and b"\r\n\r\n" in buf:
                        conn.sendall(REPLY)
                        answered = True
                    end = request_end(buf)
                    if end is None or not answered:
                        break
                    buf = buf[end:]
                    answered = False
        except (OSError, ValueError):
            pass
        finally:
            conn.close()


def main():
    addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(128)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        with lock:
            seq[0] += 1
            n = seq[0]
        threading.Thread(target=serve, args=(c, os.path.join(out, f"{n}.bin")),
                         daemon=True).start()


if __name__ == "__main__":
    main()
