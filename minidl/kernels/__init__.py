"""The GEMM ladder: hand-written Numba matrix-multiply kernels (see registry.py)."""
