"""Which backend new tensors use.

The setting lives in `contextvars`, so each thread (and each asyncio task)
has its own value: two threads can train on two backends without interfering.
The starting value comes from the environment variable ``MINIDL_BACKEND``.
(The other setting, which GEMM runs matrix products, is [`minidl.kernels.matmul`][minidl.kernels.matmul].)
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
from types import ModuleType
from typing import Iterator

# Public name -> module that provides the Array API namespace.
BACKENDS: dict[str, str] = {
    "numpy": "array_api_compat.numpy",
    "cupy": "array_api_compat.cupy",
    "array_api_strict": "array_api_strict",
}
_ALIASES = {"cpu": "numpy", "np": "numpy", "gpu": "cupy", "cuda": "cupy", "cuda:0": "cupy", "cp": "cupy",
            "strict": "array_api_strict"}

_namespaces: dict[str, ModuleType] = {}


def resolve_name(name: str) -> str:
    """Turn a backend name or alias (``"cpu"``, ``"gpu"``, ``"cuda:0"``, an ``md.device``) into its canonical name."""
    if hasattr(name, "type") and hasattr(name, "index"):  # an md.device (minidl.backend.devices)
        name = str(name)
    if not isinstance(name, str):
        raise TypeError(f"a backend name must be a string such as 'numpy' or 'cupy', not {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in BACKENDS:
        known = ", ".join(sorted(BACKENDS)) + " (aliases: " + ", ".join(f"{a}->{b}" for a, b in _ALIASES.items()) + ")"
        raise ValueError(f"unknown backend {name!r}; known backends are {known}")
    return key


def namespace(name: str) -> ModuleType:
    """The Array API namespace (``xp``) of a backend, imported on first use."""
    name = resolve_name(name)
    xp = _namespaces.get(name)
    if xp is None:
        if name == "cupy":
            _check_cupy_usable()
        try:
            xp = importlib.import_module(BACKENDS[name])
        except ImportError as error:
            package = name.replace("_", "-")
            raise RuntimeError(
                f"the {name!r} backend needs the {package!r} package, which is not installed: "
                f"pip install {package}"
            ) from error
        _namespaces[name] = xp
    return xp


def _check_cupy_usable() -> None:
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(
            "the 'cupy' backend needs CuPy, which is not installed: pip install the cupy-cuda12x or cupy-cuda13x "
            "wheel that matches your CUDA driver (or, from a minidl checkout, pip install '.[gpu]')"
        ) from error
    try:
        available = cupy.cuda.is_available()
    except Exception:  # a broken driver install raises instead of answering
        available = False
    if not available:
        raise RuntimeError(
            "CuPy is installed but found no usable CUDA GPU (cupy.cuda.is_available() is False); "
            "use the 'numpy' backend on this machine, or check the NVIDIA driver with nvidia-smi"
        )


def _initial_backend() -> str:
    return resolve_name(os.environ.get("MINIDL_BACKEND", "numpy"))


_backend: contextvars.ContextVar[str] = contextvars.ContextVar("minidl_backend", default=_initial_backend())


def get_backend() -> str:
    """The canonical name of the backend that new tensors are created on."""
    return _backend.get()


def set_backend(name: str) -> None:
    """Make ``name`` the backend for new tensors in this thread ("numpy", "cupy", "array_api_strict")."""
    name = resolve_name(name)
    namespace(name)  # fail now, with a clear message, if it cannot be used
    _backend.set(name)


@contextlib.contextmanager
def using_backend(name: str) -> Iterator[str]:
    """Use ``name`` as the backend inside a ``with`` block, then restore the previous one."""
    name = resolve_name(name)
    namespace(name)
    token = _backend.set(name)
    try:
        yield name
    finally:
        _backend.reset(token)
