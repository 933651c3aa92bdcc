"""Recurrent layers: RNN, LSTM and GRU, and their single-step cells, with PyTorch's parameter names.

A cell holds ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``; a
layer holds them per layer, suffixed ``_l0``, ``_l1``, ..., exactly as
PyTorch names them, with the gates in PyTorch's order, so a PyTorch
``state_dict`` loads and gives the same numbers. All are initialised
``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``, as in PyTorch.

The sequence layers loop over time in Python, one cell step (two small
GEMMs) per time step and layer: see the "Attention is batched GEMM" chapter
for why that chain cannot run in parallel over time.
"""

from __future__ import annotations

import math

from minidl.autograd.dtypes import as_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn import init
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.checks import expect_tensor
from minidl.ops.creation import zeros
from minidl.ops.dropout import dropout
from minidl.ops.recurrent import gru_cell, lstm_cell, rnn_cell
from minidl.ops.shape import expand_dims, squeeze, stack

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, x: Tensor, state: tuple[Tensor, ...], weights: tuple) -> tuple[Tensor, ...]:
    """One time step of one layer: the new state, ``(h,)`` or ``(h, c)`` for an LSTM."""
    if mode == "LSTM":
        return lstm_cell(x, state[0], state[1], *weights)
    if mode == "GRU":
        return (gru_cell(x, state[0], *weights),)
    return (rnn_cell(x, state[0], *weights, nonlinearity="tanh" if mode == "RNN_TANH" else "relu"),)


def _make_weights(module: Module, suffix: str, mode: str, input_size: int, hidden_size: int, bias: bool,
                  dtype, backend) -> None:
    rows = _GATES[mode] * hidden_size
    shapes = [("weight_ih", (rows, input_size)), ("weight_hh", (rows, hidden_size))]
    if bias:
        shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
    bound = 1.0 / math.sqrt(hidden_size)
    for name, shape in shapes:
        parameter = Parameter(zeros(shape, dtype=dtype, backend=backend))
        init.uniform_(parameter, -bound, bound)
        setattr(module, name + suffix, parameter)


class _CellBase(Module):
    mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None,
                 backend: str | None = None) -> None:
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"{type(self).__name__} needs positive sizes, got input_size={input_size}, "
                             f"hidden_size={hidden_size}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dtype = as_dtype(dtype) if dtype is not None else None
        _make_weights(self, "", self.mode, input_size, hidden_size, bias, dtype, backend)

    def _weights(self) -> tuple:
        return (self.weight_ih, self.weight_hh) + ((self.bias_ih, self.bias_hh) if self.bias else ())

    def _prepare(self, x: Tensor, hx) -> tuple[Tensor, bool, tuple[Tensor, ...] | None]:
        expect_tensor(type(self).__name__, x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}) expects input of shape "
                             f"(N, {self.input_size}) or ({self.input_size},), got {x.shape}")
        unbatched = x.ndim == 1
        if hx is None:
            return (expand_dims(x, 0) if unbatched else x), unbatched, None
        states = hx if isinstance(hx, tuple) else (hx,)
        if unbatched:
            states = tuple(expand_dims(s, 0) for s in states)
        return (expand_dims(x, 0) if unbatched else x), unbatched, states

    def _zeros(self, x: Tensor) -> Tensor:
        return zeros((x.shape[0], self.hidden_size), dtype=x.dtype, backend=x.backend)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(_CellBase):
    """One Elman RNN step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

    >>> import minidl as md, minidl.nn as nn
    >>> nn.RNNCell(3, 5)(md.randn(2, 3)).shape
    (2, 5)
    """

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, backend: str | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype, backend)  # tanh and relu: one gate block each
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched, states = self._prepare(x, hx)
        h = rnn_cell(x, states[0] if states else self._zeros(x), *self._weights(), nonlinearity=self.nonlinearity)
        return squeeze(h, 0) if unbatched else h


