"""perfloop's benchmark runner: one long-lived process per measurement that starts each run.

Started once per measurement (like the one long-lived nvidia-smi), so a run costs a fork and an exec
instead of an interpreter start. Protocol, one JSON object per line:

  perfloop -> runner (stdin):  {"argv": [...], "cwd": "...", "env": {...}, "stdout": PATH, "stderr": PATH}
  runner -> perfloop (stdout): {"event": "ready"}                    once, at start
                               {"event": "started", "pid": N}        the run's pid (= its process group)
                               {"event": "exited", "wallMs": ..., "userMs": ..., "sysMs": ...,
                                "maxRssBytes": ..., "majorFaults": ..., "exitCode": N|null,
                                "signal": NAME|null, "stdoutSha256": HEX, "stdoutBytes": N}

stdoutSha256 is the hash of the WHOLE stdout file, so the output gate can compare outputs longer
than what perfloop keeps in memory.

Wall time is taken around fork and wait (time.perf_counter_ns). CPU time and peak RSS come from the
kernel: wait4() returns the rusage of the child together with every descendant it waited for (Linux
getrusage semantics); ru_maxrss is the largest single process of those, in KiB on Linux. Each run
gets its own process group, so perfloop can kill its whole tree on a timeout. The runner exits when
its stdin closes.
"""
import hashlib
import json
import os
import signal
import sys
import time


def emit(record):
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def run(request):
    stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    started = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            os.dup2(stdout, 1)
            os.dup2(stderr, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.chdir(request["cwd"])
            argv = request["argv"]
            os.execvpe(argv[0], argv, request["env"])
        except BaseException as error:  # noqa: BLE001 - anything here must end the child
            os.write(2, f"perfloop: cannot run {request['argv'][0]}: {error}\n".encode())
        finally:
            os._exit(127)
    os.close(stdout)
    os.close(stderr)
    emit({"event": "started", "pid": pid})
    _, status, usage = os.wait4(pid, 0)
    wall_ns = time.perf_counter_ns() - started
    code = os.waitstatus_to_exitcode(status)
    digest = hashlib.sha256()
    with open(request["stdout"], "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    emit({
        "event": "exited",
        "wallMs": wall_ns / 1e6,
        "userMs": usage.ru_utime * 1000,
        "sysMs": usage.ru_stime * 1000,
        "maxRssBytes": usage.ru_maxrss * 1024,
        "majorFaults": usage.ru_majflt,
        "exitCode": code if code >= 0 else None,
        "signal": signal.Signals(-code).name if code < 0 else None,
        "stdoutSha256": digest.hexdigest(),
        "stdoutBytes": os.path.getsize(request["stdout"]),
    })


def main():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    emit({"event": "ready"})
    for line in sys.stdin:
        if line.strip():
            run(json.loads(line))


if __name__ == "__main__":
    main()
