"""perfloop's behaviour capture: records what chosen Python functions return for which arguments.

``sitecustomize.py`` (next to this file) imports this module and calls :func:`install` in every
Python process that starts with ``PERFLOOP_CAPTURE_DIR`` set (see ``src/core/behaviour/capture.ts``).
perfloop runs the baseline and a candidate this way and compares the two records
(``src/core/behaviour/compare.ts``): a candidate whose hot functions return other values than the
baseline's for the same arguments is not worth measuring.

Environment:

* ``PERFLOOP_CAPTURE_DIR``: absolute directory the records are written to.
* ``PERFLOOP_CAPTURE_ROOT``: absolute root of the tree the target files are relative to.
* ``PERFLOOP_CAPTURE_TARGETS``: JSON list of ``{"file": <posix path relative to the root>,
  "function": <co_name>}``.
* ``PERFLOOP_CAPTURE_MAX_CALLS``: distinct argument sets kept per function (default 200).

What is wrapped: a ``sys.meta_path`` finder (first on the path) lets the other finders find every
module whose last name component could be a target file's, and when the spec's origin (realpath)
is a target file it makes the spec's loader, after its normal ``exec_module``, replace every
function of the module dict, and every function, ``staticmethod`` and ``classmethod`` of the
classes defined there (and of their nested classes, one level), whose ``__code__`` comes from that
file and whose ``co_name`` is a target name of that file, by a ``functools.wraps`` wrapper.
``functools.lru_cache``/``cache`` wrappers of such functions are wrapped too (their
``cache_info``/``cache_clear`` stay reachable). Modules already imported when :func:`install`
runs are scanned once. Functions are named ``"<relative file>::<__qualname__>"``.

What the wrapper records: the arguments' fingerprint (taken before the call, since the call may
mutate them), then the return value's fingerprint or the raised exception's (type and message;
the exception is re-raised unchanged). Per function at most ``MAX_CALLS`` distinct argument
fingerprints are kept with the first outcome seen; a later call with the same arguments and
another outcome marks that entry ``unstable`` (the comparer skips it). Once ``MAX_CALLS`` entries
are kept, or ``20 * MAX_CALLS`` calls were fingerprinted, later calls go straight through and are
only counted (``truncated``). Recursion of a wrapped function records every level; code run while
fingerprinting (a ``__repr__`` calling a wrapped function) is not recorded.

Fingerprints: ``_perfloop_fingerprint.py`` (next to this file) says what they hold and their bounds.

Output, at exit (when exactly: ``_perfloop_exit.py``, next to this file, shared with the profiler):
``<PERFLOOP_CAPTURE_DIR>/cap-<pid>.json`` (or ``cap-<pid>-<ns>.json`` if taken), written to a
temporary name and renamed, as ``{"pid", "functions": {"<key>": {"calls", "kept": [{"key", "call",
"args", "result", "raised", "unstable"}], "truncated"}}}``, only when some target function was
called. ``os.fork`` children start with empty records. Nothing here ever raises into the user's
program.

Limits: functions of a script run as ``__main__`` (``python script.py``, ``python -m pkg.mod``)
are not wrapped, since that code is not imported through the import system; nor are functions
reached only through other names bound before the module finished executing (decorators other
than ``lru_cache``, ``from mod import f`` done by modules imported before :func:`install`),
generators, coroutines, async generators, properties and closures; calls made while the module
itself is still executing (at import) are not recorded. Instances are fingerprinted by
their attributes, so a candidate adding an attribute to such an object changes its fingerprint.
The wrapper adds a frame per call, so the recursion limit is doubled at install. Processes killed
by a signal (but SIGTERM in ``multiprocessing`` children), or leaving through ``os._exit``, write
nothing. The records are written by the program itself: a program can forge them, so they are a
check of correctness, not a security boundary.
"""

import os
import sys


# Only sitecustomize.py (next to this file) loads this module: its loader finds the siblings by
# location, so a user's file of the same name earlier on sys.path is never picked up instead.
_load_sibling = sys.modules["_perfloop_sitecustomize"]._load_sibling

_fingerprints = _load_sibling("_perfloop_fingerprint")
fingerprint = _fingerprints.fingerprint
_args_fp = _fingerprints.args_fp
_key_of = _fingerprints.key_of
_call_text = _fingerprints.call_text
_exc_fp = _fingerprints.exc_fp
_exit = _load_sibling("_perfloop_exit")

_NOT_PLAIN = 0x20 | 0x80 | 0x100 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR

_installed = False
_out_dir = None
_max_calls = 200
_targets = {}  # normcase(realpath(file)) -> (relative file, frozenset of co_names)
_stems = set()  # module name components a target file can be imported as
_records = {}  # function key -> _Record
_busy = set()  # thread idents currently fingerprinting
_finding = set()  # (thread ident, module name) being looked up by the finder
_real_cache = {}
_loader_classes = {}
_lock = None


