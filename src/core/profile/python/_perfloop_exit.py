"""perfloop's "write this process's record at exit", shared by the hooks next to this file.

``sitecustomize.py`` (the profiler, ``py-<pid>.json``) and ``_perfloop_capture.py`` (behaviour
capture, ``cap-<pid>.json``) each load this file by location from their own directory, as module
``_perfloop_exit`` (registered in ``sys.modules``, so one copy serves both in a process), and give
it a function that writes their record. Never ``import`` it by name: a file of the user's program
with the same name, earlier on ``sys.path``, must not be picked up instead.

API:

* ``ExitWriter(write_record, reset_in_child=None)``: ``write_record(pid)`` writes the record of
  process ``pid`` (usually with :func:`write_json_atomic`); it returns ``False`` when there was
  nothing to write yet, and then a later exit point of the process tries again (so a record is
  not lost to an empty write at a SIGTERM that the program's own handler survives).
  ``reset_in_child()`` empties the hook's state in an ``os.fork`` child, which inherited the
  parent's. ``install()`` sets up every exit point below; ``write()`` writes (at most once per
  pid; errors swallowed); ``install_sigterm_writer()`` sets up only the SIGTERM one (``install()``
  and the ``multiprocessing`` hook call it where it applies).
* ``write_json_atomic(directory, prefix, pid, doc)``: ``<directory>/<prefix>-<pid>.json``.

When a record is written (``install()``):

* Normal interpreter exit, ``sys.exit`` and uncaught exceptions: ``atexit``.
* ``os.fork`` children (``os.register_at_fork``): ``reset_in_child`` runs first, so each process
  reports only its own work; if it raises, that child writes nothing (rather than the parent's
  data again).
* ``multiprocessing`` children started by fork or forkserver leave through ``os._exit``, which
  skips ``atexit``; for them a ``multiprocessing.util.Finalize`` with the lowest priority (so
  after their own children are joined) writes. It is registered through
  ``multiprocessing.util.register_after_fork`` because the child empties its finalizer registry
  after the fork. Children started by spawn exit through ``sys.exit`` and use ``atexit``.
* ``multiprocessing`` children (fork, forkserver, spawn) are ended with SIGTERM by
  ``Pool.terminate()`` (and so by ``with Pool() as pool:``). In them one SIGTERM handler (shared
  by every ``ExitWriter`` of the process) writes each armed writer's record, then passes the
  signal on: to the handler it replaced when that one is callable, else by dying by SIGTERM as
  before. It is not installed when SIGTERM is ignored (``SIG_IGN``) or has a handler not set from
  Python (``None``). A SIGTERM that arrives while a record is being written is held until the
  write is complete, then handled as if it had arrived then (a record is never left half done).
  Caveat of passing on to a program's own handler: if that handler lets the process live on, the
  records were written at the SIGTERM and what runs afterwards is not in them.

Nothing here raises into the user's program (but what a program's own SIGTERM handler raises
when it is passed a signal, as it would without perfloop).
"""

import os
import sys

_LOWEST_PRIORITY = -(2**30)

_armed = []  # ExitWriters whose records the SIGTERM handler writes, in arming order
_previous = None  # the SIGTERM handler ours replaced: a callable or SIG_DFL
_writing = 0  # writes in progress in this process
_deferred = None  # (signum, frame) of a SIGTERM that arrived during a write


