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

Fingerprints are JSON, bounded (nesting depth 4, the first 50 items of a collection, 400 nodes per
value, strings and bytes over 200 kept as length + sha256, reprs cut to 500 characters):
``{"t": "none"|"bool"|"int"|"float"|"complex"|"str"|"bytes"|"list"|"tuple"|"set"|"frozenset"|
"dict"|"ndarray"|"obj"|"repr"|"deep"|"cut", ...}``. Ints are decimal strings, floats numbers or
``"nan"``/``"inf"``/``"-inf"``; sets are ordered by repr, dicts by the repr of their keys; numpy
arrays (duck typed) give dtype and shape plus sha256 of ``tobytes()`` (integer, bool, string,
datetime dtypes) or up to 64 evenly spaced samples, the sum and the sum of absolute values (float
and complex dtypes); numpy scalars are ints/floats; ``torch`` tensors are fingerprinted through
``.detach().cpu().numpy()``; instances whose class keeps ``object.__repr__`` give their
``__dict__``; anything else its repr without memory addresses.

Output, at exit (``atexit``, and a ``multiprocessing`` finalizer/SIGTERM handler in its fork and
spawn children, as the profiler does): ``<PERFLOOP_CAPTURE_DIR>/cap-<pid>.json`` (or
``cap-<pid>-<ns>.json`` if taken), written to a temporary name and renamed, as
``{"pid", "functions": {"<key>": {"calls", "kept": [{"key", "call", "args", "result", "raised",
"unstable"}], "truncated"}}}``, only when some target function was called. ``os.fork`` children
start with empty records. Nothing here ever raises into the user's program.

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

_MAX_DEPTH = 4
_MAX_ITEMS = 50
_MAX_NODES = 400
_MAX_TEXT = 200
_MAX_REPR = 500
_MAX_CALL = 200
_SAMPLES = 64
_HUGE_COLLECTION = 1000000  # dicts/sets larger than this are not sorted: only their length is kept
_NOT_PLAIN = 0x20 | 0x80 | 0x100 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR

_installed = False
_out_dir = None
_max_calls = 200
_targets = {}  # normcase(realpath(file)) -> (relative file, frozenset of co_names)
_stems = set()  # module name components a target file can be imported as
_records = {}  # function key -> _Record
_busy = set()  # thread idents currently fingerprinting
_finding = set()  # (thread ident, module name) being looked up by the finder
_written_pid = None
_writing = False
_deferred_signal = None
_mp_hooked_pid = None
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


class _Token:
    """A weak-referenceable object for ``multiprocessing.util.register_after_fork``."""


_TOKEN = _Token()


# --- fingerprints -------------------------------------------------------------------------------


