"""What the CUDA kernel modules share: the decorator and the grid arithmetic.

Under ``NUMBA_ENABLE_CUDASIM=1`` Numba runs each CUDA thread as a Python
thread on the CPU (slow, but it checks indexing and synchronisation), and it
rejects the options that only mean something to the real compiler:
``lineinfo``, ``launch_bounds`` and ``max_registers``.  So those are passed
on real hardware only.
"""

from __future__ import annotations

from numba import config, cuda

SIMULATING = bool(config.ENABLE_CUDASIM)


def cuda_kernel(**hardware_options):
    """``cuda.jit`` with on-disk caching, plus options that only real hardware accepts.

    Used as a decorator in the kernel modules (a kernel needs a source file
    for the on-disk cache, so this is not a doctest)::

        @cuda_kernel(launch_bounds=(256,))
        def fill(out):
            out[0] = 1
    """
    options = {} if SIMULATING else {"lineinfo": True, **hardware_options}
    return cuda.jit(cache=True, **options)


def cuda_device(function):
    """A ``@cuda.jit(device=True)`` helper: callable from kernels only, inlined by the compiler."""
    return cuda.jit(device=True)(function)


def blocks(size: int, per_block: int) -> int:
    """How many blocks of ``per_block`` cover ``size`` (the last one may be partly idle)."""
    return (size + per_block - 1) // per_block
