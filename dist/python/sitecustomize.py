"""perfloop's profiling hook, imported by Python at start-up as ``sitecustomize``.

perfloop puts this file's directory first on ``PYTHONPATH`` and sets ``PERFLOOP_PROFILE_DIR``
(see ``python.ts``). Every Python process of the profiled command, children included, inherits
both, so ``site`` imports this module in each of them before the program starts. Then:

* A ``cProfile.Profile`` is enabled right away (wall-clock timer, cProfile's default).
* At exit the profile is written to ``<PERFLOOP_PROFILE_DIR>/py-<pid>.json`` (or
  ``py-<pid>-<ns>.json`` if that name is taken, e.g. after pid reuse) as
  ``{"pid", "argv", "total_s", "torch", "functions": [{"file", "line", "function", "calls",
  "primitive_calls", "tottime_s", "cumtime_s", "callers"}]}``: one entry per key of ``pstats``'
  ``stats`` dict (``calls`` = ``nc``, ``primitive_calls`` = ``cc``, seconds), ``total_s`` the
  sum of ``tottime_s`` (a profile holding nan or infinity is not written), ``torch`` whether the
  process had imported ``torch`` by then (perfloop then records a PyTorch trace in a run of its
  own). ``callers`` is the
  entry's ``pstats`` callers dict as a list of ``[caller_index, calls, primitive_calls,
  tottime_s, cumtime_s]``: ``caller_index`` is the caller's position in ``functions``, and the
  times are this function's own (``tottime_s``) and cumulative (``cumtime_s``) time in the calls
  made from that caller (cProfile's per-edge ``(nc, cc, tt, ct)``). perfloop rebuilds
  approximate call stacks from these edges (``src/core/profile/python-stacks.ts``): cProfile
  records no stacks. A function whose callers cannot be listed gets ``[]`` (it then reads as a
  root). Files are written to
  a temporary name and renamed, so a reader never sees half a file. Relative ``co_filename``s
  (modules imported via a relative ``sys.path`` entry, e.g. under ``python -c``) are made
  absolute against the start-up directory.
* Writing never raises into the user's program: every error is swallowed.

When the profile is written: by ``_perfloop_exit.py`` (next to this file, loaded by location
as module ``_perfloop_exit`` and shared with behaviour capture), whose docstring has the details:

* Normal interpreter exit, ``sys.exit`` and uncaught exceptions: ``atexit``.
* ``os.fork`` children (``os.register_at_fork``): the inherited profiler (which holds the
  parent's data) is replaced by a fresh one, so each process reports only its own time.
* ``multiprocessing`` children started by fork or forkserver leave through ``os._exit``, which
  skips ``atexit``; for them a ``multiprocessing.util.Finalize`` (lowest priority, so after
  their own children are joined) writes the profile. Children started by spawn exit through
  ``sys.exit`` and use ``atexit``.
* ``multiprocessing`` children are ended with SIGTERM by ``Pool.terminate()`` (and so by
  ``with Pool() as pool:``); in them a SIGTERM handler writes the profile and then passes the
  signal on: to the program's own handler if SIGTERM had one (its process may then live on
  with a profile that ends at the SIGTERM), else by dying by SIGTERM as before. An ignored
  SIGTERM is left alone.

Limits: processes killed by a signal (other than the case above), processes that call
``os._exit`` themselves, and processes started with ``-S``, ``-I`` or ``-E`` (no
``sitecustomize`` or no ``PYTHONPATH``) write no profile. Programs run under
``python -m cProfile``/``-m profile`` are left alone (only one profiler can be active;
detected from ``sys.orig_argv``, Python >= 3.10). Processes that outlive the command (e.g.
multiprocessing's resource tracker) write after it ends and may be missed by the reader.
Threads: on Python < 3.12 each ``threading`` thread gets its own profiler
(``threading.setprofile``) and all are merged at exit, but a thread still running at exit
contributes only its finished calls; on Python >= 3.12 cProfile (``sys.monitoring``) sees
every thread by itself, through one shared call stack, so times of concurrently running
threads are approximate there. Checked on CPython 3.8, 3.10, 3.11, 3.12 and 3.13 (Linux).

Chaining: by being first on ``PYTHONPATH`` this module shadows any ``sitecustomize`` the user
already had (another ``PYTHONPATH`` entry, site-packages, the distribution's). After starting
the profiler it therefore looks ``sitecustomize`` up again on ``sys.path`` without this
directory (nor that of any other copy of this hook already run, so two perfloop installs on
the path cannot chain to each other forever) and, if found, executes it as
``sys.modules["sitecustomize"]``, exactly as ``site`` would have; its errors propagate to
``site``, which reports them as it always does. This module stays importable as
``_perfloop_sitecustomize``.

PyTorch trace: when ``PERFLOOP_TORCH_DIR`` is set and ``PERFLOOP_PROFILE_DIR`` is not, the first
copy of this hook loads ``_perfloop_torch.py`` from its own directory and calls its ``install()``
(its docstring has the details): a ``torch.profiler`` trace per process, written at exit.

Behaviour capture: when ``PERFLOOP_CAPTURE_DIR`` is set (see ``src/core/behaviour/capture.ts``),
the first copy of this hook also loads ``_perfloop_capture.py`` from its own directory (as module
``_perfloop_capture``) and calls its ``install()``, before chaining to the user's
``sitecustomize``: the functions named in ``PERFLOOP_CAPTURE_TARGETS`` record their arguments and
results into ``<PERFLOOP_CAPTURE_DIR>/cap-<pid>.json`` at exit. Independent of profiling (either,
both or neither may be on); its errors are swallowed like the profiler's.
"""

