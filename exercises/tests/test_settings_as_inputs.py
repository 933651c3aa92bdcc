"""Exercise settings_as_inputs: one trace of SGD with momentum replays a whole learning-rate schedule."""

from __future__ import annotations

import numpy as np

EXERCISE = "settings_as_inputs"


def momentum_step(weights, grad, velocity, lr, momentum):
    """SGD with momentum (PyTorch's form, no dampening): returns the new weights and velocity."""
    velocity = velocity * momentum + grad
    return weights + velocity * lr * -1.0, velocity


def test_settings_get_input_slots_not_constants(ex):
    arrays = [np.ones(3), np.ones(3), np.zeros(3)]
    program = ex.trace_with_settings(momentum_step, arrays, [0.1, 0.9])
    assert len(program.inputs) == 5
    assert 0.1 not in program.constants.values() and 0.9 not in program.constants.values()
    assert len(program.outputs) == 2


def test_one_trace_replays_a_schedule_with_the_state_fed_back(ex):
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(4)
    program = ex.trace_with_settings(momentum_step, [weights, np.zeros(4), np.zeros(4)], [0.1, 0.9])
    eager = (weights.copy(), np.zeros(4))
    replayed = (weights.copy(), np.zeros(4))
    for step in range(10):
        lr, grad = 0.1 * 0.7 ** step, rng.standard_normal(4)
        eager = momentum_step(eager[0], grad, eager[1], lr, 0.9)
        replayed = ex.replay_with_settings(program, [replayed[0], grad, replayed[1]], [lr, 0.9])
        np.testing.assert_allclose(replayed[0], eager[0], rtol=1e-12)
        np.testing.assert_allclose(replayed[1], eager[1], rtol=1e-12)
