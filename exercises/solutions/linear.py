"""Reference solution of exercises/linear.py."""

from __future__ import annotations


def linear_forward(x, w, b):
    return x @ w.T + b                 # (batch, in) @ (in, out)


def linear_backward(grad, x, w):
    dx = grad @ w                      # (batch, out) @ (out, in)
    dw = grad.T @ x                    # (out, batch) @ (batch, in)
    db = grad.sum(axis=0)              # b was broadcast over the batch
    return dx, dw, db
