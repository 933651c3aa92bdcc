"""Exercise causal_mask: the mask, the softmax, and attention that cannot see the future."""

from __future__ import annotations

import numpy as np
import pytest

EXERCISE = "causal_mask"


def test_the_mask(ex):
    mask = ex.causal_mask(4)
    assert mask.shape == (4, 4)
    assert np.all(np.isneginf(mask[np.triu_indices(4, 1)])) and np.all(mask[np.tril_indices(4)] == 0)


def test_rows_sum_to_one_with_nothing_above_the_diagonal_even_for_huge_scores(ex):
    scores = np.random.default_rng(0).standard_normal((2, 5, 5)) * 1000
    p = ex.masked_softmax(scores)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    assert np.all(p[..., np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


def test_attention_does_not_see_the_future(ex):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((6, 4)) for _ in range(3))
    out = ex.causal_attention(q, k, v)
    k2, v2 = k.copy(), v.copy()
    k2[4:], v2[4:] = 99.0, -99.0                     # change positions 4 and 5 only
    np.testing.assert_allclose(ex.causal_attention(q, k2, v2)[:4], out[:4], rtol=1e-12)


def test_matches_pytorch(ex):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 7, 8)) for _ in range(3))
    expected = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), is_causal=True)
    np.testing.assert_allclose(ex.causal_attention(q, k, v), expected.numpy(), rtol=1e-10, atol=1e-12)
