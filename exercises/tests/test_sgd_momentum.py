"""Exercise sgd_momentum: five steps on a quadratic, against minidl.optim.SGD."""

from __future__ import annotations

import numpy as np

import minidl as md

EXERCISE = "sgd_momentum"


def test_five_steps_match_minidl_sgd(ex):
    target = np.array([1.0, -2.0, 0.5])
    start = np.array([0.3, 0.7, -1.1])
    w = md.tensor(start, dtype=md.float64, requires_grad=True)
    optimizer = md.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    mine, velocity = start.copy(), None
    for _ in range(5):
        optimizer.zero_grad()
        ((w - md.tensor(target, dtype=md.float64)) ** 2).sum().backward()
        optimizer.step()
        mine, velocity = ex.sgd_momentum_step(mine, 2 * (mine - target), velocity, 0.1, 0.9, 0.01)
        np.testing.assert_allclose(mine, w.numpy(), rtol=1e-12)