import os
import sys

_HERE = os.path.normcase(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))
_HOOK_DIRS = set()  # in the first copy: directories of every copy of this hook seen
_profilers = []  # [(thread ident, cProfile.Profile)] of this process
_exit = None  # the shared ``_perfloop_exit`` module, once profiling is set up
_out_dir = None
_start_cwd = None


def _start_profiler():
    import _thread
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    _profilers.append((_thread.get_ident(), profiler))


def _thread_hook(frame, event, arg):
    # First profile event of a new threading.Thread (Python < 3.12): give it a profiler.
    sys.setprofile(None)
    try:
        _start_profiler()
    except Exception:
        pass


def _collect():
    """Merges this process's profilers into one ``pstats``-style dict: key -> ``(cc, nc, tt, ct,
    callers)``, ``callers`` a dict caller key -> ``(nc, cc, tt, ct)`` (cProfile's edge order)."""
    import _thread

    me = _thread.get_ident()
    merged = {}
    for ident, profiler in list(_profilers):
        if ident == me:
            profiler.disable()  # also closes the calls still open, at the current time
        profiler.snapshot_stats()  # ``pstats.Stats(profiler).stats`` without disabling others
        for key, (cc, nc, tt, ct, callers) in profiler.stats.items():
            if key in merged:
                pcc, pnc, ptt, pct, pcallers = merged[key]
                merged[key] = (pcc + cc, pnc + nc, ptt + tt, pct + ct, _merge_callers(pcallers, callers))
            else:
                merged[key] = (cc, nc, tt, ct, _merge_callers({}, callers))
    return merged


def _merge_callers(into, callers):
    # The edges are only for the stacks perfloop rebuilds: one odd value must not cost the
    # function times, so anything unexpected is left out (``None``: the function lists no callers).
    if into is None:
        return None
    try:
        for caller, edge in callers.items():
            if not isinstance(edge, tuple) or len(edge) != 4:
                continue  # ``profile`` (not cProfile) keeps a bare call count here
            prev = into.get(caller)
            into[caller] = edge if prev is None else tuple(a + b for a, b in zip(prev, edge))
        return into
    except Exception:
        return None


def _caller_rows(callers, index):
    """``[caller_index, calls, primitive_calls, tottime_s, cumtime_s]`` per known caller."""
    rows = []
    try:
        for caller, (nc, cc, tt, ct) in (callers or {}).items():
            i = index.get(caller)
            if i is not None:
                rows.append([i, nc, cc, tt, ct])
    except Exception:
        return []
    return rows


