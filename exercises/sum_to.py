"""Exercise, chapter 2 (Tensors and the Array API): the gradient of broadcasting.

When an input of shape ``shape`` was broadcast to a larger shape in the
forward pass, each of its entries was used many times, so its gradient is the
SUM of the gradient over every place it was copied to.  Write
``sum_to(grad, shape)`` for NumPy arrays: sum ``grad`` over the leading axes
broadcasting added, and over the axes where ``shape`` has a 1 that was
stretched, and return an array of exactly ``shape``.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_sum_to.py -q``
"""

from __future__ import annotations


def sum_to(grad, shape: tuple[int, ...]):
    raise NotImplementedError("exercise sum_to: write sum_to (sum the leading axes, then the stretched 1s)")
