"""A character-level GPT in minidl: the model and its generation, with and without a KV cache.

Not run directly: ``train_gpt.py`` trains it, ``benchmarks/gpt_step.py`` times it.
The structure is nanoGPT's (Karpathy): token + position embeddings, ``n_layer``
pre-norm blocks (LayerNorm -> causal self-attention -> residual, LayerNorm ->
MLP with GELU -> residual), a final LayerNorm and a linear head to the
vocabulary, optionally tied to the token embedding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    tie_weights: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


class KVCache:
    """The keys and values of the tokens seen so far, per layer: each new token attends to them all."""

    def __init__(self, n_layer: int) -> None:
        self.keys: list = [None] * n_layer
        self.values: list = [None] * n_layer

    def length(self, layer: int = 0) -> int:
        """How many tokens ``layer`` has cached."""
        return 0 if self.keys[layer] is None else self.keys[layer].shape[2]

    def append(self, layer: int, k: md.Tensor, v: md.Tensor) -> tuple[md.Tensor, md.Tensor]:
        """Add this step's (B, H, T, D) keys and values; return all of them so far."""
        if self.keys[layer] is not None:
            k = md.concat([self.keys[layer], k], axis=2)
            v = md.concat([self.values[layer], v], axis=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig, dtype=None) -> None:
        super().__init__()
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, dtype=dtype)  # q, k, v in one GEMM
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, dtype=dtype)
        self.dropout = config.dropout

    def forward(self, x: md.Tensor, cache: KVCache | None = None, layer: int = 0) -> md.Tensor:
        batch, length, channels = x.shape
        qkv = self.c_attn(x)
        q, k, v = qkv.split(channels, dim=2)
        heads = (batch, length, self.n_head, channels // self.n_head)
        q, k, v = (md.permute_dims(t.reshape(heads), (0, 2, 1, 3)) for t in (q, k, v))  # (B, H, T, D)
        past = 0
        if cache is not None:
            past = cache.length(layer)
            k, v = cache.append(layer, k, v)
        if past and length > 1:
            raise ValueError("with a KV cache, feed the prompt once (empty cache) and then one token at a time")
        # A new token may look at every cached one: the causal mask is only needed within a prefill.
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=past == 0)
        y = md.permute_dims(y, (0, 2, 1, 3)).reshape(batch, length, channels)
        return F.dropout(self.c_proj(y), self.dropout, self.training)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig, dtype=None) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, dtype=dtype)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, dtype=dtype)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: md.Tensor) -> md.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm: normalise, transform, add back (the residual stream carries the rest)."""

    def __init__(self, config: GPTConfig, dtype=None) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, dtype=dtype)
        self.attn = CausalSelfAttention(config, dtype)
        self.ln_2 = nn.LayerNorm(config.n_embd, dtype=dtype)
        self.mlp = MLP(config, dtype)

    def forward(self, x: md.Tensor, cache: KVCache | None = None, layer: int = 0) -> md.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig, dtype=None) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd, dtype=dtype)
        self.wpe = nn.Embedding(config.block_size, config.n_embd, dtype=dtype)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([Block(config, dtype) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, dtype=dtype)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False, dtype=dtype)
        if config.tie_weights:
            self.lm_head.weight = self.wte.weight  # one Parameter, used twice: its gradients add up
        self._init_weights()

    def _init_weights(self) -> None:
        """nanoGPT's: N(0, 0.02) weights, zero biases, residual projections scaled by 1/sqrt(2 n_layer)."""
        for name, parameter in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(parameter)
            elif ".ln_" in f".{name}":  # LayerNorm scales
                nn.init.ones_(parameter)
            elif name.endswith("c_proj.weight"):
                nn.init.normal_(parameter, 0.0, 0.02 / math.sqrt(2 * self.config.n_layer))
            else:
                nn.init.normal_(parameter, 0.0, 0.02)

    def forward(self, idx: md.Tensor, targets: md.Tensor | None = None, cache: KVCache | None = None):
        """Logits (B, T, vocab), and the mean cross-entropy when ``targets`` is given."""
        batch, length = idx.shape
        start = cache.length() if cache is not None else 0
        if start + length > self.config.block_size:
            raise ValueError(f"sequence of {start + length} tokens is longer than block_size "
                             f"{self.config.block_size}")
        positions = md.arange(start, start + length, dtype=md.int64)
        x = self.drop(self.wte(idx) + self.wpe(positions))
        for layer, block in enumerate(self.h):
            x = block(x, cache, layer)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.reshape(batch * length, -1), targets.reshape(batch * length))


def sample(logits: md.Tensor, temperature: float, top_k: int | None, generator: md.Generator) -> numpy.ndarray:
    """One token id per row of ``logits`` (B, vocab), drawn from the softened, top-k distribution."""
    scores = logits.astype(md.float64) / max(temperature, 1e-8)
    if top_k is not None and top_k < scores.shape[-1]:
        kth = md.topk(scores, top_k, dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, -math.inf)
    probabilities = F.softmax(scores, dim=-1)
    return md.multinomial(probabilities, 1, generator=generator)[:, 0].numpy()


def generate(model: GPT, idx: numpy.ndarray, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, seed: int = 0, use_cache: bool = True) -> numpy.ndarray:
    """Extend ``idx`` (B, T) host token ids by ``max_new_tokens``; the same tokens with or without the cache.

    The context is the tokens since a window start; when the window reaches
    ``block_size`` it slides forward by half a block. Without a cache, every
    step runs the whole window through the model (a prefill each time); with
    one, the window is prefilled once and each new token is a decode step
    (one token against the cached keys and values).
    """
    block = model.config.block_size
    generator = md.Generator().manual_seed(seed)
    tokens, window_start, cache = numpy.asarray(idx, dtype=numpy.int64), 0, None
    was_training = model.training
    model.eval()
    with md.no_grad():
        for _ in range(max_new_tokens):
            if tokens.shape[1] - window_start > block:
                window_start, cache = tokens.shape[1] - block // 2, None
            if not use_cache:
                logits, _ = model(md.tensor(tokens[:, window_start:]))
            elif cache is None:
                cache = KVCache(model.config.n_layer)
                logits, _ = model(md.tensor(tokens[:, window_start:]), cache=cache)
            else:
                logits, _ = model(md.tensor(tokens[:, -1:]), cache=cache)
            next_token = sample(logits[:, -1, :], temperature, top_k, generator)
            tokens = numpy.concatenate([tokens, next_token[:, None]], axis=1)
    model.train(was_training)
    return tokens
