"""Optimizers: how a gradient becomes an update.

>>> import minidl as md, minidl.nn as nn, minidl.optim as optim
>>> model = nn.Linear(4, 2)
>>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> model(md.ones((3, 4))).sum().backward()
>>> opt.step(); opt.zero_grad()
"""

from minidl.optim import lr_scheduler
from minidl.optim.adam import Adam, AdamW
from minidl.optim.optimizer import Optimizer
from minidl.optim.sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "SGD", "lr_scheduler"]
