#!/usr/bin/env python3
"""Check one core directory made by scripts/make-cores.sh or bench/make-core.sh.

Checks that DIR/core is an ELF core file of process PID running EXE (from its
NT_PRPSINFO and NT_FILE notes), that DIR/sidecar.json follows the sidecar
schema and belongs to the same process, and that DIR/traceback.txt is the
traceback of the expected crash. Prints a one-line summary on success; on
failure prints the problems on stderr and exits 1. Standard library only.
"""

import argparse
import json
import os
import struct
import sys

ET_CORE = 4
PT_LOAD = 1
PT_NOTE = 4
NT_PRSTATUS = 1
NT_PRPSINFO = 3
NT_FILE = 0x46494C45

# runtime.MemStats.BySize sizes: size classes 0..60 (Go 1.21-1.27).
BY_SIZE = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
    240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896,
    1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
    4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432,
]
MEMSTATS = [
    "Alloc", "TotalAlloc", "Sys", "Mallocs", "Frees", "HeapAlloc", "HeapSys",
    "HeapIdle", "HeapInuse", "HeapReleased", "HeapObjects", "StackInuse",
    "StackSys", "MSpanInuse", "MCacheInuse", "NumGC",
]
# Modes other than "unflushed" allocate nothing after ReadMemStats that the sidecar counts.
POST_ALLOC = {"flushed": {"size": 0, "count": 0}, "unflushed": {"size": 64, "count": 50}}


class Bad(Exception):
    pass


