"""Exercise linear: forward and the three gradients, against minidl's nn.functional.linear."""

from __future__ import annotations

import numpy as np

import minidl as md
import minidl.nn.functional as F

EXERCISE = "linear"


def test_forward_and_backward_match_minidl(ex):
    rng = np.random.default_rng(0)
    x, w, b, g = (rng.standard_normal(s) for s in [(5, 3), (4, 3), (4,), (5, 4)])
    tx, tw, tb = (md.tensor(a, dtype=md.float64, requires_grad=True) for a in (x, w, b))
    y = F.linear(tx, tw, tb)
    np.testing.assert_allclose(ex.linear_forward(x, w, b), y.numpy(), rtol=1e-12)
    (y * md.tensor(g, dtype=md.float64)).sum().backward()
    dx, dw, db = ex.linear_backward(g, x, w)
    for mine, theirs, name in [(dx, tx, "dx"), (dw, tw, "dw"), (db, tb, "db")]:
        assert mine.shape == theirs.shape, f"{name} has shape {mine.shape}, expected {theirs.shape}"
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-12, err_msg=name)