def _sha(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _type_name(t):
    module = getattr(t, "__module__", None) or "?"
    name = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or "?"
    return name if module == "builtins" else "%s.%s" % (module, name)


_ADDRESS = []


def _clean(text):
    if not _ADDRESS:
        import re

        _ADDRESS.append(re.compile(r" at 0x[0-9a-fA-F]+"))
    return _ADDRESS[0].sub("", text)


def _safe_repr(x):
    try:
        text = repr(x)
    except Exception as exc:
        text = "<repr failed: %s>" % type(exc).__name__
    if not isinstance(text, str):
        text = "<repr failed>"
    return _clean(text)


def _flt(x):
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return x


def _int_fp(x):
    if x.bit_length() <= 640:
        return {"t": "int", "v": str(x)}
    return {"t": "int", "bits": x.bit_length(), "sha256": _sha(hex(x).encode("ascii"))}


def _str_fp(x):
    if len(x) <= _MAX_TEXT:
        return {"t": "str", "v": x}
    return {"t": "str", "len": len(x), "sha256": _sha(x.encode("utf-8", "surrogatepass"))}


def _bytes_fp(x):
    x = bytes(x)
    if len(x) <= _MAX_TEXT:
        return {"t": "bytes", "hex": x.hex()}
    return {"t": "bytes", "len": len(x), "sha256": _sha(x)}


def _repr_fp(x):
    return {"t": "repr", "type": _type_name(type(x)), "v": _safe_repr(x)[:_MAX_REPR]}


def _with_type(fp, x, base):
    if type(x) is not base:
        fp["type"] = _type_name(type(x))
    return fp


def _array_fp(a, of=None):
    dtype = a.dtype
    kind = getattr(dtype, "kind", "?")
    fp = {"t": "ndarray", "dtype": str(dtype), "shape": [int(n) for n in a.shape]}
    if of is not None:
        fp["of"] = of
    if kind in "fc":
        flat = a.reshape(-1)
        size = int(flat.shape[0])
        if size <= _SAMPLES:
            idx = range(size)
        else:
            idx = [(i * (size - 1)) // (_SAMPLES - 1) for i in range(_SAMPLES)]
        if kind == "f":
            fp["samples"] = [_flt(flat[i]) for i in idx]
            fp["sum"] = _flt(a.sum(dtype="float64"))
        else:
            fp["samples"] = [[_flt(v.real), _flt(v.imag)] for v in (complex(flat[i]) for i in idx)]
            total = complex(a.sum(dtype="complex128"))
            fp["sum"] = [_flt(total.real), _flt(total.imag)]
        fp["abssum"] = _flt(abs(a).sum(dtype="float64"))
        return fp
    if kind == "O" or getattr(dtype, "hasobject", False):
        return None  # the caller fingerprints the items
    fp["sha256"] = _sha(a.tobytes())
    return fp


class _Budget:
    __slots__ = ("left",)

    def __init__(self):
        self.left = _MAX_NODES


def _fp(x, depth, budget):
    try:
        return _fp_node(x, depth, budget)
    except Exception:
        return _repr_fp(x)


def _fp_node(x, depth, budget):
    budget.left -= 1
    t = type(x)
    if x is None:
        return {"t": "none"}
    if t is bool:
        return {"t": "bool", "v": x}
    if t is int:
        return _int_fp(x)
    if t is float:
        return {"t": "float", "v": _flt(x)}
    if t is str:
        return _str_fp(x)
    if t is bytes or t is bytearray:
        return _with_type(_bytes_fp(x), x, bytes)
    if t is complex:
        return {"t": "complex", "v": [_flt(x.real), _flt(x.imag)]}
    np = sys.modules.get("numpy")
    if np is not None and isinstance(x, getattr(np, "generic", ())):
        kind = x.dtype.kind
        if kind == "b":
            return {"t": "bool", "v": bool(x)}
        if kind in "iu":
            return _int_fp(int(x))
        if kind == "f":
            return {"t": "float", "v": _flt(x)}
        if kind == "c":
            value = complex(x)
            return {"t": "complex", "v": [_flt(value.real), _flt(value.imag)]}
        if kind == "U":
            return _str_fp(str(x))
        if kind == "S":
            return _bytes_fp(bytes(x))
        return _repr_fp(x)
    module = getattr(t, "__module__", "") or ""
    if module.startswith("torch") and hasattr(x, "detach") and hasattr(x, "dtype"):
        try:
            detached = x.detach().cpu()
            try:
                fp = _array_fp(detached.numpy(), "torch.Tensor")
            except Exception:
                fp = _array_fp(detached.float().numpy(), "torch.Tensor")
                if fp is not None:
                    fp["dtype"] = str(x.dtype)
            if fp is not None:
                return fp
        except Exception:
            pass
        return _repr_fp(x)
    if hasattr(x, "dtype") and hasattr(x, "shape") and hasattr(x, "tobytes") and not isinstance(x, type):
        try:
            fp = _array_fp(x)
        except Exception:
            return _repr_fp(x)
        if fp is not None:
            return fp
        if depth >= _MAX_DEPTH or budget.left <= 0:
            return {"t": "deep", "type": _type_name(t)}
        flat = x.reshape(-1)
        n = min(int(flat.shape[0]), _MAX_ITEMS)
        return {
            "t": "ndarray",
            "dtype": str(x.dtype),
            "shape": [int(s) for s in x.shape],
            "items": [_fp(flat[i], depth + 1, budget) for i in range(n)],
        }
    enum = sys.modules.get("enum")
    if enum is not None and isinstance(x, enum.Enum):
        return _repr_fp(x)
    if isinstance(x, bool):
        return {"t": "bool", "v": bool(x)}
    if isinstance(x, int):
        return _with_type(_int_fp(int(x)), x, int)
    if isinstance(x, float):
        return _with_type({"t": "float", "v": _flt(x)}, x, float)
    if isinstance(x, str):
        return _with_type(_str_fp(str(x)), x, str)
    if isinstance(x, (bytes, bytearray)):
        return _with_type(_bytes_fp(x), x, bytes)
    if isinstance(x, (list, tuple, set, frozenset, dict)):
        if isinstance(x, dict):
            base = dict
        elif isinstance(x, list):
            base = list
        elif isinstance(x, tuple):
            base = tuple
        elif isinstance(x, frozenset):
            base = frozenset
        else:
            base = set
        fp = {"t": base.__name__, "len": len(x)}
        if depth >= _MAX_DEPTH or budget.left <= 0:
            fp["cut"] = True
            return _with_type(fp, x, base)
        if base is dict:
            if len(x) > _HUGE_COLLECTION:
                fp["cut"] = True
            else:
                import heapq

                keys = heapq.nsmallest(_MAX_ITEMS, x.keys(), key=_safe_repr)
                items = []
                for k in keys:
                    if budget.left <= 0:
                        break
                    items.append([_fp(k, depth + 1, budget), _fp(x[k], depth + 1, budget)])
                fp["items"] = items
        elif base in (set, frozenset):
            if len(x) > _HUGE_COLLECTION:
                fp["cut"] = True
            else:
                import heapq

                items = []
                for item in heapq.nsmallest(_MAX_ITEMS, x, key=_safe_repr):
                    if budget.left <= 0:
                        break
                    items.append(_fp(item, depth + 1, budget))
                fp["items"] = items
        else:
            items = []
            for i, item in enumerate(x):
                if i >= _MAX_ITEMS or budget.left <= 0:
                    break
                items.append(_fp(item, depth + 1, budget))
            fp["items"] = items
        return _with_type(fp, x, base)
    if budget.left > 0 and depth < _MAX_DEPTH and getattr(t, "__repr__", None) is object.__repr__:
        attrs = getattr(x, "__dict__", None)
        if isinstance(attrs, dict):
            return {"t": "obj", "type": _type_name(t), "attrs": _fp(attrs, depth + 1, budget)}
    return _repr_fp(x)


def fingerprint(x):
    """The JSON-able fingerprint of ``x`` (see the module docstring)."""
    return _fp(x, 0, _Budget())


def _args_fp(args, kwargs):
    budget = _Budget()
    return {
        "args": [_fp(a, 0, budget) for a in args],
        "kwargs": {k: _fp(kwargs[k], 0, budget) for k in sorted(kwargs)},
    }


def _key_of(fp):
    import json

    return _sha(json.dumps(fp, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _call_text(qualname, args, kwargs):
    import reprlib

    r = reprlib.Repr()
    r.maxstring = 60
    r.maxother = 60
    r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdict = 6
    parts = []
    for a in args:
        try:
            parts.append(r.repr(a))
        except Exception:
            parts.append("<?>")
    for k in sorted(kwargs):
        try:
            parts.append("%s=%s" % (k, r.repr(kwargs[k])))
        except Exception:
            parts.append("%s=<?>" % k)
    text = _clean("%s(%s)" % (qualname, ", ".join(parts)))
    return text if len(text) <= _MAX_CALL else text[: _MAX_CALL - 1] + "\u2026"


def _exc_fp(exc):
    try:
        message = str(exc)
    except Exception:
        message = "<str failed>"
    return {"t": "raised", "type": _type_name(type(exc)), "v": _clean(message)[:_MAX_REPR]}


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


# --- writing --------------------------------------------------------------------------------------


def _write():
    global _written_pid, _writing
    try:
        pid = os.getpid()
        if _written_pid == pid or not _out_dir:
            return
        _written_pid = pid
        _writing = True
        _write_file(pid)
    except BaseException:
        pass
    finally:
        _writing = False
    if _deferred_signal is not None:
        _die_by(_deferred_signal)


def _write_file(pid):
    import json
    import time

    functions = {}
    for key, rec in list(_records.items()):
        if rec.calls == 0:
            continue
        functions[key] = {"calls": rec.calls, "kept": [dict(e) for e in rec.kept], "truncated": rec.truncated}
    if not functions:
        return
    doc = {"pid": pid, "functions": functions}
    text = json.dumps(doc, allow_nan=False)
    os.makedirs(_out_dir, exist_ok=True)
    name = "cap-%d.json" % pid
    if os.path.exists(os.path.join(_out_dir, name)):
        name = "cap-%d-%d.json" % (pid, time.time_ns())
    tmp = os.path.join(_out_dir, ".%s.tmp" % name)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, os.path.join(_out_dir, name))


def _die_by(signum):
    import signal

    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_sigterm_writer():
    if os.name != "posix":
        return
    import signal

    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN or previous is None:
        return

    def on_sigterm(signum, frame):
        global _deferred_signal
        if _writing:
            _deferred_signal = signum
            return
        _write()
        if callable(previous):
            previous(signum, frame)
        else:
            _die_by(signum)

    signal.signal(signal.SIGTERM, on_sigterm)


def _hook_multiprocessing_child(_token=None):
    global _mp_hooked_pid
    try:
        if _mp_hooked_pid == os.getpid():
            return
        _mp_hooked_pid = os.getpid()
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util.Finalize(None, _write, exitpriority=-(2**30))
        _install_sigterm_writer()
    except Exception:
        pass


def _after_fork_in_child():
    global _written_pid, _lock
    try:
        from _thread import allocate_lock

        _lock = allocate_lock()
        for rec in list(_records.values()):
            rec.reset()
        _busy.clear()
        _finding.clear()
        _written_pid = None
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util.register_after_fork(_TOKEN, _hook_multiprocessing_child)
    except Exception:
        pass


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
    import atexit

    atexit.register(_write)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    if "--multiprocessing-fork" in (getattr(sys, "orig_argv", None) or getattr(sys, "argv", None) or []):
        _install_sigterm_writer()  # a multiprocessing child started by spawn
