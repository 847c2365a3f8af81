#!/usr/bin/python3
"""Sends malformed frames of every kind at the appliance and reports what it sent.

Run inside the client namespace, on the TAP port's kernel side:
    ip netns exec sl-client /usr/bin/python3 tests/integration/tools/malformed.py \
        --iface sl-tap-c --dst-mac 02:...  --total 10000

Every frame carries exactly one defect (header fields are otherwise valid, checksums
recomputed), so the drop counter it should bump is known; classes where more than one
counter is reasonable map to None and only count towards the total. Frames are built as
bytes (full control over every field) and sent with scapy's sendp in batches; the classes
are spread evenly (round robin) over --total frames, in a shuffled order (--seed).

Prints one JSON object on stdout:
    {"sent": {class: n}, "expect": {class: counter or null},
     "unsendable": {class: reason}, "total_sent": n}
"""

import argparse
import json
import random
import socket
import struct
import sys
import time

# Addresses of the testbed (docs/testbed.md).
CLIENT_V4 = "10.10.1.2"
APPLIANCE_V4 = "10.10.1.1"
CLIENT_V6 = "fd10:1::2"
APPLIANCE_V6 = "fd10:1::1"

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_IPV6 = 0x86DD


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Builder:
    def __init__(self, dst_mac, src_mac):
        self.dst = mac(dst_mac)
        self.src = mac(src_mac)

    def eth(self, ethertype, payload, dst=None):
        return (dst or self.dst) + self.src + struct.pack("!H", ethertype) + payload

    # --- IPv4 ---------------------------------------------------------------------------
    def ipv4(self, payload, *, src=CLIENT_V4, dst=APPLIANCE_V4, proto=1, ttl=64, ver=4,
             ihl=5, tot_len=None, flags_frag=0, bad_csum=False, options=b""):
        hdr_len = 20 + len(options)
        if tot_len is None:
            tot_len = hdr_len + len(payload)
        h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tot_len, 0x1234, flags_frag,
                        ttl, proto, 0, ip4(src), ip4(dst)) + options
        c = csum(h)
        if bad_csum:
            c ^= 0x5A5A
        h = h[:10] + struct.pack("!H", c) + h[12:]
        return self.eth(ETH_IPV4, h + payload)

    @staticmethod
    def icmp(typ=8, code=0, body=b"\x12\x34\x00\x01" + b"sluice-malformed", bad_csum=False):
        m = struct.pack("!BBH", typ, code, 0) + body
        c = csum(m)
        if bad_csum:
            c ^= 0x5A5A
        return m[:2] + struct.pack("!H", c) + m[4:]

    # --- IPv6 ---------------------------------------------------------------------------
    def ipv6(self, payload, *, src=CLIENT_V6, dst=APPLIANCE_V6, nh=58, hlim=64, ver=6,
             plen=None, dst_mac=None):
        if plen is None:
            plen = len(payload)
        h = struct.pack("!IHBB16s16s", ver << 28, plen, nh, hlim, ip6(src), ip6(dst))
        return self.eth(ETH_IPV6, h + payload, dst=dst_mac)

    @staticmethod
    def icmp6(typ, code, body, *, src=CLIENT_V6, dst=APPLIANCE_V6, bad_csum=False):
        m = struct.pack("!BBH", typ, code, 0) + body
        pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(m), 58)
        c = csum(pseudo + m)
        if bad_csum:
            c ^= 0x5A5A
        return m[:2] + struct.pack("!H", c) + m[4:]

    def ns(self, target, *, dst=APPLIANCE_V6, hlim=255, code=0, opt=None):
        opt = self.src_ll_opt() if opt is None else opt
        body = b"\0\0\0\0" + ip6(target) + opt
        return self.ipv6(self.icmp6(135, code, body, dst=dst), dst=dst, hlim=hlim)

    def src_ll_opt(self, length=1):
        return struct.pack("!BB", 1, length) + self.src

    # --- ARP ----------------------------------------------------------------------------
    def arp(self, *, htype=1, ptype=ETH_IPV4, hlen=6, plen=4, op=1, sha=None, spa=CLIENT_V4,
            tha=b"\0" * 6, tpa=APPLIANCE_V4, truncate=None):
        sha = self.src if sha is None else sha
        p = struct.pack("!HHBBH", htype, ptype, hlen, plen, op)
        p += sha[:6].ljust(6, b"\0") + ip4(spa) + tha + ip4(tpa)
        if truncate is not None:
            p = p[:truncate]
        return self.eth(ETH_ARP, p, dst=b"\xff" * 6)


