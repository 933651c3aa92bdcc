"""Exercise sum_to: checked against minidl's own autograd through broadcasting."""

from __future__ import annotations

import numpy as np

import minidl as md

EXERCISE = "sum_to"
CASES = [((3,), (4, 3)), ((1, 3), (4, 3)), ((4, 1), (4, 3)), ((2, 1, 5), (7, 2, 3, 5)), ((), (2, 3)),
         ((1,), (5,)), ((4, 3), (4, 3))]


def test_matches_the_gradient_minidl_computes_through_broadcasting(ex):
    rng = np.random.default_rng(0)
    for small, big in CASES:
        x = md.tensor(rng.standard_normal(small), dtype=md.float64, requires_grad=True)
        g = rng.standard_normal(big)
        (md.broadcast_to(x, big) * md.tensor(g, dtype=md.float64)).sum().backward()
        result = ex.sum_to(g, small)
        assert result.shape == small, f"sum_to to {small} returned shape {result.shape}"
        np.testing.assert_allclose(result, x.grad.numpy(), rtol=1e-12, err_msg=f"{big} -> {small}")