def _absolute(filename):
    if filename == "~" or filename.startswith("<") or os.path.isabs(filename) or not _start_cwd:
        return filename
    return os.path.normpath(os.path.join(_start_cwd, filename))


def _write_record(pid):
    if not _profilers:
        return False  # no profiler (yet): a later exit point of this process may have one
    functions = []
    total = 0.0
    merged = _collect()
    index = {key: i for i, key in enumerate(merged)}
    for (filename, line, name), (cc, nc, tt, ct, callers) in merged.items():
        total += tt
        functions.append(
            {
                "file": _absolute(filename),
                "line": line,
                "function": name,
                "calls": nc,
                "primitive_calls": cc,
                "tottime_s": tt,
                "cumtime_s": ct,
                "callers": _caller_rows(callers, index),
            }
        )
    argv = list(getattr(sys, "orig_argv", None) or sys.argv or [])
    doc = {
        "pid": pid,
        "argv": [str(a) for a in argv],
        "total_s": total,
        "torch": "torch" in sys.modules,
        "functions": functions,
    }
    _exit.write_json_atomic(_out_dir, "py", pid, doc)


def _reset_in_child():
    # The inherited profiler holds the parent's data: stop it and start a fresh one.
    global _profilers
    import _thread

    me = _thread.get_ident()
    for ident, profiler in _profilers:
        if ident == me:
            profiler.disable()
    _profilers = []
    _start_profiler()


def _load_sibling(name):
    """The module ``name`` from this file's directory, by location (registered in ``sys.modules``
    under ``name``): a file of the user's program with the same name, earlier on ``sys.path``, is
    never picked up instead."""
    import importlib.util

    module = sys.modules.get(name)
    if module is None:
        where = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
        spec = importlib.util.spec_from_file_location(name, where)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _run_under_other_profiler():
    argv = list(getattr(sys, "orig_argv", None) or [])
    for i, arg in enumerate(argv[:-1]):
        if arg == "-m" and argv[i + 1] in ("cProfile", "profile"):
            return True
    return False


def _setup(directory):
    global _exit, _out_dir, _start_cwd

    _exit = _load_sibling("_perfloop_exit")
    exit_writer = _exit.ExitWriter(_write_record, _reset_in_child)
    _out_dir = os.path.abspath(directory)
    try:
        _start_cwd = os.getcwd()
    except OSError:
        _start_cwd = None
    _start_profiler()
    exit_writer.install()  # atexit, fork and multiprocessing hooks
    if sys.version_info < (3, 12):
        import threading

        threading.setprofile(_thread_hook)


def _chain_user_sitecustomize():
    """Executes the ``sitecustomize`` this module shadows, if there is one."""
    import importlib.machinery

    hook_dirs = _first._HOOK_DIRS
    hook_dirs.add(_HERE)
    path = []
    for entry in sys.path:
        try:
            if os.path.normcase(os.path.realpath(entry or os.curdir)) in hook_dirs:
                continue
        except (OSError, ValueError):
            pass
        path.append(entry)
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    import importlib.util

    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


# A second copy of this hook (another perfloop install on the path, reached by chaining) neither
# profiles again nor chains back to a copy already run.
_first = sys.modules.setdefault("_perfloop_sitecustomize", sys.modules[__name__])
_wanted = os.environ.get("PERFLOOP_PROFILE_DIR")
if _first is sys.modules[__name__] and _wanted and not _run_under_other_profiler():
    try:
        _setup(os.environ["PERFLOOP_PROFILE_DIR"])
    except Exception:
        pass


if _first is sys.modules[__name__] and os.environ.get("PERFLOOP_TORCH_DIR") and not _wanted:
    try:
        _load_sibling("_perfloop_torch").install(
            os.environ["PERFLOOP_TORCH_DIR"], _load_sibling("_perfloop_exit")
        )
    except Exception:
        pass


if _first is sys.modules[__name__] and os.environ.get("PERFLOOP_CAPTURE_DIR"):
    try:
        _load_sibling("_perfloop_capture").install()
    except Exception:
        pass
_chain_user_sitecustomize()