class _Record:
    __slots__ = ("calls", "fingerprinted", "kept", "index", "truncated")

    def __init__(self):
        self.reset()

    def reset(self):
        self.calls = 0
        self.fingerprinted = 0
        self.kept = []
        self.index = {}
        self.truncated = False


# --- wrapping -------------------------------------------------------------------------------------


def _make_wrapper(fn, key, qualname):
    import functools
    from _thread import get_ident

    rec = _records.get(key)
    if rec is None:
        rec = _records[key] = _Record()
    budget = max(1, _max_calls) * 20

    def _keep(akey, afp, call, result, raised):
        with _lock:
            at = rec.index.get(akey)
            if at is None:
                if len(rec.kept) >= _max_calls:
                    rec.truncated = True
                    return
                rec.index[akey] = len(rec.kept)
                rec.kept.append(
                    {"key": akey, "call": call, "args": afp, "result": result, "raised": raised, "unstable": False}
                )
            else:
                entry = rec.kept[at]
                if entry["result"] != result or entry["raised"] != raised:
                    entry["unstable"] = True

    def _outcome(tid, value, exc):
        _busy.add(tid)
        try:
            if exc is None:
                return fingerprint(value), None
            return None, _exc_fp(exc)
        except Exception:
            return None, None
        finally:
            _busy.discard(tid)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tid = get_ident()
        if tid in _busy:
            return fn(*args, **kwargs)
        rec.calls += 1
        if len(rec.kept) >= _max_calls or rec.fingerprinted >= budget:
            rec.truncated = True
            return fn(*args, **kwargs)
        rec.fingerprinted += 1
        _busy.add(tid)
        try:
            afp = _args_fp(args, kwargs)
            akey = _key_of(afp)
            call = None if akey in rec.index else _call_text(qualname, args, kwargs)
        except Exception:
            afp = None
        finally:
            _busy.discard(tid)
        if afp is None:
            return fn(*args, **kwargs)
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:
            result, raised = _outcome(tid, None, exc)
            if raised is not None:
                try:
                    _keep(akey, afp, call or qualname, None, raised)
                except Exception:
                    pass
            raise
        result, raised = _outcome(tid, value, None)
        if result is not None:
            try:
                _keep(akey, afp, call or qualname, result, None)
            except Exception:
                pass
        return value

    for name in ("cache_info", "cache_clear", "cache_parameters"):
        if hasattr(fn, name):
            try:
                setattr(wrapper, name, getattr(fn, name))
            except Exception:
                pass
    wrapper._perfloop_capture = key
    return wrapper


def _real(filename):
    real = _real_cache.get(filename)
    if real is None:
        try:
            real = os.path.normcase(os.path.realpath(filename))
        except (OSError, ValueError, TypeError):
            real = ""
        _real_cache[filename] = real
    return real


def _target_code(obj, real, names):
    """The target function behind ``obj`` (a function or an lru_cache of one), else None."""
    import types

    fn = obj
    if not isinstance(fn, types.FunctionType):
        if type(obj).__name__ != "_lru_cache_wrapper" or getattr(type(obj), "__module__", "") != "functools":
            return None
        fn = getattr(obj, "__wrapped__", None)
        if not isinstance(fn, types.FunctionType):
            return None
    if getattr(fn, "_perfloop_capture", None) is not None:
        return None
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name not in names or code.co_flags & _NOT_PLAIN:
        return None
    if _real(code.co_filename) != real:
        return None
    return fn


def _wrap_class(cls, rel, real, names, nested):
    for name, obj in list(vars(cls).items()):
        try:
            if isinstance(obj, (staticmethod, classmethod)):
                fn = _target_code(obj.__func__, real, names)
                if fn is not None:
                    wrapped = _make_wrapper(obj.__func__, "%s::%s" % (rel, fn.__qualname__), fn.__qualname__)
                    setattr(cls, name, type(obj)(wrapped))
            elif isinstance(obj, type):
                if nested and obj.__module__ == cls.__module__:
                    _wrap_class(obj, rel, real, names, False)
            else:
                fn = _target_code(obj, real, names)
                if fn is not None:
                    setattr(cls, name, _make_wrapper(obj, "%s::%s" % (rel, fn.__qualname__), fn.__qualname__))
        except Exception:
            pass


def _wrap_module(module):
    try:
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str):
            return
        real = _real(filename)
        target = _targets.get(real)
        if target is None:
            return
        rel, names = target
        namespace = vars(module)
        module_name = namespace.get("__name__")
        for name, obj in list(namespace.items()):
            try:
                if isinstance(obj, type):
                    if obj.__module__ == module_name:
                        _wrap_class(obj, rel, real, names, True)
                    continue
                fn = _target_code(obj, real, names)
                if fn is not None:
                    namespace[name] = _make_wrapper(obj, "%s::%s" % (rel, fn.__qualname__), fn.__qualname__)
            except Exception:
                pass
    except Exception:
        pass


