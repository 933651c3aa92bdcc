"""The GPT example: generation with a KV cache gives the tokens of generation without it, and a quick run trains."""

from __future__ import annotations

import importlib

import numpy
import pytest

import minidl as md
from test_examples import EXAMPLES


@pytest.fixture
def gpt(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module("gpt")


@pytest.mark.parametrize("top_k", [1, 5, None])
def test_generation_with_kv_cache_gives_the_same_tokens(gpt, top_k):
    md.manual_seed(0)
    config = gpt.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    model = gpt.GPT(config, dtype=md.float64)
    prompt = numpy.array([[1, 2, 3], [4, 5, 6]])
    # 20 new tokens with a block of 8: the window slides (and the cache is rebuilt) several times
    with_cache = gpt.generate(model, prompt, 20, temperature=1.0, top_k=top_k, seed=3, use_cache=True)
    without = gpt.generate(model, prompt, 20, temperature=1.0, top_k=top_k, seed=3, use_cache=False)
    assert with_cache.shape == (2, 23)
    numpy.testing.assert_array_equal(with_cache, without)


def test_cached_logits_match_a_full_forward(gpt):
    md.manual_seed(1)
    model = gpt.GPT(gpt.GPTConfig(vocab_size=7, block_size=6, n_layer=1, n_head=2, n_embd=8), dtype=md.float64)
    tokens = md.tensor([[1, 2, 3, 4, 5]])
    full, _ = model(tokens)
    cache = gpt.KVCache(1)
    model(tokens[:, :3], cache=cache)
    step, _ = model(tokens[:, 3:4], cache=cache)
    numpy.testing.assert_allclose(step.numpy()[:, 0], full.numpy()[:, 3], atol=1e-12)


def test_tied_head_shares_the_embedding(gpt):
    tied = gpt.GPT(gpt.GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8))
    untied = gpt.GPT(gpt.GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=1, n_embd=8, tie_weights=False))
    assert tied.lm_head.weight is tied.wte.weight
    count = lambda m: sum(p.size for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 7 * 8


@pytest.mark.slow
def test_quick_training_run_lowers_the_loss_and_saves_a_checkpoint(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    train_gpt = importlib.import_module("train_gpt")
    result = train_gpt.main(["--quick", "--quiet", "--checkpoint", str(tmp_path / "gpt.npz")])
    first, last = result["history"][0], result["history"][-1]
    assert last["val"] < first["val"] - 0.5
    saved = md.load(tmp_path / "gpt.npz")
    assert saved["config"]["n_layer"] == 2 and "wte.weight" in saved["model"]
    assert len(result["sample"]) == 101