def elf_header(f):
    ident = f.read(64)
    if len(ident) < 64 or ident[:4] != b"\x7fELF":
        raise Bad("not an ELF file")
    if ident[4] != 2 or ident[5] != 1:
        raise Bad("not a 64-bit little-endian ELF file")
    e_type, e_machine = struct.unpack_from("<HH", ident, 16)
    e_phoff, = struct.unpack_from("<Q", ident, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", ident, 54)
    return e_type, e_machine, e_phoff, e_phentsize, e_phnum


def read_core(path):
    """Returns (e_machine, number of PT_LOADs, list of (type, desc) notes)."""
    with open(path, "rb") as f:
        e_type, e_machine, phoff, phentsize, phnum = elf_header(f)
        if e_type != ET_CORE:
            raise Bad(f"ELF type is {e_type}, not ET_CORE")
        f.seek(phoff)
        phdrs = f.read(phentsize * phnum)
        loads, notes = 0, []
        for i in range(phnum):
            p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from(
                "<IIQQQQ", phdrs, i * phentsize)
            if p_type == PT_LOAD:
                loads += 1
            elif p_type == PT_NOTE:
                f.seek(p_offset)
                data = f.read(p_filesz)
                off = 0
                while off + 12 <= len(data):
                    namesz, descsz, ntype = struct.unpack_from("<III", data, off)
                    off += 12 + (namesz + 3) // 4 * 4
                    notes.append((ntype, data[off:off + descsz]))
                    off += (descsz + 3) // 4 * 4
    return e_machine, loads, notes


def exe_machine(path):
    with open(path, "rb") as f:
        return elf_header(f)[1]


def check_core(args, problems):
    core = os.path.join(args.dir, "core")
    machine, loads, notes = read_core(core)
    if machine != exe_machine(args.exe):
        problems.append(f"core e_machine {machine} differs from the executable's")
    if loads == 0:
        problems.append("core has no PT_LOAD segments")
    threads = sum(1 for t, _ in notes if t == NT_PRSTATUS)
    if threads == 0:
        problems.append("core has no NT_PRSTATUS notes")
    psinfo = [d for t, d in notes if t == NT_PRPSINFO]
    if not psinfo:
        problems.append("core has no NT_PRPSINFO note")
    else:
        # struct elf_prpsinfo (x86-64 and arm64): pr_pid at 24, pr_fname[16] at 40.
        pid, = struct.unpack_from("<i", psinfo[0], 24)
        fname = psinfo[0][40:56].split(b"\0")[0].decode(errors="replace")
        if pid != args.pid:
            problems.append(f"core is of pid {pid}, expected {args.pid}")
        want = os.path.basename(args.exe)[:15]
        if fname != want:
            problems.append(f"core is of command {fname!r}, expected {want!r}")
    files = [d for t, d in notes if t == NT_FILE]
    if files:
        count, _page = struct.unpack_from("<QQ", files[0], 0)
        names = files[0][16 + 24 * count:].split(b"\0")[:count]
        exe = os.path.realpath(args.exe).encode()
        if exe not in names:
            problems.append(f"core's NT_FILE does not map {exe.decode()}")
    elif args.method == "kernel":
        problems.append("core has no NT_FILE note")
    return threads, loads


def check_sidecar(args, problems):
    with open(os.path.join(args.dir, "sidecar.json")) as f:
        try:
            sc = json.load(f)
        except ValueError as e:
            raise Bad(f"sidecar.json is not valid JSON: {e}")

    def want(cond, msg):
        if not cond:
            problems.append("sidecar: " + msg)

    want(sc.get("program") == args.program, f"program is {sc.get('program')!r}")
    want(sc.get("mode") == args.mode, f"mode is {sc.get('mode')!r}")
    want(isinstance(sc.get("go_version"), str) and sc["go_version"].startswith(args.go_version or "go"),
         f"go_version is {sc.get('go_version')!r}")
    want(isinstance(sc.get("goarch"), str), "goarch missing")
    want(sc.get("pid") == args.pid, f"pid is {sc.get('pid')}, expected {args.pid}")
    ms = sc.get("memstats", {})
    for k in MEMSTATS:
        want(isinstance(ms.get(k), int) and ms[k] >= 0, f"memstats.{k} missing or not an integer")
    if not problems:
        want(ms["Alloc"] == ms["HeapAlloc"] > 0, "Alloc != HeapAlloc")
        want(ms["HeapObjects"] == ms["Mallocs"] - ms["Frees"], "HeapObjects != Mallocs - Frees")
        want(ms["NumGC"] >= 2, "NumGC < 2")
    bs = sc.get("by_size")
    want(isinstance(bs, list) and [e.get("size") for e in bs] == BY_SIZE, "by_size sizes are wrong")
    if isinstance(bs, list):
        for e in bs:
            want(all(isinstance(e.get(k), int) for k in ("mallocs", "frees")) and e["mallocs"] >= e["frees"],
                 f"by_size entry {e} is wrong")
    want(sc.get("post_alloc") == POST_ALLOC.get(args.mode, POST_ALLOC["flushed"]), f"post_alloc is {sc.get('post_alloc')}")
    return sc


def check_traceback(args, problems):
    with open(os.path.join(args.dir, "traceback.txt"), errors="replace") as f:
        tb = f.read()
    if args.method == "kernel":
        want = f"panic: {args.program}: deliberate crash"
    else:
        want = "SIGABRT"
    if want not in tb:
        problems.append(f"traceback.txt does not contain {want!r}")
    if "main.crashInner" not in tb:
        problems.append("traceback.txt does not show main.crashInner")
    return tb.count("\ngoroutine ") + tb.startswith("goroutine ")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--exe", required=True)
    ap.add_argument("--pid", required=True, type=int)
    ap.add_argument("--program", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--method", choices=["kernel", "gcore"], default="kernel")
    ap.add_argument("--go-version", help="expected prefix of the sidecar's go_version")
    args = ap.parse_args()
    problems = []
    try:
        threads, loads = check_core(args, problems)
        sc = check_sidecar(args, problems)
        goroutines = check_traceback(args, problems)
    except (Bad, OSError) as e:
        problems.append(str(e))
    if problems:
        for p in problems:
            print(f"{args.dir}: {p}", file=sys.stderr)
        sys.exit(1)
    ms = sc["memstats"]
    print(f"pid {args.pid}, {threads} threads, {loads} segments, {goroutines} goroutines, "
          f"HeapAlloc {ms['HeapAlloc']}, {ms['HeapObjects']} objects")


if __name__ == "__main__":
    main()
