#!/usr/bin/python3
"""Linux TCP clients for Sluice's test services (run inside sl-client).

  tcp_client.py echo HOST PORT BYTES      send random bytes, read them back, compare
  tcp_client.py source HOST PORT BYTES    read BYTES, compare sha256 with i % 251
  tcp_client.py discard HOST PORT BYTES   send BYTES of i % 251, close cleanly
  tcp_client.py many HOST PORT COUNT      COUNT sequential short echo connections
  tcp_client.py dsack HOST PORT BYTES     send BYTES to a discard service while nftables holds
                                          its ACKs for 150 ms: Linux resends, the service gets
                                          duplicates; how many DSACKs Linux read (TCPDSACKRecv)
  tcp_client.py heldacks HOST PORT BYTES  read BYTES from a source service, our ACKs dropped by
                                          nftables for 450 ms after the first MiB: the
                                          service's timeouts resend what we hold, and we answer
                                          each resend that gets through with a DSACK
Prints one JSON line with the outcome; exits 1 on any mismatch or error.
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

BLOCK = bytes(i % 251 for i in range(251)) * 64  # 16064 bytes, a multiple of 251
# When the connection was established and when the last byte of the transfer arrived (echo
# and source): "transfer_seconds" leaves out the handshake, whose losses cost a 1 s SYN
# timeout whatever the stack, and the checks made after the data.
MARKS = {}


def pattern_chunks(n):
    while n > 0:
        c = BLOCK[: min(n, len(BLOCK))]
        yield c
        n -= len(c)


def connect(host, port, timeout=30):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    MARKS.setdefault("connected", time.time())
    return s


def echo(host, port, n):
    data = os.urandom(n)
    s = connect(host, port)
    got = bytearray()
    sent = 0
    s.setblocking(False)
    deadline = time.time() + 120
    while len(got) < n and time.time() < deadline:
        if sent < n:
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        except BlockingIOError:
            time.sleep(0.0005)
    MARKS["done"] = time.time()
    s.close()
    return {"ok": bytes(got) == data, "sent": sent, "received": len(got)}


def source(host, port, n):
    s = connect(host, port)
    h = hashlib.sha256()
    got = 0
    while got < n:
        chunk = s.recv(min(1 << 20, n - got))
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
    MARKS["done"] = time.time()
    s.close()
    want = hashlib.sha256()
    for c in pattern_chunks(n):
        want.update(c)
    return {"ok": got == n and h.hexdigest() == want.hexdigest(), "received": got,
            "sha256": h.hexdigest(), "expected": want.hexdigest()}


def discard(host, port, n):
    s = connect(host, port)
    h = hashlib.sha256()
    for c in pattern_chunks(n):
        s.sendall(c)
        h.update(c)
    s.shutdown(socket.SHUT_WR)
    rest = s.recv(1)  # the service closes after our FIN: EOF, no data
    s.close()
    return {"ok": rest == b"", "sent": n, "sha256": h.hexdigest()}


def many(host, port, count):
    failures = 0
    first_error = ""
    for i in range(count):
        msg = b"%08d" % i
        try:
            s = connect(host, port, timeout=10)
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                c = s.recv(64)
                if not c:
                    break
                got += c
            s.close()
            if got != msg:
                raise RuntimeError(f"connection {i}: got {got!r}")
        except Exception as e:  # noqa: BLE001 - every failure counts
            failures += 1
            first_error = first_error or f"{i}: {e}"
    return {"ok": failures == 0, "count": count, "failures": failures, "first_error": first_error}


def tcp_ext(name):
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split()[1:], values.split()[1:]))[name])
    raise RuntimeError("no TcpExt in /proc/net/netstat")


def dsack(host, port, n):
    def nft(*args):
        subprocess.run(["nft", *args], check=True, capture_output=True)
    before = tcp_ext("TCPDSACKRecv")
    s = connect(host, port)
    nft("add table inet sl_held")
    nft("add chain inet sl_held in { type filter hook input priority 0; }")
    nft(f"add rule inet sl_held in tcp sport {port} drop")
    try:
        s.sendall(bytes(n))
        time.sleep(0.15)
    finally:
        nft("delete table inet sl_held")
    time.sleep(1.0)  # Linux's timeout resends once more, and hears the DSACK
    s.close()
    got = tcp_ext("TCPDSACKRecv") - before
    return {"ok": True, "dsack_recv": got}


def heldacks(host, port, n):
    def nft(*args):
        subprocess.run(["nft", *args], check=True, capture_output=True)
    s = connect(host, port)
    h = hashlib.sha256()
    got = 0
    timer = None
    try:
        while got < n:
            if timer is None and got >= 1 << 20:
                nft("add table inet sl_acks")
                nft("add chain inet sl_acks out { type filter hook output priority 0; }")
                nft(f"add rule inet sl_acks out tcp dport {port} drop")
                timer = threading.Timer(0.45, nft, ("delete", "table", "inet", "sl_acks"))
                timer.start()
            chunk = s.recv(min(1 << 16, n - got))
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
    finally:
        if timer is not None:
            timer.join()
    MARKS["done"] = time.time()
    s.close()
    want = hashlib.sha256()
    for c in pattern_chunks(n):
        want.update(c)
    return {"ok": got == n and h.hexdigest() == want.hexdigest(), "received": got}


def main():
    cmd, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    t0 = time.time()
    result = {"echo": echo, "source": source, "discard": discard, "many": many,
              "dsack": dsack, "heldacks": heldacks}[cmd](host, port, n)
    result["seconds"] = round(time.time() - t0, 3)
    if "done" in MARKS:
        result["transfer_seconds"] = round(MARKS["done"] - MARKS["connected"], 4)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
