"""``from minidl.utils.data import DataLoader, Dataset, TensorDataset, random_split``: PyTorch's path.

Everything here is `minidl.data` (``md.data``), under the name a PyTorch
program imports it by.

>>> from minidl.utils.data import DataLoader, TensorDataset
>>> import minidl as md
>>> DataLoader is md.data.DataLoader
True
"""

from minidl.data import *  # noqa: F401,F403 - the same names
from minidl.data import __all__  # noqa: F401
