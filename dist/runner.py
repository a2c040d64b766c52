"""perfloop's benchmark runner: one long-lived process per measurement that starts each run.

Started once per measurement (like the one long-lived nvidia-smi), so a run costs a fork and an exec
instead of an interpreter start. The runner itself is never sandboxed: it lives on the host and
every run it starts is the sandbox's argv (bubblewrap with a fresh PID namespace), so the measured
program can neither see nor signal it, nor take its descriptors (README, "Safety"). Protocol, one
JSON object per line:

  perfloop -> runner (stdin):  {"argv": [...], "cwd": "...", "env": {...}, "limit": BYTES,
                                "reapAll": BOOL, "cgroupProcs": [PATH, ...], "countFd": BOOL}
  runner -> perfloop (stdout): {"event": "ready"}                    once, at start
                               {"event": "started", "pid": N}        the run's pid (= its process group)
                               {"event": "exited", "wallMs": ..., "userMs": ..., "sysMs": ...,
                                "maxRssBytes": ..., "majorFaults": ..., "exitCode": N|null,
                                "signal": NAME|null, "stdoutSha256": HEX, "stdoutBytes": N,
                                "stderrBytes": N, "stdout": CAPTURE, "stderr": CAPTURE,
                                "count": CAPTURE|null}
  CAPTURE = {"head": BASE64, "tail": BASE64, "total": N}: the first limit/2 and the last limit/2 bytes of the
  stream; nothing else is kept in memory or on disk, however much the program prints.

stdoutSha256 is the hash of the WHOLE stdout (streamed), so the output gate can compare outputs
longer than what perfloop keeps. With "countFd", the run also gets a pipe as file descriptor 3, where
an instruction counter (perf stat --log-fd 3, valgrind --log-fd=3; src/core/measure/instructions.ts)
writes its report; "count" is what came through it (the last 1 MiB).

Wall time is taken around fork and wait (time.perf_counter_ns). CPU time and peak RSS come from the
kernel: wait4() returns the rusage of the child together with every descendant it waited for (Linux
getrusage semantics); ru_maxrss is the largest single process of those, in KiB on Linux. bubblewrap's
outer process exits as soon as the command's status is known, without reaping the sandbox's PID 1
(which reaped the command and everything else in the namespace), so the runner is a child
subreaper (prctl PR_SET_CHILD_SUBREAPER): the orphaned PID 1 is re-parented to it and, with
"reapAll", waited for too, and its rusage added. Nothing in a PID namespace outlives its PID 1, so
that wait always ends. Each run
gets its own process group, so perfloop can kill its whole tree on a timeout. The pipes are read by
a thread, so a process that outlives the run and keeps them open (possible only without a PID
namespace) costs at most DRAIN_S seconds, never a hang. The runner exits when its stdin closes.
"""
import base64
import hashlib
import json
import os
import selectors
import signal
import sys
import threading
import time
import ctypes

# prctl(2) option: orphaned descendants are re-parented to this process (Linux ≥ 3.4).
PR_SET_CHILD_SUBREAPER = 36

# Seconds the pipes may stay open after the run's process exited (see the module docstring).
DRAIN_S = 2.0


def emit(record):
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


class Capture:
    """Head and tail of one stream within `limit` bytes, its total size and (optionally) sha256."""

    def __init__(self, limit, hashed):
        self.half = limit // 2
        self.tail_limit = limit - self.half
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.digest = hashlib.sha256() if hashed else None

    def push(self, chunk):
        self.total += len(chunk)
        if self.digest is not None:
            self.digest.update(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    def encoded(self):
        return {
            "head": base64.b64encode(bytes(self.head)).decode(),
            "tail": base64.b64encode(bytes(self.tail)).decode(),
            "total": self.total,
        }


def pump(fds, captures, stop):
    """Reads every fd into its capture until all are at EOF or `stop` is set."""
    selector = selectors.DefaultSelector()
    for fd, capture in zip(fds, captures):
        selector.register(fd, selectors.EVENT_READ, capture)
    open_fds = len(fds)
    while open_fds > 0 and not stop.is_set():
        for key, _ in selector.select(timeout=0.1):
            chunk = os.read(key.fd, 1 << 16)
            if chunk:
                key.data.push(chunk)
            else:
                selector.unregister(key.fd)
                open_fds -= 1
    selector.close()


def reap_strays():
    """Reaps, without waiting, children left by earlier runs (re-parented daemons without a sandbox)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run(request):
    reap_strays()
    limit = int(request.get("limit", 1_000_000))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    count_r, count_w = os.pipe() if request.get("countFd") else (None, None)
    started = time.perf_counter_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            for procs in request.get("cgroupProcs", []):
                with open(procs, "w") as handle:  # join the run's cgroup before exec
                    handle.write(str(os.getpid()))
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            if count_w is not None:
                os.dup2(count_w, 3)
            os.closerange(4 if count_w is not None else 3, 1 << 16)
            os.chdir(request["cwd"])
            argv = request["argv"]
            os.execvpe(argv[0], argv, request["env"])
        except BaseException as error:  # noqa: BLE001 - anything here must end the child
            os.write(2, f"perfloop: cannot run {request['argv'][0]}: {error}\n".encode())
        finally:
            os._exit(127)
    os.close(out_w)
    os.close(err_w)
    if count_w is not None:
        os.close(count_w)
    emit({"event": "started", "pid": pid})
    stdout = Capture(limit, True)
    stderr = Capture(limit, False)
    count = Capture(1 << 20, False) if count_r is not None else None
    fds, captures = [out_r, err_r], [stdout, stderr]
    if count is not None:
        fds, captures = fds + [count_r], captures + [count]
    stop = threading.Event()
    reader = threading.Thread(target=pump, args=(fds, captures, stop), daemon=True)
    reader.start()
    _, status, usage = os.wait4(pid, 0)
    wall_ns = time.perf_counter_ns() - started
    try:
        os.killpg(pid, signal.SIGKILL)  # stragglers left in the run's process group
    except ProcessLookupError:
        pass
    user, system, rss, majflt = usage.ru_utime, usage.ru_stime, usage.ru_maxrss, usage.ru_majflt
    while request.get("reapAll"):
        try:
            _, _, more = os.wait4(-1, 0)
        except ChildProcessError:
            break
        user, system = user + more.ru_utime, system + more.ru_stime
        rss, majflt = max(rss, more.ru_maxrss), majflt + more.ru_majflt
    reader.join(DRAIN_S)
    stop.set()
    reader.join()
    for fd in fds:
        os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    emit({
        "event": "exited",
        "wallMs": wall_ns / 1e6,
        "userMs": user * 1000,
        "sysMs": system * 1000,
        "maxRssBytes": rss * 1024,
        "majorFaults": majflt,
        "exitCode": code if code >= 0 else None,
        "signal": signal.Signals(-code).name if code < 0 else None,
        "stdoutSha256": stdout.digest.hexdigest(),
        "stdoutBytes": stdout.total,
        "stderrBytes": stderr.total,
        "stdout": stdout.encoded(),
        "stderr": stderr.encoded(),
        "count": count.encoded() if count is not None else None,
    })


def main():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    emit({"event": "ready"})
    for line in sys.stdin:
        if line.strip():
            run(json.loads(line))


if __name__ == "__main__":
    main()
