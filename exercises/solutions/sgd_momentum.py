"""Reference solution of exercises/sgd_momentum.py."""

from __future__ import annotations


def sgd_momentum_step(param, grad, velocity, lr: float, momentum: float, weight_decay: float = 0.0):
    g = grad + weight_decay * param
    velocity = g.copy() if velocity is None else momentum * velocity + g
    return param - lr * velocity, velocity
