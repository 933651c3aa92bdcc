"""Data for training: datasets, the DataLoader that batches them, and ready-made data sets.

Datasets keep their samples on the host (NumPy); the DataLoader gathers each
batch there with one fancy-indexing call and moves it to the current backend
in one transfer.

>>> import minidl as md
>>> loader = md.data.DataLoader(md.data.digits("train"), batch_size=64, shuffle=True, seed=0)
>>> x, y = next(iter(loader))
>>> x.shape, y.shape, x.dtype, y.dtype
((64, 64), (64,), minidl.float32, minidl.int64)
"""

from minidl.data.dataset import Dataset, TensorDataset
from minidl.data.bundled import digits
from minidl.data.download import ChecksumError, DownloadError, data_home
from minidl.data.idx import IdxError, read_idx, write_idx
from minidl.data.loader import DataLoader
from minidl.data.sampler import DistributedSampler
from minidl.data.split import Subset, random_split
from minidl.data.downloaded import fashion_mnist, mnist
from minidl.data.synthetic import spiral
from minidl.data.text import CharCorpus, char_corpus, tinyshakespeare

__all__ = [
    "CharCorpus", "ChecksumError", "DataLoader", "Dataset", "DistributedSampler", "DownloadError", "IdxError", "Subset",
    "TensorDataset", "char_corpus", "data_home", "digits", "fashion_mnist", "mnist", "random_split", "read_idx", "spiral", "tinyshakespeare", "write_idx",
]
