"""Exercise, chapter 5.1 (Models with minidl.nn): attention's causal mask.

In a language model, position i may attend only to positions 0..i.  Write, for NumPy arrays:

- ``causal_mask(n)``: an (n, n) float array, 0 on and below the diagonal, -inf above it;
- ``masked_softmax(scores)``: softmax over the last axis of ``scores + causal_mask(n)``
  (subtract each row's maximum first: exp of -inf is 0, exp of a large number overflows).

``causal_attention`` is given: it uses the two.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_causal_mask.py -q``
"""

from __future__ import annotations

import numpy as np


def causal_mask(n: int):
    raise NotImplementedError("exercise causal_mask: write causal_mask (np.triu helps)")


def masked_softmax(scores):
    raise NotImplementedError("exercise causal_mask: write masked_softmax")


def causal_attention(q, k, v, softmax=None):
    """softmax(q @ k.T / sqrt(d) + mask) @ v for (..., n, d) arrays."""
    softmax = softmax or masked_softmax
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    return softmax(scores) @ v
