"""Runs one command and writes its whole-run accounting as JSON (perfloop's rusage wrapper).

usage: python3 rusage.py OUT.json -- ARGV...

Wall time is taken around fork and wait (time.perf_counter_ns), so Python's own start-up is not in
it. CPU time and peak RSS come from the kernel: wait4() returns the rusage of the child together with
every descendant it waited for (Linux getrusage semantics); ru_maxrss is the largest single process
of those, in KiB on Linux. The wrapper exits with the child's exit status so callers see it unchanged.
"""
import json
import os
import signal
import sys
import time


def main() -> int:
    out, sep, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    if sep != "--" or not argv:
        print("usage: rusage.py OUT.json -- ARGV...", file=sys.stderr)
        return 2
    # Forward SIGTERM to the child so a timeout reaches the measured program, not just us.
    started = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            print(f"perfloop: cannot run {argv[0]}: {error}", file=sys.stderr)
            os._exit(127)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
    _, status, usage = os.wait4(pid, 0)
    wall_ns = time.perf_counter_ns() - started
    exit_code = os.waitstatus_to_exitcode(status)
    record = {
        "wallMs": wall_ns / 1e6,
        "userMs": usage.ru_utime * 1000,
        "sysMs": usage.ru_stime * 1000,
        "maxRssBytes": usage.ru_maxrss * 1024,
        "majorFaults": usage.ru_majflt,
        "exitCode": exit_code if exit_code >= 0 else None,
        "signal": signal.Signals(-exit_code).name if exit_code < 0 else None,
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    return exit_code if exit_code >= 0 else 128 - exit_code


if __name__ == "__main__":
    sys.exit(main())
