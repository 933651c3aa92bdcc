"""Exercise replay: a traced two-layer network replays on new inputs without running its Python."""

from __future__ import annotations

import numpy as np

EXERCISE = "replay"


def test_replay_gives_what_the_function_gives_without_calling_it(ex):
    calls = []

    def mlp(x, w1, w2):
        calls.append(1)
        h = x @ w1
        h = h.relu() if hasattr(h, "relu") else np.maximum(h, 0.0)     # a stand-in while tracing, else an array
        return h @ w2 * 0.5 + 1.0

    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3, 5), (5, 2)]
    program = ex.trace(mlp, *(rng.standard_normal(s) for s in shapes))
    assert [op for op, _, _ in program.steps] == ["matmul", "maximum", "matmul", "mul", "add"]
    calls.clear()
    for _ in range(3):
        arrays = [rng.standard_normal(s) for s in shapes]
        got = ex.replay(program, *arrays)
        assert not calls, "replay must run the recorded steps, not the function"
        np.testing.assert_allclose(got, mlp(*arrays), rtol=1e-12)
        calls.clear()


def test_an_input_used_twice_and_a_constant(ex):
    program = ex.trace(lambda x: (x * x).tanh() + x * 3.0, np.zeros(3))
    x = np.array([0.1, -2.0, 0.7])
    np.testing.assert_allclose(ex.replay(program, x), np.tanh(x * x) + 3.0 * x, rtol=1e-12)
