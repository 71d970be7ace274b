#!/usr/bin/env python3
"""Benchmark: time from SIGTERM to no descendant left.

fzr runs CASES cases on SLOTS slots; each case's script detaches a `setsid`
child and a double-forked grandchild (both marked in their command line),
optionally one that ignores SIGTERM, then sleeps. Once every marked process
is up, fz gets SIGTERM twice, 100 ms apart (the first stops new cases, the
second kills the running ones); the time is taken from the first SIGTERM to
the moment fz has exited and no marked process is left (scanned in /proc).

Usage: python3 bench/procs.py
Environment: FZ_BIN (default target/debug/fz), BENCH_REPEAT (default 5),
BENCH_CASES (default 4), BENCH_SLOTS (default 4).
"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FZ = os.environ.get("FZ_BIN", os.path.join(ROOT, "target", "debug", "fz"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
CASES = int(os.environ.get("BENCH_CASES", "4"))
SLOTS = int(os.environ.get("BENCH_SLOTS", "4"))


def marked(mark):
    """Pids of live processes whose command line contains `mark`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if mark.encode() not in f.read():
                    continue
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.append(int(name))
    return found


def script(mark, stubborn):
    lines = [
        "#!/bin/bash",
        f"setsid bash -c 'sleep 300; : {mark}' &",
        f"( bash -c 'sleep 300; : {mark}' & )",
    ]
    if stubborn:
        lines.append(f"setsid bash -c 'trap \"\" TERM; sleep 300; : {mark}' &")
    lines.append("sleep 300")
    return "\n".join(lines) + "\n"


def one(work, mark, stubborn):
    with open(os.path.join(work, "calc.sh"), "w") as f:
        f.write(script(mark, stubborn))
    per_case = 3 if stubborn else 2
    cmd = [FZ, "run", "input.txt", "-v", '{"x": [%s]}' % ",".join(map(str, range(CASES))),
           "-r", os.path.join(work, "results"), "--no-progress"]
    for _ in range(SLOTS):
        cmd += ["-c", "sh://bash calc.sh"]
    fz = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until = time.time() + 60
    while len(marked(mark)) < per_case * min(CASES, SLOTS):
        if time.time() > until:
            fz.kill()
            sys.exit("the marked processes never all started")
        time.sleep(0.02)
    t0 = time.monotonic()
    fz.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    fz.send_signal(signal.SIGTERM)
    fz.wait()
    while marked(mark):
        if time.monotonic() - t0 > 60:
            sys.exit(f"survivors after 60 s: {marked(mark)}")
        time.sleep(0.005)
    return time.monotonic() - t0


def main():
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "input.txt"), "w") as f:
            f.write("x=$x\n")
        for stubborn in (False, True):
            times = []
            for i in range(REPEAT):
                mark = f"fzbench{os.getpid()}x{int(stubborn)}x{i}"
                times.append(one(work, mark, stubborn))
            kind = "with a SIGTERM-ignoring detached child" if stubborn else "detached children"
            print(f"{CASES} cases on {SLOTS} slots, {kind}: SIGTERM -> none left: "
                  f"median {statistics.median(times):.2f} s, max {max(times):.2f} s "
                  f"({REPEAT} runs)")


if __name__ == "__main__":
    main()
