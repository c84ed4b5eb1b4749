#!/usr/bin/env python3
# Writes tests/fuzz/corpus/event/seed-*: valid ring buffer records (struct
# wd_event of bpf/warden.h, 72 bytes, then path and exe), each preceded by
# the 8-byte boot-to-realtime offset fuzz_event.c reads first.
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "event")
OFFSET = 1795723863123456789 - 12345678901


def rec(type_, right, decision, path=b"", exe=b"/usr/bin/cat", flags=0, rule=2,
        comm=b"cat", target=0, aux=0, boot=12345678901):
    head = struct.pack("<QIIIIIIIIBBHHH16sII", boot, type_, 3, 4242, 4243, 4200, 1000,
                       1001, rule, right, decision, flags, len(path), len(exe),
                       comm.ljust(16, b"\0")[:16], target, aux)
    assert len(head) == 72
    return struct.pack("<q", OFFSET) + head + path + exe


SEEDS = {
    "file-deny": rec(1, 0, 1, b"/home/u/.ssh/id_ed25519"),
    "file-audit-default": rec(1, 1, 2, b"/tmp/x", rule=0xffffffff),
    "exec-fileless": rec(2, 4, 1, b"memfd:x (deleted)", flags=0x4, rule=0xfffffffe),
    "file-refer": rec(1, 2, 1, b"/a/b", flags=0x8),
    "file-flags": rec(1, 3, 0, b"\xc3\xa9t\xc3\xa9/\xff\"\\\n", flags=0x1 | 0x2 | 0x10),
    "tamper-signal": rec(3, 4, 1, b"", target=1, aux=9),
    "tamper-ptrace": rec(3, 5, 1, target=1, aux=2),
    "tamper-tty": rec(3, 6, 1, aux=0x5412),
    "tamper-bpf": rec(3, 0, 1, comm=b"0123456789abcdef"),
    "long-path": rec(1, 0, 1, b"/" + b"a" * 4095, exe=b"/" + b"e" * 4095),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