def classes(b, rng):
    """(name, expected drop counter or None, frame factory) for every kind of defect."""
    echo = Builder.icmp()
    e6 = lambda **kw: Builder.icmp6(128, 0, b"\x12\x34\x00\x01" + b"sluice-malformed", **kw)  # noqa: E731

    def garbage():
        n = rng.randint(14, 200)
        data = bytes(rng.getrandbits(8) for _ in range(n))
        # Keep the EtherType away from the four the appliance parses.
        et = struct.unpack("!H", data[12:14])[0]
        if et in (ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN):
            data = data[:12] + b"\x88\xb6" + data[14:]
        return data

    return [
        # Ethernet
        ("eth_runt_10", "eth_drop_short", lambda: b.dst + b.src[:4]),
        ("eth_runt_13", "eth_drop_short", lambda: b.dst + b.src + b"\x08"),
        ("eth_unknown_type", "eth_drop_unknown_type", lambda: b.eth(0x88B5, b"\0" * 46)),
        ("eth_not_for_us", "eth_drop_not_for_us",
         lambda: b.eth(ETH_IPV4, b"\0" * 46, dst=b"\x02\x11\x22\x33\x44\x55")),
        ("vlan_tagged", "vlan_drop_tagged",
         lambda: b.eth(ETH_VLAN, struct.pack("!HH", 42, ETH_IPV4) + b.ipv4(echo)[14:])),
        ("garbage", None, garbage),
        # ARP
        ("arp_short", "arp_drop_malformed", lambda: b.arp(truncate=20)),
        ("arp_header_only", "arp_drop_malformed", lambda: b.eth(ETH_ARP, b"", dst=b"\xff" * 6)),
        ("arp_bad_hlen", "arp_drop_malformed", lambda: b.arp(hlen=8)),
        ("arp_bad_plen", "arp_drop_malformed", lambda: b.arp(plen=16)),
        ("arp_bad_htype", "arp_drop_malformed", lambda: b.arp(htype=6)),
        ("arp_bad_ptype", "arp_drop_malformed", lambda: b.arp(ptype=ETH_IPV6)),
        ("arp_foreign_target", "arp_drop_not_for_us", lambda: b.arp(tpa="10.10.1.99")),
        ("arp_multicast_sender", "arp_drop_bad_sender",
         lambda: b.arp(sha=b"\x01\x00\x5e\x00\x00\x01")),
        ("arp_broadcast_sender", "arp_drop_bad_sender", lambda: b.arp(sha=b"\xff" * 6)),
        # IPv4
        ("ipv4_short", "ipv4_drop_short", lambda: b.eth(ETH_IPV4, b"\x45\0\0\x14" + b"\0" * 6)),
        ("ipv4_bad_version", "ipv4_drop_bad_version", lambda: b.ipv4(echo, ver=5)),
        ("ipv4_ihl_below_5", "ipv4_drop_bad_header_length", lambda: b.ipv4(echo, ihl=3)),
        ("ipv4_ihl_beyond_packet", "ipv4_drop_bad_header_length",
         lambda: b.ipv4(b"", ihl=15, proto=253)),
        ("ipv4_total_length_too_big", "ipv4_drop_bad_total_length",
         lambda: b.ipv4(echo, tot_len=1400)),
        ("ipv4_total_length_too_small", "ipv4_drop_bad_total_length",
         lambda: b.ipv4(echo, tot_len=12)),
        ("ipv4_bad_checksum", "ipv4_drop_bad_checksum", lambda: b.ipv4(echo, bad_csum=True)),
        ("ipv4_fragment_mf", "ipv4_drop_fragment", lambda: b.ipv4(echo, flags_frag=0x2000)),
        ("ipv4_fragment_offset", "ipv4_drop_fragment", lambda: b.ipv4(echo, flags_frag=100)),
        ("ipv4_ttl_zero", "ipv4_drop_ttl_zero", lambda: b.ipv4(echo, ttl=0)),
        ("ipv4_not_local_same_subnet", "ipv4_drop_not_local",
         lambda: b.ipv4(echo, dst="10.10.1.77")),
        ("ipv4_not_local_other_net", "ipv4_drop_not_local",
         lambda: b.ipv4(echo, dst="192.0.2.1")),
        ("ipv4_unknown_protocol", "ipv4_drop_unknown_protocol",
         lambda: b.ipv4(b"\0" * 20, proto=253)),
        ("ipv4_src_broadcast", "ipv4_drop_bad_source",
         lambda: b.ipv4(echo, src="255.255.255.255")),
        ("ipv4_src_multicast", "ipv4_drop_bad_source", lambda: b.ipv4(echo, src="224.0.0.5")),
        ("ipv4_src_loopback", "ipv4_drop_bad_source", lambda: b.ipv4(echo, src="127.0.0.1")),
        ("ipv4_src_ours", "ipv4_drop_bad_source", lambda: b.ipv4(echo, src=APPLIANCE_V4)),
        # ICMP
        ("icmp_short", "icmp_drop_short", lambda: b.ipv4(b"\x08\x00")),
        ("icmp_bad_checksum", "icmp_drop_bad_checksum",
         lambda: b.ipv4(Builder.icmp(bad_csum=True))),
        ("icmp_unknown_type", "icmp_drop_unhandled_type",
         lambda: b.ipv4(Builder.icmp(typ=200))),
        # IPv6
        ("ipv6_short", "ipv6_drop_short", lambda: b.eth(ETH_IPV6, b"\x60" + b"\0" * 19)),
        ("ipv6_bad_version", "ipv6_drop_bad_version", lambda: b.ipv6(e6(), ver=4)),
        ("ipv6_payload_length_too_long", "ipv6_drop_bad_payload_length",
         lambda: b.ipv6(e6(), plen=1400)),
        ("ipv6_hop_limit_zero", "ipv6_drop_hop_limit_zero", lambda: b.ipv6(e6(), hlim=0)),
        ("ipv6_fragment_header", "ipv6_drop_fragment",
         lambda: b.ipv6(struct.pack("!BBHI", 58, 0, 1, 0x1234) + e6(), nh=44)),
        ("ipv6_dest_options_header", "ipv6_drop_extension_header",
         lambda: b.ipv6(struct.pack("!BB", 58, 0) + b"\x01\x04\0\0\0\0" + e6(), nh=60)),
        ("ipv6_not_local_same_subnet", "ipv6_drop_not_local",
         lambda: b.ipv6(e6(dst="fd10:1::77"), dst="fd10:1::77")),
        ("ipv6_not_local_other_net", "ipv6_drop_not_local",
         lambda: b.ipv6(e6(dst="2001:db8::1"), dst="2001:db8::1")),
        ("ipv6_unknown_next_header", "ipv6_drop_unknown_next_header",
         lambda: b.ipv6(b"\0" * 16, nh=253)),
        ("ipv6_src_multicast", "ipv6_drop_bad_source",
         lambda: b.ipv6(e6(src="ff02::1"), src="ff02::1")),
        ("ipv6_src_loopback", "ipv6_drop_bad_source", lambda: b.ipv6(e6(src="::1"), src="::1")),
        ("ipv6_src_ours", "ipv6_drop_bad_source",
         lambda: b.ipv6(e6(src=APPLIANCE_V6), src=APPLIANCE_V6)),
        # ICMPv6 and ND
        ("icmp6_short", "icmp6_drop_short", lambda: b.ipv6(b"\x80\x00")),
        ("icmp6_bad_checksum", "icmp6_drop_bad_checksum", lambda: b.ipv6(e6(bad_csum=True))),
        ("icmp6_unknown_type", "icmp6_drop_unhandled_type",
         lambda: b.ipv6(Builder.icmp6(200, 0, b"\0" * 8))),
        ("nd_ns_hop_limit_64", "nd_drop_malformed", lambda: b.ns(APPLIANCE_V6, hlim=64)),
        ("nd_ns_option_length_0", "nd_drop_malformed",
         lambda: b.ns(APPLIANCE_V6, opt=b.src_ll_opt(length=0))),
        ("nd_ns_code_1", "nd_drop_malformed", lambda: b.ns(APPLIANCE_V6, code=1)),
        ("nd_ns_multicast_target", "nd_drop_malformed", lambda: b.ns("ff02::1")),
        ("nd_ns_foreign_target", "nd_drop_not_for_us", lambda: b.ns("fd10:1::99")),
        # Too short for an NS: icmp6_drop_short and nd_drop_malformed are both fair.
        ("nd_ns_short", None,
         lambda: b.ipv6(Builder.icmp6(135, 0, b"\0" * 4 + ip6(APPLIANCE_V6)[:8]))),
    ]


