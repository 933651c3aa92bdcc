"""Data types that mean the same thing on every backend.

``md.float32`` is one object whatever the backend; ``t.dtype`` returns these
objects, and ``to_backend_dtype`` turns them into the backend's own dtype.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


class DType:
    """A backend-neutral dtype: ``md.float32``, ``md.float64``, ``md.int64``, ..."""

    __slots__ = ("name", "kind")

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind  # "float", "int", "bool"

    @property
    def is_floating(self) -> bool:
        return self.kind == "float"

    def __repr__(self) -> str:
        return f"minidl.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = DType("float16", "float")  # half precision: NumPy and CuPy have it, the Array API standard does not
float32 = DType("float32", "float")
float64 = DType("float64", "float")
int32 = DType("int32", "int")
int64 = DType("int64", "int")
uint8 = DType("uint8", "int")
bool_ = DType("bool", "bool")

DTYPES: dict[str, DType] = {d.name: d for d in (float16, float32, float64, int32, int64, uint8, bool_)}
DEFAULT_FLOAT = float32

# Keyed by id(): dtypes of different libraries must not be compared with == (strict warns).
# array_api_strict makes a new dtype object for every array, so the cache is emptied when it
# reaches _CACHE_LIMIT entries (otherwise it would pin one object per array ever made).
_from_backend: dict[int, tuple[Any, DType]] = {}
_CACHE_LIMIT = 64


def dtype_of(backend_dtype: Any) -> DType:
    """The minidl DType for a backend dtype (``numpy.float32``, ``array_api_strict.int64``, ...)."""
    entry = _from_backend.get(id(backend_dtype))
    if entry is not None and entry[0] is backend_dtype:
        return entry[1]
    name = str(backend_dtype).rsplit(".", 1)[-1]
    if name not in DTYPES:
        raise TypeError(f"minidl does not support the dtype {backend_dtype}; use one of {', '.join(DTYPES)}")
    if len(_from_backend) >= _CACHE_LIMIT:
        _from_backend.clear()
    _from_backend[id(backend_dtype)] = (backend_dtype, DTYPES[name])
    return DTYPES[name]


def same_dtype(dtype_a: Any, dtype_b: Any) -> bool:
    """Whether two backend dtypes of one backend are the same type.

    Identity answers the common case at once (NumPy and CuPy reuse their dtype objects).
    """
    return dtype_a is dtype_b or dtype_of(dtype_a) is dtype_of(dtype_b)


def as_dtype(dtype: Any) -> DType:
    """Accept ``md.float32``, ``"float32"``, ``numpy.float32`` or a backend dtype."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str):
        if dtype in ("half", "bfloat16"):
            return _alias(dtype)
        if dtype not in DTYPES:
            raise TypeError(f"unknown dtype {dtype!r}; minidl knows {', '.join(DTYPES)}")
        return DTYPES[dtype]
    if isinstance(dtype, type) and dtype.__name__ in ("float", "int", "bool"):
        return {"float": DEFAULT_FLOAT, "int": int64, "bool": bool_}[dtype.__name__]
    name = getattr(dtype, "__name__", None) or str(dtype)
    return as_dtype(name.rsplit(".", 1)[-1].replace("bool_", "bool"))


def _alias(name: str) -> DType:
    if name == "half":
        return float16
    raise TypeError("minidl has no bfloat16: NumPy and CuPy have it only through the optional ml_dtypes package, "
                    "whose arrays the Array API functions reject; use md.float16 (md.autocast(dtype=md.float16)) "
                    "for half precision")


def to_backend_dtype(xp: ModuleType, dtype: Any) -> Any:
    """The dtype object of namespace ``xp`` that matches ``dtype``."""
    name = as_dtype(dtype).name
    try:
        return getattr(xp, name)
    except AttributeError:
        raise TypeError(f"the backend {getattr(xp, '__name__', xp)} has no {name} (the Array API standard has no "
                        "float16); use the 'numpy' or 'cupy' backend for half precision") from None
