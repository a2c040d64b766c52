"""perfloop's behaviour capture, part 2: fingerprints of Python values (``_perfloop_capture.py``
records them; ``src/core/behaviour/compare.ts`` compares them).

Fingerprints are JSON, bounded (nesting depth 4, the first 50 items of a collection, 400 nodes per
value, strings and bytes over 200 kept as length + sha256, reprs cut to 500 characters):
``{"t": "none"|"bool"|"int"|"float"|"complex"|"str"|"bytes"|"list"|"tuple"|"set"|"frozenset"|
"dict"|"ndarray"|"obj"|"repr"|"deep"|"cut", ...}``. Ints are decimal strings, floats numbers or
``"nan"``/``"inf"``/``"-inf"``; sets are ordered by repr, dicts by the repr of their keys; numpy
arrays (duck typed) give dtype and shape plus sha256 of ``tobytes()`` (integer, bool, string,
datetime dtypes) or up to 64 evenly spaced samples, the sum and the sum of absolute values (float
and complex dtypes); numpy scalars are ints/floats; ``torch`` tensors are fingerprinted through
``.detach().cpu().numpy()``; a ``torch.nn.Module`` gives its ``state_dict()`` (the first 50
entries: its repr names layers, not weights); instances whose class keeps ``object.__repr__`` give
their ``__dict__``; anything else its repr without memory addresses.

Public names: :func:`fingerprint`, :func:`args_fp`, :func:`key_of`, :func:`call_text`,
:func:`exc_fp`.
"""

import sys

_MAX_DEPTH = 4
_MAX_ITEMS = 50
_MAX_NODES = 400
_MAX_TEXT = 200
_MAX_REPR = 500
_MAX_CALL = 200
_SAMPLES = 64
_HUGE_COLLECTION = 1000000  # dicts/sets larger than this are not sorted: only their length is kept


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
    torch = sys.modules.get("torch")
    if torch is not None and budget.left > 0 and depth < _MAX_DEPTH and isinstance(x, torch.nn.Module):
        # A module's repr names its layers, not its weights: two models of one architecture would
        # share a fingerprint. Its state (parameters and buffers, by name) tells them apart.
        try:
            state = dict(list(x.state_dict().items())[:_MAX_ITEMS])
        except Exception:
            return _repr_fp(x)
        return {"t": "obj", "type": _type_name(t), "attrs": _fp(state, depth + 1, budget)}
    if budget.left > 0 and depth < _MAX_DEPTH and getattr(t, "__repr__", None) is object.__repr__:
        attrs = getattr(x, "__dict__", None)
        if isinstance(attrs, dict):
            return {"t": "obj", "type": _type_name(t), "attrs": _fp(attrs, depth + 1, budget)}
    return _repr_fp(x)


def fingerprint(x):
    """The JSON-able fingerprint of ``x`` (see the module docstring)."""
    return _fp(x, 0, _Budget())


def args_fp(args, kwargs):
    """The fingerprint of a call's arguments: ``{"args": [...], "kwargs": {...}}``, one node budget."""
    budget = _Budget()
    return {
        "args": [_fp(a, 0, budget) for a in args],
        "kwargs": {k: _fp(kwargs[k], 0, budget) for k in sorted(kwargs)},
    }


def key_of(fp):
    """The argument key: sha256 (hex) of ``fp`` as canonical JSON (sorted keys, no spaces)."""
    import json

    return _sha(json.dumps(fp, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def call_text(qualname, args, kwargs):
    """The call as people read it, ``qualname(arg, key=value)``, with short reprs, at most 200 characters."""
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


def exc_fp(exc):
    """The fingerprint of a raised exception: its type and message."""
    try:
        message = str(exc)
    except Exception:
        message = "<str failed>"
    return {"t": "raised", "type": _type_name(type(exc)), "v": _clean(message)[:_MAX_REPR]}