class ExitWriter:
    """Writes one hook's record once per process at exit; see the module docstring."""

    def __init__(self, write_record, reset_in_child=None):
        self._write_record = write_record
        self._reset_in_child = reset_in_child
        self._written_pid = None  # pid whose record was written (or given up on)
        self._mp_hooked_pid = None  # pid whose multiprocessing exit hooks are installed

    def install(self):
        """Registers the writes: ``atexit``, the fork hook, and in a ``multiprocessing`` child
        started by spawn the SIGTERM handler. Call once per hook; may raise (callers guard it)."""
        import atexit

        atexit.register(self.write)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork_in_child)
        argv = getattr(sys, "orig_argv", None) or getattr(sys, "argv", None) or []
        if "--multiprocessing-fork" in argv:
            self.install_sigterm_writer()

    def write(self):
        """Writes this process's record unless it was already written (or given up on) in this
        process; errors are swallowed. Afterwards a SIGTERM held during the write is handled; only
        a program's own SIGTERM handler, passed that signal, can raise from here."""
        global _writing, _deferred
        try:
            pid = os.getpid()
            if self._written_pid == pid:
                return
            self._written_pid = pid
            _writing += 1
            try:
                if self._write_record(pid) is False:
                    self._written_pid = None
            finally:
                _writing -= 1
        except BaseException:
            pass
        if _deferred is not None and _writing == 0:
            signum, frame = _deferred
            _deferred = None
            _on_sigterm(signum, frame)

    def install_sigterm_writer(self):
        """Has SIGTERM write this writer's record first (see the module docstring). POSIX only;
        must run in the main thread; may raise (callers guard it)."""
        global _previous
        if os.name != "posix":
            return
        import signal

        current = signal.getsignal(signal.SIGTERM)
        if current is not _on_sigterm:
            if current is None or current == signal.SIG_IGN:
                return
            signal.signal(signal.SIGTERM, _on_sigterm)
            _previous = current
        if self not in _armed:
            _armed.append(self)

    def _hook_multiprocessing_child(self):
        # Runs in a multiprocessing child (fork, forkserver) after its finalizers were cleared.
        try:
            if self._mp_hooked_pid == os.getpid():
                return
            self._mp_hooked_pid = os.getpid()
            util = sys.modules.get("multiprocessing.util")
            if util is not None:
                util.Finalize(None, self.write, exitpriority=_LOWEST_PRIORITY)
            self.install_sigterm_writer()
        except Exception:
            pass

    def _after_fork_in_child(self):
        global _writing, _deferred
        _writing = 0  # a write of another thread of the parent does not go on in the child
        _deferred = None
        try:
            if self._reset_in_child is not None:
                self._reset_in_child()
        except BaseException:
            self._written_pid = os.getpid()  # the state may still be the parent's: write nothing
            return
        try:
            util = sys.modules.get("multiprocessing.util")
            if util is not None:
                # ``self`` is the weakly held token; the hook is called as ``hook(self)``.
                util.register_after_fork(self, ExitWriter._hook_multiprocessing_child)
        except Exception:
            pass


def _on_sigterm(signum, frame):
    """The SIGTERM handler: writes the armed records, then passes the signal on."""
    global _deferred
    if _writing:
        _deferred = (signum, frame)  # ExitWriter.write calls this again once the write is done
        return
    for writer in list(_armed):
        writer.write()
    previous = _previous
    if callable(previous):
        previous(signum, frame)
    else:
        _die_by(signum)


def _die_by(signum):
    import signal

    try:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    except Exception:
        pass


def write_json_atomic(directory, prefix, pid, doc):
    """Writes ``doc`` as JSON to ``<directory>/<prefix>-<pid>.json``, or to
    ``<prefix>-<pid>-<ns>.json`` when that name is taken (e.g. after pid reuse), through a
    temporary name and ``os.replace``, so a reader never sees half a file; creates ``directory``.
    Values that JSON cannot hold (nan, infinity) make it write nothing, since a reader would reject
    the file. Returns the path written. Raises on errors (``OSError``, ``ValueError``,
    ``TypeError``); ``ExitWriter.write`` swallows them."""
    import json
    import time

    text = json.dumps(doc, allow_nan=False)
    os.makedirs(directory, exist_ok=True)
    name = "%s-%d.json" % (prefix, pid)
    if os.path.exists(os.path.join(directory, name)):
        name = "%s-%d-%d.json" % (prefix, pid, time.time_ns())
    tmp = os.path.join(directory, ".%s.tmp" % name)
    final = os.path.join(directory, name)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, final)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return final
