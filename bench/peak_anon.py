#!/usr/bin/env python3
"""Run a command and report its wall time and peak anonymous memory.

Usage: bench/peak_anon.py CMD [ARGS...]

Peak anonymous memory is the largest RssAnon seen in /proc/PID/status, sampled every
millisecond: the memory the process allocated itself, beyond the pages of files it maps
(a memory-mapped core counts in RssFile, not here). Prints one line:
    wall_s=0.081 peak_anon_kb=12345 maxrss_kb=61344
"""
import os
import resource
import subprocess
import sys
import time


def rss_anon_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    start = time.perf_counter()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    peak = 0
    while p.poll() is None:
        peak = max(peak, rss_anon_kb(p.pid))
        time.sleep(0.001)
    wall = time.perf_counter() - start
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode != 0:
        sys.exit(f"command failed with exit code {p.returncode}")
    print(f"wall_s={wall:.3f} peak_anon_kb={peak} maxrss_kb={maxrss}")


if __name__ == "__main__":
    main()
