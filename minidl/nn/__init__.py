"""Neural-network building blocks: Module, Parameter, layers, losses, containers, init, functional, parallel.

Every layer here is a thin Module around a function of
[`minidl.nn.functional`][minidl.nn.functional], and most of the ones that learn (Linear, Conv1d,
Conv2d, MultiheadAttention, the recurrent layers) are matrix products underneath.

>>> import minidl as md, minidl.nn as nn
>>> model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
>>> sum(p.size for p in model.parameters())
9610
"""

from minidl.nn import functional, init, parallel, utils
from minidl.nn.activation import (ELU, GELU, Hardtanh, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU,
                                  Softmax, Softplus, Tanh)
from minidl.nn.attention import MultiheadAttention
from minidl.nn.containers import ModuleDict, ModuleList, Sequential
from minidl.nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, MaxPool2d
from minidl.nn.dropout import Dropout
from minidl.nn.embedding import Embedding
from minidl.nn.linear import Linear
from minidl.nn.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                            SmoothL1Loss)
from minidl.nn.module import Module
from minidl.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm
from minidl.nn.parameter import Parameter
from minidl.nn.parameter_containers import ParameterDict, ParameterList
from minidl.nn.reshaping import Flatten, Unflatten
from minidl.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv1d",
    "Conv2d", "CrossEntropyLoss", "Dropout", "ELU", "Embedding", "Flatten", "GELU", "GRU", "GRUCell", "Hardtanh",
    "Identity", "L1Loss", "LSTM", "LSTMCell", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss",
    "MaxPool2d", "Module", "ModuleDict", "ModuleList", "MultiheadAttention", "NLLLoss", "Parameter",
    "ParameterDict", "ParameterList", "RMSNorm", "RNN", "RNNCell", "ReLU", "Sequential", "SiLU", "Sigmoid",
    "SmoothL1Loss", "Softmax", "Softplus", "Tanh", "Unflatten", "functional", "init", "parallel", "utils",
]
