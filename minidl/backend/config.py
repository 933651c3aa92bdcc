"""Which backend (array library) and device new tensors use.

The setting lives in `contextvars`, so each thread (and each asyncio task)
has its own value: two threads can train on two backends without interfering.
The starting values come from the environment variables ``MINIDL_BACKEND``
and ``MINIDL_DEVICE``. The libraries themselves, and what each can do, are
recorded in [`minidl.backend.capabilities`][minidl.backend.capabilities].
(The other setting, which GEMM runs matrix products, is [`minidl.kernels.matmul`][minidl.kernels.matmul].)
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
from types import ModuleType
from typing import Iterator

from minidl.backend import capabilities
from minidl.backend.capabilities import ALIASES, BACKENDS  # name -> namespace module; other spellings -> name

_namespaces: dict[str, ModuleType] = {}


def resolve_name(name: str) -> str:
    """Turn a backend name or alias (``"cpu"``, ``"gpu"``, ``"cuda:0"``, an ``md.device``) into its canonical name."""
    if hasattr(name, "type") and hasattr(name, "index"):  # an md.device (minidl.backend.devices)
        name = str(name)
    if not isinstance(name, str):
        raise TypeError(f"a backend name must be a string such as 'numpy' or 'cupy', not {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in BACKENDS:
        known = ", ".join(sorted(BACKENDS)) + " (aliases: " + ", ".join(f"{a}->{b}" for a, b in ALIASES.items()) + ")"
        raise ValueError(f"unknown backend {name!r}; known backends are {known}")
    return key


def namespace(name: str) -> ModuleType:
    """The Array API namespace (``xp``) of a backend, imported on first use."""
    name = resolve_name(name)
    xp = _namespaces.get(name)
    if xp is None:
        record = capabilities.library(name)
        if record.usable is not None:
            record.usable()
        try:
            xp = importlib.import_module(BACKENDS[name])
        except ImportError as error:
            raise RuntimeError(
                f"the {name!r} backend needs the {record.package!r} package, which is not installed: "
                f"pip install {record.package!r}"
            ) from error
        if record.setup is not None:
            record.setup(xp)
        _namespaces[name] = xp
    return xp


def is_available(name: str) -> bool:
    """Whether a backend's library imports (and, for CuPy, sees a GPU) here."""
    try:
        namespace(name)
    except (RuntimeError, ImportError):
        return False
    return True


def _check_device(name: str, device: str | None) -> str | None:
    if device is None:
        return None
    record = capabilities.library(name)
    kind = str(device).strip().lower().partition(":")[0]
    if kind not in record.devices:
        raise ValueError(f"the {name!r} backend has no device {device!r}; its devices are "
                         f"{', '.join(record.devices)}")
    device = str(device).strip().lower()
    if record.native_device is not None:
        namespace(name)
        record.native_device(device)  # refuses, with the library's reason, a device this machine lacks
    return device


def _initial() -> tuple[str, str | None]:
    name = resolve_name(os.environ.get("MINIDL_BACKEND", "numpy"))
    return name, _check_device(name, os.environ.get("MINIDL_DEVICE") or None)


_backend: contextvars.ContextVar[tuple[str, str | None]] = contextvars.ContextVar("minidl_backend",
                                                                                   default=_initial())


def get_backend() -> str:
    """The canonical name of the backend that new tensors are created on."""
    return _backend.get()[0]


def get_device() -> str | None:
    """The device new tensors of the current backend go to (``"cuda:0"``), or None for the library's default."""
    return _backend.get()[1]


def device_for(name: str) -> str | None:
    """The device chosen for backend ``name``: the current setting if it is that backend, else its default."""
    current, device = _backend.get()
    return device if current == name else None


def set_backend(name: str, device: str | None = None) -> None:
    """Make ``name`` the backend for new tensors in this thread ("numpy", "torch", "jax", ...), on ``device``.

    The namespace and the device are separate: ``set_backend("torch", device="cuda")``.
    """
    name = resolve_name(name)
    namespace(name)  # fail now, with a clear message, if it cannot be used
    _backend.set((name, _check_device(name, device)))


@contextlib.contextmanager
def using_backend(name: str, device: str | None = None) -> Iterator[str]:
    """Use ``name`` (on ``device``) as the backend inside a ``with`` block, then restore the previous one."""
    name = resolve_name(name)
    namespace(name)
    token = _backend.set((name, _check_device(name, device)))
    try:
        yield name
    finally:
        _backend.reset(token)
