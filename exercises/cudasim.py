"""Run an implementation of exercise cuda_tile under Numba's CUDA simulator, in this process.

    python -m exercises.cudasim exercises.cuda_tile            # your kernel
    python -m exercises.cudasim exercises.solutions.cuda_tile  # the reference

The simulator must be switched on before Numba is first imported, hence a
process of its own (the test starts one).  Exit status 0: correct; 3: the
kernel is not written yet (NotImplementedError); anything else: wrong.
"""

from __future__ import annotations

import importlib
import os
import sys

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"


def main(module_name: str) -> int:
    import numpy as np

    module = importlib.import_module(module_name)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 16)).astype(np.float32)
    b = rng.standard_normal((16, 16)).astype(np.float32)
    try:
        c = module.tiled_matmul(a, b)
    except NotImplementedError as error:
        print(f"NotImplementedError: {error}", file=sys.stderr)
        return 3
    error = float(np.max(np.abs(c - a @ b)))
    print(f"16 x 16 under the simulator: max error {error:.2e}")
    return 0 if c.dtype == np.float32 and error < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
