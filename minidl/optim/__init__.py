"""Optimizers: how a gradient becomes an update.

>>> import minidl as md, minidl.nn as nn, minidl.optim as optim
>>> model = nn.Linear(4, 2)
>>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> model(md.ones((3, 4))).sum().backward()
>>> opt.step(); opt.zero_grad()
"""

from minidl.optim import lr_scheduler
from minidl.optim.adadelta import Adadelta
from minidl.optim.adagrad import Adagrad
from minidl.optim.adam import Adam, AdamW
from minidl.optim.optimizer import Optimizer
from minidl.optim.rmsprop import RMSprop
from minidl.optim.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
