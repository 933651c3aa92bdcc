"""Exercise, chapter 5.2 (Losses, optimizers, data): one step of SGD with momentum, PyTorch's way.

Write ``sgd_momentum_step(param, grad, velocity, lr, momentum, weight_decay)``
for NumPy arrays, returning ``(new_param, new_velocity)``:

    g = grad + weight_decay * param
    velocity = g                         on the first step (velocity is None)
    velocity = momentum * velocity + g   afterwards
    param = param - lr * velocity

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_sgd_momentum.py -q``
"""

from __future__ import annotations


def sgd_momentum_step(param, grad, velocity, lr: float, momentum: float, weight_decay: float = 0.0):
    raise NotImplementedError("exercise sgd_momentum: write sgd_momentum_step")