class LSTMCell(_CellBase):
    """One LSTM step: returns ``(h', c')``; ``hx`` is ``(h, c)`` or None (zeros).

    >>> import minidl as md, minidl.nn as nn
    >>> h, c = nn.LSTMCell(3, 5)(md.randn(2, 3))
    >>> h.shape, c.shape
    ((2, 5), (2, 5))
    """

    mode = "LSTM"

    def forward(self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        x, unbatched, states = self._prepare(x, hx)
        h, c = states if states else (self._zeros(x), self._zeros(x))
        h, c = lstm_cell(x, h, c, *self._weights())
        return (squeeze(h, 0), squeeze(c, 0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """One GRU step: returns ``h'``.

    >>> import minidl as md, minidl.nn as nn
    >>> nn.GRUCell(3, 5)(md.randn(2, 3)).shape
    (2, 5)
    """

    mode = "GRU"

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched, states = self._prepare(x, hx)
        h = gru_cell(x, states[0] if states else self._zeros(x), *self._weights())
        return squeeze(h, 0) if unbatched else h


class _RNNBase(Module):
    mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 backend: str | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        if bidirectional:
            raise NotImplementedError(f"{name}(bidirectional=True) is not implemented in minidl; run a second "
                                      f"{name} on the reversed sequence and concatenate the outputs")
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name} needs positive sizes, got input_size={input_size}, "
                             f"hidden_size={hidden_size}, num_layers={num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must lie in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        dtype = as_dtype(dtype) if dtype is not None else None
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size
            _make_weights(self, f"_l{layer}", self.mode, size, hidden_size, bias, dtype, backend)

    def _layer_weights(self, layer: int) -> tuple:
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        return tuple(getattr(self, f"{n}_l{layer}") for n in names)

    def forward(self, input: Tensor, hx=None):  # noqa: A002 - PyTorch's argument name
        name = type(self).__name__
        expect_tensor(name, input)
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise ValueError(f"{name}(input_size={self.input_size}) expects input of shape {layout} or (L, H_in) "
                             f"with H_in={self.input_size}, got {input.shape}")
        unbatched = input.ndim == 2
        time_axis = 0 if unbatched or not self.batch_first else 1
        steps = [input[i] if time_axis == 0 else input[:, i] for i in range(input.shape[time_axis])]
        if unbatched:
            steps = [expand_dims(x, 0) for x in steps]
        states = self._initial_states(hx, steps[0], unbatched)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.training and self.dropout > 0.0:
                steps = [dropout(x, self.dropout) for x in steps]
            state, weights, outputs = states[layer], self._layer_weights(layer), []
            for x in steps:
                state = _step(self.mode, x, state, weights)
                outputs.append(state[0])
            steps, finals = outputs, finals + [state]
        output = stack(steps, axis=time_axis)
        h_n = stack([s[0] for s in finals], axis=0)
        if unbatched:
            output, h_n = squeeze(output, 1), squeeze(h_n, 1)
        if self.mode != "LSTM":
            return output, h_n
        c_n = stack([s[1] for s in finals], axis=0)
        return output, (h_n, squeeze(c_n, 1) if unbatched else c_n)

    def _initial_states(self, hx, first: Tensor, unbatched: bool) -> list[tuple[Tensor, ...]]:
        count = 2 if self.mode == "LSTM" else 1
        if hx is None:
            zero = zeros((first.shape[0], self.hidden_size), dtype=first.dtype, backend=first.backend)
            return [(zero,) * count for _ in range(self.num_layers)]
        given = hx if isinstance(hx, tuple) else (hx,)
        if len(given) != count:
            raise ValueError(f"{type(self).__name__}: hx should be {'(h_0, c_0)' if count == 2 else 'h_0'}")
        expected = (self.num_layers, self.hidden_size) if unbatched else (self.num_layers, first.shape[0],
                                                                           self.hidden_size)
        for state in given:
            if tuple(state.shape) != expected:
                raise ValueError(f"{type(self).__name__}: initial state of shape {state.shape}, expected {expected} "
                                 f"(num_layers, N, hidden_size)")
        if unbatched:
            given = tuple(expand_dims(s, 1) for s in given)
        return [tuple(s[layer] for s in given) for layer in range(self.num_layers)]

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}")


class RNN(_RNNBase):
    """Elman RNN over a sequence: returns ``(output, h_n)``, as ``torch.nn.RNN``.

    >>> import minidl as md, minidl.nn as nn
    >>> output, h_n = nn.RNN(3, 5, num_layers=2, batch_first=True)(md.randn(4, 7, 3))
    >>> output.shape, h_n.shape
    ((4, 7, 5), (2, 4, 5))
    """

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, backend: str | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype,
                         backend)  # tanh and relu: one gate block each
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


class LSTM(_RNNBase):
    """LSTM over a sequence: returns ``(output, (h_n, c_n))``, as ``torch.nn.LSTM`` (no ``proj_size``).

    >>> import minidl as md, minidl.nn as nn
    >>> output, (h_n, c_n) = nn.LSTM(3, 5, batch_first=True)(md.randn(4, 7, 3))
    >>> output.shape, h_n.shape, c_n.shape
    ((4, 7, 5), (1, 4, 5), (1, 4, 5))
    """

    mode = "LSTM"


class GRU(_RNNBase):
    """GRU over a sequence: returns ``(output, h_n)``, as ``torch.nn.GRU``."""

    mode = "GRU"