def _capturing_loader_class(cls):
    sub = _loader_classes.get(cls)
    if sub is None:

        def exec_module(self, module):
            super(sub, self).exec_module(module)
            _wrap_module(module)

        sub = type(cls.__name__, (cls,), {"exec_module": exec_module, "__module__": cls.__module__})
        sub.__qualname__ = getattr(cls, "__qualname__", cls.__name__)
        _loader_classes[cls] = sub
    return sub


class _LoaderProxy:
    """Stands for a loader whose class cannot be swapped: delegates everything, wraps after exec."""

    def __init__(self, loader):
        self._perfloop_loader = loader

    def create_module(self, spec):
        create = getattr(self._perfloop_loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        self._perfloop_loader.exec_module(module)
        _wrap_module(module)

    def __getattr__(self, name):
        return getattr(self._perfloop_loader, name)


class _CaptureFinder:
    """First on ``sys.meta_path``: makes target modules' loaders wrap their functions."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.rpartition(".")[2] not in _stems:
            return None
        from _thread import get_ident

        token = (get_ident(), fullname)
        if token in _finding:
            return None
        _finding.add(token)
        try:
            spec = None
            for finder in list(sys.meta_path):
                if isinstance(finder, _CaptureFinder):
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    return None  # a legacy finder: leave the import to the normal machinery
                spec = find(fullname, path, target)
                if spec is not None:
                    break
            if spec is None or spec.loader is None or not isinstance(spec.origin, str):
                return None
            if _real(spec.origin) not in _targets or not hasattr(spec.loader, "exec_module"):
                return None
            loader = spec.loader
            if isinstance(loader, _LoaderProxy) or type(loader) in _loader_classes.values():
                return spec
            try:
                loader.__class__ = _capturing_loader_class(type(loader))
            except Exception:
                spec.loader = _LoaderProxy(loader)
            return spec
        except Exception:
            return None
        finally:
            _finding.discard(token)

    def invalidate_caches(self):
        pass


# --- the record, written by _perfloop_exit.ExitWriter ---------------------------------------------


def _write_record(pid):
    functions = {}
    for key, rec in list(_records.items()):
        if rec.calls == 0:
            continue
        functions[key] = {"calls": rec.calls, "kept": [dict(e) for e in rec.kept], "truncated": rec.truncated}
    if not functions:
        return False  # nothing yet: a later exit point of this process may have something
    _exit.write_json_atomic(_out_dir, "cap", pid, {"pid": pid, "functions": functions})


def _reset_in_child():
    global _lock
    from _thread import allocate_lock

    _lock = allocate_lock()
    for rec in list(_records.values()):
        rec.reset()
    _busy.clear()
    _finding.clear()


def _read_targets(root, raw):
    import json

    found = {}
    for item in json.loads(raw):
        file = item.get("file") if isinstance(item, dict) else None
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(file, str) or not isinstance(function, str) or not file or not function:
            continue
        real = _real(os.path.join(root, *file.split("/")))
        rel, names = found.get(real, (file, set()))
        names.add(function)
        found[real] = (rel, names)
    return {real: (rel, frozenset(names)) for real, (rel, names) in found.items()}


def install():
    """Starts capturing in this process from the ``PERFLOOP_CAPTURE_*`` environment; idempotent.

    Does nothing when the directory, the root or the targets are missing or malformed. May raise
    on unexpected errors: ``sitecustomize`` calls it inside ``try``/``except``.
    """
    global _installed, _out_dir, _max_calls, _targets, _stems, _lock
    if _installed:
        return
    out_dir = os.environ.get("PERFLOOP_CAPTURE_DIR")
    root = os.environ.get("PERFLOOP_CAPTURE_ROOT")
    raw = os.environ.get("PERFLOOP_CAPTURE_TARGETS")
    if not out_dir or not root or not raw:
        return
    try:
        targets = _read_targets(root, raw)
    except (ValueError, TypeError, AttributeError):
        return
    if not targets:
        return
    try:
        max_calls = int(os.environ.get("PERFLOOP_CAPTURE_MAX_CALLS") or 200)
    except ValueError:
        max_calls = 200
    from _thread import allocate_lock

    _installed = True
    _lock = allocate_lock()
    _out_dir = os.path.abspath(out_dir)
    _max_calls = max(1, max_calls)
    _targets = targets
    for real in targets:
        base = os.path.basename(real)
        stem = os.path.splitext(base)[0]
        if stem == "__init__":
            stem = os.path.basename(os.path.dirname(real))
        _stems.add(stem)
        # normcase may have lowered the name (Windows); accept either spelling
        _stems.add(os.path.splitext(os.path.basename(targets[real][0]))[0])
    sys.setrecursionlimit(sys.getrecursionlimit() * 2 + 50)
    sys.meta_path.insert(0, _CaptureFinder())
    for module in list(sys.modules.values()):
        if module is not None:
            _wrap_module(module)
    _exit.ExitWriter(_write_record, _reset_in_child).install()  # atexit, fork and multiprocessing hooks
