"""PyTorch's device names, mapped onto minidl's backends.

A device name picks a backend where ``device=`` is given. ``"cpu"`` means
the current backend if it runs on the CPU (array-api-strict stays
array-api-strict, PyTorch stays PyTorch), NumPy otherwise; ``"cuda"`` and
``"cuda:0"`` mean the current backend if its record lists ``"cuda"``
(PyTorch), CuPy otherwise. minidl drives one GPU, so ``"cuda:1"`` is
refused, as are devices no backend provides (``"mps"``). (A library's own
device is set apart from this: ``md.set_backend("torch", device="cuda")``.)

>>> import minidl as md
>>> md.zeros(2).device
device(type='cpu')
>>> md.device("cuda:0").type
'cuda'
"""

from __future__ import annotations

from typing import Any

from minidl.backend.arrays import from_host, is_gpu_available, synchronize, to_host
from minidl.backend.capabilities import library
from minidl.backend.config import get_backend, resolve_name
from minidl.backend.random import manual_seed


class device:  # noqa: N801 - lower case, as torch.device
    """A device name (``"cpu"``, ``"cuda"``, ``"cuda:0"``), compared equal to its string."""

    __slots__ = ("type", "index")

    def __init__(self, spec: Any, index: int | None = None) -> None:
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"a device is a string such as 'cpu' or 'cuda:0', not {type(spec).__name__}")
        kind, _, number = spec.strip().lower().partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}: minidl knows 'cpu' (NumPy and the other CPU "
                             f"libraries) and 'cuda' (CuPy, or PyTorch on CUDA); a backend name such as 'numpy' also works where a device is asked")
        if number:
            index = int(number)
        if kind == "cuda" and index not in (None, 0):
            raise ValueError(f"device {spec!r}: minidl drives one GPU, 'cuda:0'; select another GPU with "
                             f"CUDA_VISIBLE_DEVICES before starting Python")
        self.type, self.index = kind, (0 if kind == "cuda" else None)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device(type={self.type!r})" if self.index is None else \
            f"device(type={self.type!r}, index={self.index})"

    def __eq__(self, other: Any) -> bool:
        try:
            other = device(other)
        except (TypeError, ValueError):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash(str(self))


def device_of(backend: str, array: Any = None) -> device:
    """The device a backend's arrays live on (``array``'s own, for libraries with several devices)."""
    record = library(backend)
    if array is not None and len(record.devices) > 1:
        own = getattr(array, "device", None)
        kind = str(getattr(own, "type", None) or getattr(own, "platform", None) or "cpu")
        return device("cuda") if kind in ("cuda", "gpu") else device("cpu")
    return device("cpu") if record.devices[0] == "cpu" else device("cuda")


def names_a_device(spec: Any) -> bool:
    """Whether ``spec`` is a device ("cpu", "cuda:0", an ``md.device``) rather than a backend name."""
    return not isinstance(spec, str) or spec.strip().lower().partition(":")[0] in ("cpu", "cuda")


def backend_for(spec: Any, current: str | None = None) -> str:
    """The backend that a device name (or a backend name) means; ``current`` is kept when it fits."""
    if not names_a_device(spec):
        return resolve_name(spec)  # a backend name or alias ("numpy", "gpu"); unknown ones are refused there
    chosen = device(spec)
    current = get_backend() if current is None else current
    if chosen.type == "cuda":
        return current if library(current).has("cuda") else "cupy"
    if library(current).has("cpu"):
        return current
    fallback = get_backend()
    return fallback if library(fallback).has("cpu") else "numpy"


def moved_array(array: Any, backend: str, spec: Any) -> tuple[str, Any]:
    """Where ``x.to(spec)`` puts ``array`` (of ``backend``): the backend ``spec`` means, and the array
    there, or None where it is there already. One library may have several devices (torch's "cpu" and
    "cuda"): then the array moves between them within the library."""
    name = backend_for(spec, backend)
    if name != backend:
        return name, from_host(to_host(array), name)
    if len(library(name).devices) > 1 and names_a_device(spec) and device(spec) != device_of(name, array):
        return name, from_host(to_host(array), name, device=str(device(spec)))
    return name, None


class cuda:  # noqa: N801 - md.cuda.is_available(), as torch.cuda
    """``md.cuda``: the few ``torch.cuda`` functions scripts call."""

    is_available = staticmethod(is_gpu_available)

    @staticmethod
    def device_count() -> int:
        """1 when CuPy sees a GPU (minidl drives one), else 0."""
        return 1 if is_gpu_available() else 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        """minidl draws every random number on the host: the same as ``md.manual_seed``."""
        manual_seed(seed)

    manual_seed_all = manual_seed

    @staticmethod
    def synchronize() -> None:
        """Wait for the GPU's queued work (nothing to do without one)."""
        if is_gpu_available():
            synchronize("cupy")


class backends:  # noqa: N801 - md.backends.mps.is_available(), as torch.backends
    """``md.backends``: what scripts ask ``torch.backends`` before they choose a device."""

    class mps:  # noqa: N801 - as torch.backends.mps
        """Apple's Metal GPU: minidl has no backend for it."""

        @staticmethod
        def is_available() -> bool:
            """Always False: minidl runs on NumPy, array-api-strict or CuPy (``"cuda"``)."""
            return False