def send_batches(frames, iface, batch, pause):
    """Sends (name, bytes) frames with scapy's sendp, `batch` at a time."""
    from scapy.all import Raw, sendp  # imported late: scapy takes a second to load
    for i in range(0, len(frames), batch):
        sendp([Raw(load=data) for _, data in frames[i:i + batch]], iface=iface, verbose=False)
        time.sleep(pause)


def sendable(iface, data):
    """None if the kernel takes the frame as it is, else the reason it refuses it.

    A plain AF_PACKET socket, not scapy: scapy pads a frame the kernel refuses as too short
    to 60 bytes and sends that instead, which would turn a runt into another kind of frame.
    """
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        s.bind((iface, 0))
        s.send(data)
        return None
    except OSError as e:
        return f"{e.__class__.__name__}: {e}"
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iface", default="sl-tap-c")
    ap.add_argument("--dst-mac", default="02:00:00:00:00:01",
                    help="the appliance's MAC on this link")
    ap.add_argument("--src-mac", help="default: the MAC of --iface")
    ap.add_argument("--total", type=int, default=10000, help="frames to send in all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--pause", type=float, default=0.005, help="seconds between batches")
    ap.add_argument("--list", action="store_true", help="list the classes and exit")
    args = ap.parse_args()

    src_mac = args.src_mac or ("02:00:00:00:00:02" if args.list else None)
    if not src_mac:
        with open(f"/sys/class/net/{args.iface}/address") as f:
            src_mac = f.read().strip()
    rng = random.Random(args.seed)
    b = Builder(args.dst_mac, src_mac)
    kinds = classes(b, rng)
    if args.list:
        for name, counter, _ in kinds:
            print(f"{name:32} {counter}")
        return 0

    # Probe each class once: the kernel refuses frames shorter than an Ethernet header
    # (AF_PACKET: EINVAL), so runts cannot reach a TAP port; such classes are reported.
    unsendable = {}
    usable = []
    for name, counter, make in kinds:
        reason = sendable(args.iface, make())
        if reason:
            unsendable[name] = reason
        else:
            usable.append((name, counter, make))

    # The probes count too: one frame of each usable class is already out.
    sent = {name: 1 for name, _, _ in usable}
    frames = []
    i = 0
    while len(frames) + len(usable) < args.total:
        name, _, make = usable[i % len(usable)]
        frames.append((name, make()))
        i += 1
    rng.shuffle(frames)
    send_batches(frames, args.iface, args.batch, args.pause)
    for name, _ in frames:
        sent[name] += 1

    report = {
        "sent": sent,
        "expect": {name: counter for name, counter, _ in kinds},
        "unsendable": unsendable,
        "total_sent": sum(sent.values()),
    }
    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
