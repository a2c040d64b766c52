"""perfloop's PyTorch trace hook: a ``torch.profiler`` trace of the program, written at exit.

Loaded by ``sitecustomize.py`` (by location, as module ``_perfloop_torch``) when
``PERFLOOP_TORCH_DIR`` is set. perfloop sets it only in a profiling run of its own, without
cProfile (``PERFLOOP_PROFILE_DIR`` unset): ``with_stack`` and cProfile both need CPython's one
profile hook per thread (torch 1.13 then fails with "Python replay stack is empty"), and cProfile's
overhead would inflate the host time between kernels. See ``src/core/loop/torch-trace-run.ts``.

What it records:

* The profiler starts when ``torch`` has been imported (a ``sys.meta_path`` finder wraps the
  loader of ``torch``; nothing is imported that the program does not import itself), with the CPU
  activity, the CUDA activity when ``torch.cuda.is_available()``, ``record_shapes``,
  ``with_stack`` and ``with_flops``.
* A bounded window of steps, when ``PERFLOOP_TORCH_STEP`` names the program's step function
  (``package.module:function`` or ``package.module:Class.method``): the first
  ``PERFLOOP_TORCH_SKIP`` calls (default 1, warm-up) are not recorded, the next
  ``PERFLOOP_TORCH_STEPS`` (default 5) are. Without it: from the import of ``torch`` to exit.
* At exit (``_perfloop_exit``'s exit points; the profiler must be stopped by the thread that
  started it, and ``atexit`` runs on the main thread) the trace is written to
  ``<PERFLOOP_TORCH_DIR>/torch-<pid>.json``:
  - with Kineto (every PyTorch wheel): ``export_chrome_trace``, the Chrome/Perfetto trace JSON;
  - without Kineto (e.g. Debian's ``python3-torch``, built without it): the legacy autograd
    profiler's events, written in Kineto's layout (``cat: "cpu_op"``, ``args["Input Dims"]``,
    ``args["Call stack"]`` innermost frame first, as Kineto traces of torch 1.8–1.10 had it),
    marked ``"perfloopRecorder": "legacy"``.
* A process forked from a traced one writes nothing (it holds the parent's profiler state).
* Starting the profiler with the CUDA activity initialises CUDA in that process: a program whose
  parent imports torch but leaves CUDA to forked children (CUDA cannot be used after a fork once
  initialised) fails in this run; name a step function that runs in the child, or set
  ``profile.torch: off``.
* The legacy layout keeps at most 300,000 events (the earliest); a Kineto export is written whole,
  and perfloop refuses to read one over 512 MiB: name a step function for long programs.

Nothing here raises into the user's program: every error is swallowed, and the program then runs
without a trace.
"""

import os
import sys

_state = {"prof": None, "kineto": False, "dir": None, "calls": 0, "stopped": False, "pid": None}


def _env_int(name, default):
    try:
        value = int(os.environ.get(name, ""))
        return value if value >= 0 else default
    except ValueError:
        return default


class _Loader:
    """Delegates to the real loader and calls ``after(module)`` once the module has run."""

    def __init__(self, loader, after):
        self._loader = loader
        self._after = after

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            self._after(module)
        except Exception:
            pass

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder:
    """A ``sys.meta_path`` finder that watches the modules in ``watch`` (name -> callback)."""

    def __init__(self, watch):
        self._watch = watch
        self._asking = set()  # (thread, name) being looked up: another finder may ask back

    def find_spec(self, name, path=None, target=None):
        after = self._watch.get(name)
        if after is None:
            return None
        import _thread

        asking = (_thread.get_ident(), name)
        if asking in self._asking:
            return None
        self._asking.add(asking)
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = _Loader(spec.loader, after)
                    return spec
            return None
        finally:
            self._asking.discard(asking)


def _start():
    if _state["prof"] is not None or _state["stopped"]:
        return
    import torch

    cuda = bool(torch.cuda.is_available())
    kineto = bool(getattr(torch.profiler, "kineto_available", lambda: False)())
    if kineto:
        activities = [torch.profiler.ProfilerActivity.CPU]
        if cuda:
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        prof = torch.profiler.profile(
            activities=activities, record_shapes=True, with_stack=True, with_flops=True
        )
        prof.start()
    else:
        prof = torch.autograd.profiler.profile(record_shapes=True, with_stack=True, with_flops=True)
        prof.__enter__()
    _state.update(prof=prof, kineto=kineto, pid=os.getpid())


def _stop():
    prof = _state["prof"]
    if prof is None or _state["stopped"]:
        return None
    _state["stopped"] = True
    if _state["kineto"]:
        prof.stop()
    else:
        prof.__exit__(None, None, None)
    return prof


