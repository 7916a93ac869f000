#!/usr/bin/env python3
"""A userspace WAN emulator for bench/wan (this machine's kernel has no sch_netem).

Runs inside the middle namespace of the WAN bench and bridges two interfaces at layer 2 with
AF_PACKET sockets: every frame that arrives on one leaves the other after a one-way delay with
jitter, or is dropped with a loss probability. It does what `tc qdisc ... netem delay D jitter J
loss L` would do, except that jitter never reorders packets (each frame leaves no earlier than the
one before it in the same direction, as on a real path). The rate cap is the kernel's TBF on the
end hosts (see netns.ts); this process only delays and drops.

    python3 delay_line.py <if-a> <if-b> --max-seconds N
    python3 delay_line.py --offload-off <if>...   (run in an end host's namespace, see there)

Commands on stdin, one JSON object a line, each answered with one line on stdout:
    {"delay_ms": 40, "jitter_ms": 1, "loss": 0.001, "queue": 20000}   -> {"ok": true}
    {"stats": true}   -> {"ok": true, "forwarded": n, "lost": n, "overflow": n, "oversize": n}
It exits when stdin closes (the bench died or finished) or after --max-seconds (bounded).
"""

import collections
import json
import os
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SNAP = 65536  # larger than any frame, so a GSO super-frame is seen (and counted) as oversize
MAX_FRAME = 1514  # Ethernet MTU 1500 + header: what a real link carries


def main():
    if_a, if_b = sys.argv[1], sys.argv[2]
    max_seconds = float(sys.argv[sys.argv.index("--max-seconds") + 1]) if "--max-seconds" in sys.argv else 900.0
    deadline = time.monotonic() + max_seconds
    socks = []
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        s.setblocking(False)
        socks.append(s)
    # queues[i]: frames waiting to leave socks[i] as (due time, frame)
    queues = [collections.deque(), collections.deque()]
    last_due = [0.0, 0.0]
    cfg = {"delay_ms": 0.0, "jitter_ms": 0.0, "loss": 0.0, "queue": 20000}
    stats = {"forwarded": 0, "lost": 0, "overflow": 0, "oversize": 0}
    poller = select.poll()
    fd_index = {}
    for i, s in enumerate(socks):
        poller.register(s.fileno(), select.POLLIN)
        fd_index[s.fileno()] = i
    stdin_fd = sys.stdin.fileno()
    poller.register(stdin_fd, select.POLLIN)
    line_buf = b""
    print(json.dumps({"event": "ready"}), flush=True)
    while True:
        now = time.monotonic()
        if now > deadline:
            return
        due = [q[0][0] for q in queues if q]
        timeout_ms = 100.0 if not due else max(0.0, (min(due) - now) * 1000.0)
        for fd, _ev in poller.poll(timeout_ms):
            if fd == stdin_fd:
                chunk = os.read(stdin_fd, 4096)
                if not chunk:
                    return
                line_buf += chunk
                while b"\n" in line_buf:
                    line, line_buf = line_buf.split(b"\n", 1)
                    if not line.strip():
                        continue
                    cmd = json.loads(line)
                    if cmd.get("stats"):
                        print(json.dumps({"ok": True, **stats}), flush=True)
                    else:
                        for k in ("delay_ms", "jitter_ms", "loss", "queue"):
                            if k in cmd:
                                cfg[k] = float(cmd[k])
                        print(json.dumps({"ok": True}), flush=True)
                continue
            src = fd_index[fd]
            dst = 1 - src
            # Bounded: at most 256 frames per wake-up, so the other direction is served too.
            for _ in range(256):
                try:
                    frame, addr = socks[src].recvfrom(SNAP)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own transmission on this interface
                if len(frame) > MAX_FRAME:
                    stats["oversize"] += 1
                    continue
                if cfg["loss"] > 0 and random.random() < cfg["loss"]:
                    stats["lost"] += 1
                    continue
                if len(queues[dst]) >= cfg["queue"]:
                    stats["overflow"] += 1
                    continue
                t = time.monotonic()
                d = cfg["delay_ms"] + (random.uniform(-cfg["jitter_ms"], cfg["jitter_ms"]) if cfg["jitter_ms"] > 0 else 0.0)
                at = max(t + max(0.0, d) / 1000.0, last_due[dst])
                last_due[dst] = at
                queues[dst].append((at, frame))
        now = time.monotonic()
        for i, q in enumerate(queues):
            while q and q[0][0] <= now:
                _, frame = q.popleft()
                try:
                    socks[i].send(frame)
                    stats["forwarded"] += 1
                except (BlockingIOError, OSError):
                    stats["overflow"] += 1


def offload_off(name):
    """Turn off TX checksum offload, TSO and GSO on `name` (the SIOCETHTOOL ioctl; no ethtool
    binary here): a frame bridged through AF_PACKET must carry a complete checksum and be one
    MTU-sized packet, as on a real wire."""
    import ctypes
    import fcntl
    import struct
    siocethtool = 0x8946
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # ETHTOOL_STXCSUM, ETHTOOL_SSG, ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO
    for cmd in (0x17, 0x19, 0x1F, 0x24, 0x2C):
        value = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
        ifr = struct.pack("16sP", name.encode(), ctypes.addressof(value))
        fcntl.ioctl(s.fileno(), siocethtool, ifr)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "--offload-off":
        for n in sys.argv[2:]:
            offload_off(n)
        sys.exit(0)
    try:
        main()
    except KeyboardInterrupt:
        pass
