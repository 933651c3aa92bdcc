"""The backend layer: which array namespace (``xp``) minidl computes with.

The engine above it (autograd, ops, nn, optim, compile) computes only through
the Python Array API standard. This package is the one place that knows the
backends by name (one record each, with what the library can do:
[`minidl.backend.capabilities`][minidl.backend.capabilities]): it loads their namespaces, moves arrays between host and
device (NumPy is the host format), draws random numbers on the host, and
fills the standard's few gaps (scatter-add) with one function each.

>>> import minidl as md
>>> md.set_backend("numpy")
>>> md.get_backend()
'numpy'
>>> with md.using_backend("array_api_strict"):
...     md.get_backend()
'array_api_strict'
"""

from minidl.backend.config import (
    BACKENDS,
    get_backend,
    get_device,
    is_available,
    namespace,
    resolve_name,
    set_backend,
    using_backend,
)
from minidl.backend.arrays import (
    add_at,
    array_device,
    is_writeable,
    backend_of,
    float_masks,
    from_host,
    is_array,
    is_gpu_available,
    materialise,
    native_device,
    own_function,
    scatter_add_rows,
    set_at,
    synchronize,
    to_host,
)
from minidl.backend.capabilities import Library, libraries, library, register
from minidl.backend.random import Generator, draw, host_rng, manual_seed, observing_draws, rng_of
from minidl.backend.devices import backend_for, backends, cuda, device, device_of, moved_array, names_a_device

__all__ = [
    "BACKENDS",
    "array_device",
    "native_device",
    "own_function",
    "float_masks",
    "Generator",
    "Library",
    "add_at",
    "is_writeable",
    "get_device",
    "is_array",
    "is_available",
    "libraries",
    "library",
    "materialise",
    "register",
    "set_at",
    "backend_for",
    "backends",
    "cuda",
    "device",
    "device_of",
    "moved_array",
    "names_a_device",
    "rng_of",
    "backend_of",
    "from_host",
    "get_backend",
    "draw",
    "host_rng",
    "observing_draws",
    "is_gpu_available",
    "manual_seed",
    "namespace",
    "resolve_name",
    "scatter_add_rows",
    "set_backend",
    "synchronize",
    "to_host",
    "using_backend",
]
