"""The backend layer: which array namespace (``xp``) minidl computes with.

Everything above this package speaks only the Python Array API standard.
This package is the one place that knows about NumPy, CuPy and
array-api-strict by name: it loads their namespaces, moves arrays between
host and device, draws random numbers on the host, and fills the standard's
few gaps (scatter-add) with one function each.

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
    get_matmul,
    namespace,
    resolve_name,
    set_backend,
    set_matmul,
    using_backend,
    using_matmul,
)
from minidl.backend.arrays import (
    backend_of,
    from_host,
    host_asarray,
    is_gpu_available,
    scatter_add_rows,
    synchronize,
    to_host,
)
from minidl.backend.random import host_rng, manual_seed, seeded_rng

__all__ = [
    "BACKENDS",
    "backend_of",
    "from_host",
    "get_backend",
    "get_matmul",
    "host_asarray",
    "host_rng",
    "is_gpu_available",
    "manual_seed",
    "namespace",
    "resolve_name",
    "scatter_add_rows",
    "seeded_rng",
    "set_backend",
    "set_matmul",
    "synchronize",
    "to_host",
    "using_backend",
    "using_matmul",
]
