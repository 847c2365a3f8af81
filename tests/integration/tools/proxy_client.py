#!/usr/bin/python3
"""Clients for the proxy tests, run in sl-client. Prints one JSON line.

    proxy_client.py spread HOST PORT N     N sequential connections; each reads the
                                           backend's name line and closes: {"names": {...}}
    proxy_client.py echo HOST PORT BYTES   one connection: skip the name line, send BYTES
                                           of a deterministic stream, half-close, read the
                                           echo back; {"ok": sha256 equal, "seconds": ...}
    proxy_client.py hold HOST PORT SECONDS one connection held open SECONDS; reports the
                                           name and whether the proxy closed it early.
    proxy_client.py burst HOST PORT N C W  N connections, C at a time, each sending 10 bytes
                                           and waiting up to W seconds for the proxy to
                                           close it: {"closed", "hung", "errors"}."""

import errno
import hashlib
import json
import os
import socket
import sys
import threading
import time


def connect(host, port, timeout=10):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if os.environ.get("PROXY_CLIENT_SRC"):  # a source address (several clients, one host)
        s.bind((os.environ["PROXY_CLIENT_SRC"], 0))
    s.connect((host, port))
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        data = s.recv(1)
        if not data:
            break
        buf += data
    return buf.decode(errors="replace").strip()


def spread(host, port, n):
    names, errors = {}, 0
    first_error = None
    for _ in range(n):
        try:
            s = connect(host, port)
            name = read_line(s)
            s.close()
            if not name:
                raise OSError("closed before the name line")
            names[name] = names.get(name, 0) + 1
        except OSError as e:
            errors += 1
            first_error = first_error or repr(e)
    return {"names": names, "errors": errors, "first_error": first_error}


def stream(nbytes):
    block = bytes(i % 251 for i in range(65536))
    sent = 0
    while sent < nbytes:
        chunk = block[: min(len(block), nbytes - sent)]
        sent += len(chunk)
        yield chunk


def echo(host, port, nbytes):
    start = time.monotonic()
    s = connect(host, port, timeout=60)
    name = read_line(s)
    sent_hash = hashlib.sha256()
    got_hash = hashlib.sha256()
    got = [0]

    def reader():
        while True:
            data = s.recv(262144)
            if not data:
                break
            got[0] += len(data)
            got_hash.update(data)

    t = threading.Thread(target=reader)
    t.start()
    for chunk in stream(nbytes):
        s.sendall(chunk)
        sent_hash.update(chunk)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout=600)
    s.close()
    ok = got[0] == nbytes and got_hash.digest() == sent_hash.digest()
    return {"ok": ok, "name": name, "sent": nbytes, "received": got[0],
            "seconds": round(time.monotonic() - start, 3)}


def hold(host, port, seconds):
    s = connect(host, port, timeout=seconds + 5)
    name = read_line(s)
    s.settimeout(seconds)
    closed_early = False
    try:
        data = s.recv(1)
        closed_early = not data or True
    except socket.timeout:
        pass
    except OSError:
        closed_early = True
    s.close()
    return {"name": name, "closed_early": closed_early}


def burst(host, port, n, concurrency, wait):
    """n connections, `concurrency` at a time: each sends 10 bytes and waits up to `wait`
    seconds for the proxy to close it (EOF or reset)."""
    import selectors
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sel = selectors.DefaultSelector()
    started = closed = hung = errors = 0
    kinds = {}
    deadlines = {}
    while started < n or deadlines:
        while started < n and len(deadlines) < concurrency:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((host, port))
            sel.register(s, selectors.EVENT_WRITE, "connecting")
            deadlines[s] = time.monotonic() + wait
            started += 1
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            done = False
            if key.data == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err == errno.ECONNRESET:  # connected, then reset by the proxy already
                    closed += 1
                    done = True
                elif err != 0:
                    errors += 1
                    kinds[errno.errorcode.get(err, str(err))] = \
                        kinds.get(errno.errorcode.get(err, str(err)), 0) + 1
                    done = True
                else:
                    try:
                        s.send(b"x" * 10)
                        sel.modify(s, selectors.EVENT_READ, "open")
                    except OSError:
                        closed += 1
                        done = True
            else:
                try:
                    done = not s.recv(65536)
                except OSError:
                    done = True
                if done:
                    closed += 1
            if done:
                sel.unregister(s)
                s.close()
                del deadlines[s]
        now = time.monotonic()
        for s in [s for s, d in deadlines.items() if d < now]:
            hung += 1
            sel.unregister(s)
            s.close()
            del deadlines[s]
    return {"started": started, "closed": closed, "hung": hung, "errors": errors,
            "error_kinds": kinds}


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arg = float(sys.argv[4]) if mode == "hold" else int(sys.argv[4])
    if mode == "burst":
        out = burst(host, port, arg, int(sys.argv[5]), float(sys.argv[6]))
    elif mode == "spread":
        out = spread(host, port, arg)
    elif mode == "echo":
        out = echo(host, port, arg)
    else:
        out = hold(host, port, arg)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
