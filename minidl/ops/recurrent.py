"""Recurrent cells: one time step of an RNN, LSTM or GRU, as two small GEMMs and a few gates.

Each step multiplies the input by ``w_ih`` and the previous hidden state by
``w_hh`` (PyTorch's layout: weights of shape (gates * hidden, input) and
(gates * hidden, hidden), gates stacked in PyTorch's order), then mixes the
gates elementwise. The next step needs this step's hidden state, so the steps
of a sequence run one after another: a chain of small GEMMs.

    RNN:  h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)                  (or relu)
    LSTM: i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)          (4 gates)
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
    GRU:  r, z, n from x W_ih^T + b_ih and h W_hh^T + b_hh               (3 gates)
          r = sigmoid(x_r + h_r);  z = sigmoid(x_z + h_z);  n = tanh(x_n + r * h_n)
          h' = (1 - z) * n + z * h
"""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import sigmoid, tanh
from minidl.ops.piecewise import relu
from minidl.ops.layout import split
from minidl.ops.linalg import linear


def _chunks(gates: Tensor, count: int) -> list[Tensor]:
    """The ``count`` equal blocks of the last axis (the gates, in PyTorch's order)."""
    size = gates.shape[-1] // count
    return list(split(gates, size, axis=-1))


def rnn_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None, nonlinearity: str = "tanh") -> Tensor:
    """One step of an Elman RNN: ``act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act tanh or relu."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    pre = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    return tanh(pre) if nonlinearity == "tanh" else relu(pre)


def lstm_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step: ``(h', c')`` from gates i, f, g, o (PyTorch's order)."""
    i, f, g, o = _chunks(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh), 4)
    c_next = sigmoid(f) * c + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_next), c_next


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step from gates r, z, n (PyTorch's order); the reset gate scales ``h W_hn^T + b_hn``."""
    x_r, x_z, x_n = _chunks(linear(x, w_ih, b_ih), 3)
    h_r, h_z, h_n = _chunks(linear(h, w_hh, b_hh), 3)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return n + z * (h - n)
