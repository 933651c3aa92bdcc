"""A character-level text corpus bundled inside minidl: tiny Shakespeare, for language models.

``tinyshakespeare.txt.xz`` next to this file is the corpus of char-rnn and
nanoGPT (Shakespeare's plays, public domain; provenance and checksum in
``tinyshakespeare-NOTICE.md``). It is decompressed with the standard
library's ``lzma`` and checked against its SHA-256 on every load. The split
is nanoGPT's: the first 90% of the characters for training, the last 10%
for validation.
"""

from __future__ import annotations

import hashlib
import lzma
from dataclasses import dataclass, field
from pathlib import Path

import numpy

from minidl.autograd.tensor import Tensor
from minidl.data.dataset import to_tensors
from minidl.data.download import ChecksumError

SHAKESPEARE_FILE = Path(__file__).with_name("tinyshakespeare.txt.xz")
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
TRAIN_FRACTION = 0.9


@dataclass
class CharCorpus:
    """A text as integer tokens, one per character, with its vocabulary and the two splits.

    ``train`` and ``val`` are host int64 arrays of token ids; ``encode`` and
    ``decode`` translate between strings and ids; ``batch`` draws random
    windows for next-character prediction.
    """

    text: str
    chars: str
    train: numpy.ndarray
    val: numpy.ndarray
    _index: dict[str, int] = field(repr=False, default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; a character outside the vocabulary is an error that names it."""
        try:
            return [self._index[c] for c in text]
        except KeyError as missing:
            raise ValueError(f"encode: character {missing.args[0]!r} is not in this corpus's vocabulary of "
                             f"{self.vocab_size} characters") from None

    def decode(self, ids) -> str:
        """The text of token ids (a list, a NumPy array or a Tensor)."""
        if isinstance(ids, Tensor):
            ids = ids.tolist()
        return "".join(self.chars[int(i)] for i in ids)

    def batch(self, split: str, batch_size: int, block_size: int, rng: numpy.random.Generator,
              backend: str | None = None) -> tuple[Tensor, Tensor]:
        """``batch_size`` random windows ``(x, y)`` of ``block_size`` tokens; ``y`` is ``x`` shifted by one.

        Drawn with the given host generator, so a seed fixes the batches on every backend.
        """
        if split not in ("train", "val"):
            raise ValueError(f"batch: split must be 'train' or 'val', got {split!r}")
        data = self.train if split == "train" else self.val
        if block_size >= len(data):
            raise ValueError(f"batch: block_size {block_size} must be shorter than the {split} split "
                             f"({len(data)} tokens)")
        starts = rng.integers(0, len(data) - block_size, size=batch_size)
        windows = starts[:, None] + numpy.arange(block_size + 1)[None, :]
        tokens = data[windows]
        return to_tensors((tokens[:, :-1], tokens[:, 1:]), backend)


def char_corpus(text: str, train_fraction: float = TRAIN_FRACTION) -> CharCorpus:
    """Any text as a `CharCorpus`: vocabulary = its sorted distinct characters, split by position."""
    chars = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(chars)}
    ids = numpy.fromiter((index[c] for c in text), dtype=numpy.int64, count=len(text))
    cut = int(len(ids) * train_fraction)
    return CharCorpus(text=text, chars=chars, train=ids[:cut], val=ids[cut:], _index=index)


def tinyshakespeare() -> CharCorpus:
    """The tiny-Shakespeare corpus (1,115,394 characters, 65 distinct), split 90/10 into train and val.

    >>> import minidl as md
    >>> corpus = md.data.tinyshakespeare()
    >>> corpus.vocab_size, len(corpus.train), len(corpus.val)
    (65, 1003854, 111540)
    >>> corpus.decode(corpus.encode("To be"))
    'To be'
    """
    raw = lzma.decompress(SHAKESPEARE_FILE.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHAKESPEARE_SHA256:
        raise ChecksumError(f"{SHAKESPEARE_FILE} decompresses to text with SHA-256 {digest}, expected "
                            f"{SHAKESPEARE_SHA256}; the installed file is damaged: reinstall minidl")
    return char_corpus(raw.decode("utf-8"))
