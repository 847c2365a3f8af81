#!/usr/bin/python3
"""A client for DPDK's telemetry socket (protocol v2), as Sluice exposes it.

The socket is /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2, AF_UNIX SOCK_SEQPACKET. On
connect the server sends a JSON greeting ({"version": ..., "pid": ..., "max_output_len": N});
each command is one message ("/sluice/counters", "/sluice/worker,1") answered by one JSON
message {"<command>": <value>}.

Used by the integration tests and by hand:
    tests/integration/telemetry.py /sluice/counters
    tests/integration/telemetry.py --prefix sl-testbed /sluice/owner,10.10.1.2
"""

import argparse
import json
import os
import socket
import sys
import time

DEFAULT_PREFIX = "sl-testbed"
RUNTIME_DIR = "/var/run/dpdk"


def socket_path(prefix=DEFAULT_PREFIX):
    return os.path.join(RUNTIME_DIR, prefix, "dpdk_telemetry.v2")


class TelemetryError(RuntimeError):
    pass


class Telemetry:
    """One connection to the telemetry socket; use as a context manager."""

    def __init__(self, prefix=DEFAULT_PREFIX, path=None, timeout=5.0):
        self.path = path or socket_path(prefix)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
            self.greeting = json.loads(self.sock.recv(65536).decode())
        except (OSError, ValueError) as e:
            self.sock.close()
            raise TelemetryError(f"telemetry socket {self.path}: {e}") from e
        self.max_output_len = int(self.greeting.get("max_output_len", 16384))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def raw(self, command):
        """Sends a command and returns the whole decoded reply ({command: value})."""
        self.sock.send(command.encode())
        data = self.sock.recv(max(self.max_output_len, 65536))
        if not data:
            raise TelemetryError(f"telemetry socket closed on '{command}'")
        try:
            return json.loads(data.decode())
        except ValueError as e:
            raise TelemetryError(f"bad JSON reply to '{command}': {data[:200]!r}") from e

    def query(self, command):
        """Sends a command and returns the value under its name (None for unknown ones)."""
        reply = self.raw(command)
        name = command.split(",", 1)[0]
        if name in reply:
            return reply[name]
        if len(reply) == 1:
            return next(iter(reply.values()))
        raise TelemetryError(f"unexpected reply to '{command}': {reply}")

    # Sluice's own commands.
    def counters(self):
        return self.query("/sluice/counters")

    def worker(self, n):
        return self.query(f"/sluice/worker,{n}")

    def info(self):
        return self.query("/sluice/info")

    def workers(self):
        return int(self.info()["workers"])

    def owner(self, ip):
        return int(self.query(f"/sluice/owner,{ip}")["worker"])

    def all_workers(self):
        return [self.worker(n) for n in range(self.workers())]


def wait_for_socket(prefix=DEFAULT_PREFIX, timeout=10.0):
    """Returns a connected Telemetry once the socket answers, or raises TelemetryError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Telemetry(prefix)
        except TelemetryError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def drops(counters):
    """The drop counters (names containing _drop_) of a counter dict."""
    return {k: v for k, v in counters.items() if "_drop_" in k}


def delta(after, before):
    """Per-counter difference after - before (keys of after)."""
    return {k: v - before.get(k, 0) for k, v in after.items() if isinstance(v, (int, float))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefix", default=DEFAULT_PREFIX, help="EAL file-prefix (runtime dir)")
    ap.add_argument("--nonzero", action="store_true", help="print only counters that are not 0")
    ap.add_argument("commands", nargs="*", default=["/sluice/counters"])
    args = ap.parse_args(argv)
    try:
        with Telemetry(args.prefix) as t:
            for cmd in args.commands:
                value = t.query(cmd)
                if args.nonzero and isinstance(value, dict):
                    value = {k: v for k, v in value.items() if v}
                print(json.dumps({cmd: value}, indent=2, sort_keys=False))
    except TelemetryError as e:
        print(f"telemetry: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
