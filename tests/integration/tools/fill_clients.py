"""Opens one TCP connection from each of COUNT client addresses (BASE, BASE+1, ...) to
VIP:PORT, whose listener rejects it once accepted (`tcp-request connection reject`): real
clients by the million for a stick table tracking `src` (tests/integration/
test_stick_fill.py). A connection counts as ok when the server closed or reset it after the
handshake (so the server did accept it: a client whose last handshake ACK was lost sees
its connect succeed all the same). Run inside the client
namespace, with the addresses local there (`ip route add local BASE/LEN dev lo`), so the
kernel answers for each of them. At most WINDOW connections are in flight; one that has not
been closed by the server in 10 s counts as failed. Prints one JSON line: ok, refused, failed,
seconds.

usage: fill_clients.py VIP PORT BASE COUNT [WINDOW]"""

import errno
import ipaddress
import json
import select
import socket
import struct
import sys
import time


def main():
    vip, port, base, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    window = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
    first = int(ipaddress.IPv4Address(base))
    ep = select.epoll()
    inflight = {}  # fd -> (socket, started)
    linger = struct.pack("ii", 1, 0)  # close with a reset: no FIN exchange left behind
    ok = refused = failed = 0
    nxt = 0
    start = swept = time.monotonic()
    while nxt < count or inflight:
        while nxt < count and len(inflight) < window:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.bind((str(ipaddress.IPv4Address(first + nxt)), 0))
            nxt += 1
            e = s.connect_ex((vip, port))
            if e not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                continue
            inflight[s.fileno()] = (s, time.monotonic())
            ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
        for fd, _ in ep.poll(0.05):
            s, _ = inflight.pop(fd)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == errno.ECONNREFUSED:  # a reset answered the SYN: no handshake
                refused += 1
            elif err in (0, errno.ECONNRESET, errno.EPIPE):  # accepted, then closed or reset
                ok += 1
            else:
                failed += 1
            ep.unregister(fd)
            s.close()
        now = time.monotonic()
        if now - swept > 0.5:
            swept = now
            for fd, (s, t0) in list(inflight.items()):
                if now - t0 > 10:
                    inflight.pop(fd)
                    ep.unregister(fd)
                    s.close()
                    failed += 1
    print(json.dumps({"ok": ok, "refused": refused, "failed": failed,
                      "seconds": round(time.monotonic() - start, 1)}))


if __name__ == "__main__":
    main()
