"""Neural-network building blocks: Module, Parameter, layers, init, functional.

Every layer here is a thin Module around a function of
[`minidl.nn.functional`][minidl.nn.functional], and the ones that learn (Linear, Conv2d) are a
matrix product underneath.

>>> import minidl as md, minidl.nn as nn
>>> model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
>>> sum(p.size for p in model.parameters())
9610
"""

from minidl.nn import functional, init, parallel, utils
from minidl.nn.activation import GELU, ReLU, Sigmoid, Tanh
from minidl.nn.attention import MultiheadAttention
from minidl.nn.containers import ModuleList, Sequential
from minidl.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from minidl.nn.dropout import Dropout
from minidl.nn.embedding import Embedding
from minidl.nn.linear import Flatten, Linear
from minidl.nn.module import Module
from minidl.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm
from minidl.nn.parameter import Parameter
from minidl.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Embedding", "Flatten", "GELU", "GRU", "GRUCell",
    "LSTM", "LSTMCell", "LayerNorm", "Linear", "MaxPool2d", "Module", "ModuleList", "MultiheadAttention", "Parameter",
    "RMSNorm", "RNN", "RNNCell", "ReLU", "Sequential", "Sigmoid", "Tanh", "functional", "init", "parallel", "utils",
]
