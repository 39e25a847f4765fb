#!/usr/bin/env python3
"""Time whole commands against each other, interleaved, and report paired ratios.

usage: pairtime.py [--runs R] [--warmup W] [--json FILE] NAME=COMMAND [NAME=COMMAND ...]

COMMAND is split into words with shlex and executed directly, without a shell (for a
pipeline, say so: "sh -c 'a | b'"); its stdin, stdout and stderr are /dev/null.  The
commands take turns, one round being A B C, so a machine that speeds up or slows down
mid-benchmark affects all of them about equally.  The first W rounds (default 1) warm
caches and are thrown away; the next R (default 10) are kept.

Per command: wall seconds (min, median, max; time.monotonic() read just before fork and
just after wait4 returns), the median user and system CPU seconds (from wait4's rusage,
which includes the descendants the command itself waited for), the peak RSS in MiB, and
the exit codes seen.  Then, for the FIRST command against each of the others, the
median, min and max of the ratios first/other taken within each round.

--json FILE also writes
  {"runs": R,
   "commands": {NAME: {"cmd", "wall_min", "wall_median", "wall_max", "user_median",
                       "sys_median", "peak_mib", "exit_codes"}},
   "ratios": {"FIRST/NAME": {"min", "median", "max"}}}
Needs Python 3.9+ and nothing outside the standard library.
"""

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def timed_run(argv):
    """Run argv once; return wall, user and sys seconds and the exit code."""
    null_in = os.open(os.devnull, os.O_RDONLY)
    null_out = os.open(os.devnull, os.O_WRONLY)
    try:
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child: plumbing, then become the command
            try:
                os.dup2(null_in, 0)
                os.dup2(null_out, 1)
                os.dup2(null_out, 2)
                os.execvp(argv[0], argv)
            except BaseException:
                pass
            os._exit(127)
        try:
            _, status, usage = os.wait4(pid, 0)
        except BaseException:  # Ctrl-C: leave no child behind
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        wall = time.monotonic() - start
    finally:
        os.close(null_in)
        os.close(null_out)
    return {
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "rc": os.waitstatus_to_exitcode(status),
    }


def peak_rss_mib(argv):
    """Peak RSS of one extra, untimed run, as GNU time reports it (%M, in KiB).

    Not wait4's ru_maxrss: our child starts life as a fork of this Python process and
    ru_maxrss is the high-water mark of the whole process lifetime, so the interpreter's
    pages from before exec() would be counted and even a tiny C program would look as big
    as Python.  /usr/bin/time forks from a small C process, so its figure is the
    command's own (plus about a MiB of its own floor).  None when it is not available.
    """
    if not os.access(GNU_TIME, os.X_OK):
        return None
    with tempfile.NamedTemporaryFile(mode="r", prefix="pairtime.", suffix=".rss") as out:
        try:
            subprocess.run(
                [GNU_TIME, "-f", "%M", "-o", out.name, *argv],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        except OSError:
            return None
        words = out.read().split()
    # with -o the last line is ours; a non-zero exit adds a "Command exited ..." line first
    try:
        return int(words[-1]) / 1024.0
    except (IndexError, ValueError):
        return None


def spread(values):
    return min(values), statistics.median(values), max(values)


def parse_commands(parser, specs):
    commands = []
    for spec in specs:
        name, sep, cmd = spec.partition("=")
        if not sep or not name or not cmd.strip():
            parser.error(f"expected NAME=COMMAND, got {spec!r}")
        if any(name == c[0] for c in commands):
            parser.error(f"command name {name!r} given twice")
        commands.append((name, cmd, shlex.split(cmd)))
    return commands


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Interleaved whole-process timing with paired ratios.")
    parser.add_argument("--runs", type=int, default=10, help="counted rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    commands = parse_commands(parser, args.commands)

    kept = {name: [] for name, _, _ in commands}
    for round_no in range(args.warmup + args.runs):
        for name, _, words in commands:
            result = timed_run(words)
            if round_no >= args.warmup:
                kept[name].append(result)

    report = {"runs": args.runs, "commands": {}, "ratios": {}}
    print(f"{'command':<13}{'wall s: min':>12}{'median':>9}{'max':>9}"
          f"{'user s':>9}{'sys s':>9}{'peak MiB':>10}  exit")
    for name, cmd, words in commands:
        rounds = kept[name]
        lo, mid, hi = spread([r["wall"] for r in rounds])
        user = statistics.median(r["user"] for r in rounds)
        system = statistics.median(r["sys"] for r in rounds)
        peak = peak_rss_mib(words)
        codes = sorted({r["rc"] for r in rounds})
        report["commands"][name] = {
            "cmd": cmd, "wall_min": lo, "wall_median": mid, "wall_max": hi,
            "user_median": user, "sys_median": system, "peak_mib": peak,
            "exit_codes": codes,
        }
        peak_text = "n/a" if peak is None else f"{peak:.1f}"
        print(f"{name:<13}{lo:>12.4f}{mid:>9.4f}{hi:>9.4f}{user:>9.3f}{system:>9.3f}"
              f"{peak_text:>10}  {','.join(str(c) for c in codes)}")

    base = commands[0][0]
    for name, _, _ in commands[1:]:
        ratios = [a["wall"] / b["wall"] for a, b in zip(kept[base], kept[name]) if b["wall"] > 0]
        if not ratios:
            continue
        lo, mid, hi = spread(ratios)
        report["ratios"][f"{base}/{name}"] = {"min": lo, "median": mid, "max": hi}
        print(f"ratio {base}/{name}: median {mid:.3f} (min {lo:.3f}, max {hi:.3f}; "
              f"one ratio per round)")

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
            fh.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("pairtime: interrupted", file=sys.stderr)
        sys.exit(130)