def _on_step():
    _state["calls"] += 1
    skip = _env_int("PERFLOOP_TORCH_SKIP", 1)
    steps = max(1, _env_int("PERFLOOP_TORCH_STEPS", 5))
    if _state["calls"] == skip:
        _start()
    elif _state["calls"] == skip + steps:
        _stop()


def _wrap_step(module, attribute):
    """Wraps ``module.<attribute>`` (``function`` or ``Class.method``) to count steps; a
    ``staticmethod`` or ``classmethod`` stays one."""
    import functools
    import inspect

    owner = module
    *outer, last = attribute.split(".")
    for name in outer:
        owner = getattr(owner, name)
    raw = inspect.getattr_static(owner, last)
    kind = type(raw) if isinstance(raw, (staticmethod, classmethod)) else None
    original = raw.__func__ if kind else raw

    @functools.wraps(original)
    def step(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        finally:
            try:
                _on_step()
            except Exception:
                pass

    setattr(owner, last, kind(step) if kind else step)
    if _env_int("PERFLOOP_TORCH_SKIP", 1) == 0:
        _start()


def _absolute(filename, cwd):
    # Only a file that exists there: some distributions compile their packages with relative
    # co_filenames (Debian's torch: "torch/nn/modules/linear.py"), which are not the program's.
    if not filename or filename.startswith("<") or os.path.isabs(filename) or not cwd:
        return filename
    candidate = os.path.normpath(os.path.join(cwd, filename))
    return candidate if os.path.isfile(candidate) else filename


def _legacy_frame(frame, cwd):
    # "file.py(12): func" with the file made absolute, as the Kineto traces write frames.
    head, sep, rest = frame.partition("(")
    if not sep:
        return frame
    return _absolute(head, cwd) + sep + rest


_MAX_LEGACY_EVENTS = 300000


def _legacy_doc(prof, pid, cwd):
    """The legacy profiler's events in Kineto's trace layout (times in µs, as Kineto's), at most
    ``_MAX_LEGACY_EVENTS`` (the earliest; the cut is said in ``perfloopNote``)."""
    events = []
    all_events = prof.function_events
    for evt in all_events[:_MAX_LEGACY_EVENTS]:
        args = {"External id": evt.id}
        if evt.input_shapes:
            args["Input Dims"] = evt.input_shapes
        if evt.stack:
            args["Call stack"] = ";".join(_legacy_frame(f, cwd) for f in evt.stack)
        if getattr(evt, "flops", 0):
            args["flops"] = evt.flops
        start = evt.time_range.start
        events.append(
            {
                "ph": "X",
                "cat": "cpu_op",
                "name": evt.name,
                "pid": pid,
                "tid": evt.thread,
                "ts": start,
                "dur": max(0, evt.time_range.end - start),
                "args": args,
            }
        )
    import torch

    note = "torch %s without Kineto: the legacy autograd profiler's CPU operators" % torch.__version__
    if len(all_events) > len(events):
        note += "; the first %d of %d events" % (len(events), len(all_events))
    return {"schemaVersion": 1, "perfloopRecorder": "legacy", "perfloopNote": note, "traceEvents": events}


def _write(pid):
    if _state["pid"] != pid:
        return True  # a forked child, or never started: nothing of its own to write
    prof = _stop() or _state["prof"]
    if prof is None:
        return True
    directory = _state["dir"]
    os.makedirs(directory, exist_ok=True)
    if _state["kineto"]:
        import time

        name = "torch-%d.json" % pid
        if os.path.exists(os.path.join(directory, name)):  # pid reuse: keep both
            name = "torch-%d-%d.json" % (pid, time.time_ns())
        tmp = os.path.join(directory, ".%s.tmp" % name)
        try:
            prof.export_chrome_trace(tmp)
            os.replace(tmp, os.path.join(directory, name))
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        _exit.write_json_atomic(directory, "torch", pid, _legacy_doc(prof, pid, _state["cwd"]))
    return True


_exit = None


def install(directory, exit_module):
    """Arms the hook: watch ``torch`` (and the step function's module), write at exit into
    ``directory``. ``exit_module`` is ``_perfloop_exit``. May raise (the caller swallows it)."""
    global _exit
    _exit = exit_module
    _state["dir"] = os.path.abspath(directory)
    try:
        _state["cwd"] = os.getcwd()
    except OSError:
        _state["cwd"] = None
    watch = {}
    target = os.environ.get("PERFLOOP_TORCH_STEP", "")
    module_name, _, attribute = target.partition(":")
    if module_name and attribute:
        watch[module_name] = lambda module: _wrap_step(module, attribute)
    else:
        watch["torch"] = lambda module: _start()
    exit_module.ExitWriter(_write, lambda: None).install()
    for name, after in watch.items():
        if name in sys.modules:
            after(sys.modules[name])
    sys.meta_path.insert(0, _Finder(watch))
