"""The GEMM ladder: hand-written Numba matrix-multiply kernels, and the hook that runs minidl on them.

``md.set_matmul("numba-cpu:packed")`` (or ``"numba-cuda:prefetch"``, or the
environment variable ``MINIDL_MATMUL``) sends every matmul of the engine,
forward and backward, through one kernel of this package.  Each kernel adds
one idea to the one before it:

- CPU (``cpu_loops``, ``cpu_blocked``, ``cpu_packed``): naive i-j-k ->
  i-k-j loop order -> cache blocking on all cores -> packing and a register
  micro-kernel.
- CUDA (``cuda_simple``, ``cuda_blocktile``, ``cuda_tuned``,
  ``cuda_warptile``): naive -> coalesced -> shared-memory tiles -> 1D and
  2D register blocking -> bank-conflict-free tiles -> double buffering ->
  warp tiles; and ``cuda_gemv``, the memory-bound matrix-vector product.

``matmul`` chooses which of them (or the backend's own BLAS) runs every
product, and at which precision (``md.set_matmul_precision``). ``registry``
names the kernels and needs no Numba; the kernel modules import Numba
and are loaded only when a kernel first runs.  ``benchmarks/gemm_ladder.py``
measures them against the vendor BLAS.
"""
