#!/usr/bin/python3
"""Attacks on Sluice's TCP stack, from inside sl-client (scapy).

  tcp_attacks.py synflood IFACE DST_MAC COUNT
      COUNT SYNs to 10.10.1.1:7 from spoofed, unanswering sources 10.10.1.100-199.
  tcp_attacks.py inject IFACE DST_MAC
      Opens an echo connection, learns its sequence numbers from a capture, then injects
      an RST and a SYN inside the window but not at RCV.NXT, and an ACK for data never
      sent; the connection must still echo afterwards (RFC 5961). Prints JSON.
"""

import json
import random
import socket
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, conf, sendp  # noqa: E402

conf.verb = 0
SERVER = "10.10.1.1"
CLIENT = "10.10.1.2"


def synflood(iface, dst_mac, count):
    frames = []
    for i in range(count):
        src = "10.10.1.%d" % (100 + i % 100)
        frames.append(Ether(dst=dst_mac) / IP(src=src, dst=SERVER) /
                      TCP(sport=random.randint(1024, 65535), dport=7, flags="S",
                          seq=random.getrandbits(32), options=[("MSS", 1460)]))
    sendp(frames, iface=iface)
    print(json.dumps({"sent": count}))
    return 0


def inject(iface, dst_mac):
    s = socket.create_connection((SERVER, 7), timeout=10)
    lport = s.getsockname()[1]
    sniffer = AsyncSniffer(iface=iface, filter=f"tcp and port {lport}", store=True)
    sniffer.start()
    time.sleep(0.3)
    s.sendall(b"before")
    assert s.recv(64) == b"before"
    time.sleep(0.3)
    pkts = sniffer.stop()
    ours = [p for p in pkts if p.haslayer(TCP) and p[IP].src == CLIENT and p[TCP].dport == 7]
    theirs = [p for p in pkts if p.haslayer(TCP) and p[IP].src == SERVER]
    last_out = ours[-1][TCP]
    last_in = theirs[-1][TCP]
    # Our next sequence number is the appliance's RCV.NXT; its next is our ack.
    rcv_nxt = (last_out.seq + len(last_out.payload)) & 0xFFFFFFFF
    server_nxt = (last_in.seq + len(last_in.payload)) & 0xFFFFFFFF
    base = Ether(dst=dst_mac) / IP(src=CLIENT, dst=SERVER)
    attacks = [
        # RST inside the window, not at RCV.NXT: a challenge ACK, the connection stays.
        base / TCP(sport=lport, dport=7, flags="R", seq=(rcv_nxt + 1000) & 0xFFFFFFFF),
        # SYN on an established connection: a challenge ACK.
        base / TCP(sport=lport, dport=7, flags="S", seq=(rcv_nxt + 5) & 0xFFFFFFFF),
        # ACK for data the appliance never sent: a challenge ACK.
        base / TCP(sport=lport, dport=7, flags="A", seq=rcv_nxt,
                   ack=(server_nxt + 100000) & 0xFFFFFFFF),
        # RST far outside the window: silently dropped.
        base / TCP(sport=lport, dport=7, flags="R", seq=(rcv_nxt + 0x40000000) & 0xFFFFFFFF),
    ]
    sendp(attacks, iface=iface)
    time.sleep(0.3)
    s.sendall(b"after")
    got = s.recv(64)
    s.close()
    print(json.dumps({"ok": got == b"after", "echo_after": got.decode(errors="replace")}))
    return 0 if got == b"after" else 1


def main():
    if sys.argv[1] == "synflood":
        return synflood(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    return inject(sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    sys.exit(main())
