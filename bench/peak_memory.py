#!/usr/bin/env python3
"""Where a command's resident memory is at its peak: runs it, samples /proc/PID/smaps whenever
its RSS grows, and prints the largest sample by mapping (the binary, libraries, anonymous
memory, and how much of that is transparent huge pages), with the thread count at that moment.

    python3 bench/peak_memory.py target/release/ferry run --state /tmp/s.db /tmp/small.yaml

Sampling misses what lives for less than a sample (a few ms); GNU time's %M is the exact peak.
"""

import re
import subprocess
import sys


def rows_of(smaps):
    """(name, rss KiB, anonymous huge pages KiB) for every mapping of an smaps text."""
    rows = []
    for line in smaps.splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            fields = line.split()
            rows.append([fields[5] if len(fields) > 5 else "[anonymous]", 0, 0])
        elif line.startswith("Rss:"):
            rows[-1][1] = int(line.split()[1])
        elif line.startswith("AnonHugePages:"):
            rows[-1][2] = int(line.split()[1])
    return rows


def main():
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, peak_smaps, peak_threads = 0, "", 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status_file:
                status = status_file.read()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            if rss > peak:
                with open(f"/proc/{process.pid}/smaps") as smaps_file:
                    peak_smaps = smaps_file.read()
                peak = rss
                peak_threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
        except (OSError, AttributeError):
            pass  # The process ended between two reads.
    process.wait()
    totals = {}
    for name, rss, huge in rows_of(peak_smaps):
        total = totals.setdefault(name, [0, 0])
        total[0] += rss
        total[1] += huge
    print(f"largest sampled RSS {peak / 1024:.1f} MiB, {peak_threads} threads then")
    for name, (rss, huge) in sorted(totals.items(), key=lambda item: -item[1][0])[:8]:
        print(f"{rss / 1024:8.1f} MiB  (huge pages {huge / 1024:5.1f} MiB)  {name}")


if __name__ == "__main__":
    main()
