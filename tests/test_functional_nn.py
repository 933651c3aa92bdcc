"""batch_norm, dropout and embedding: values and float64 gradients on each backend."""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from conftest import f64


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 2, 2)], ids=["NC", "NCL", "NCHW"])
def test_batch_norm_training_standardises_each_channel(backend, shape):
    x = f64(*shape) * 3.0 + 2.0
    y = F.batch_norm(x, None, None, training=True).numpy()
    axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1, rtol=1e-4)


def test_batch_norm_gradient_in_training(backend):
    x, w, b = f64(4, 3, 2, 2), f64(3), f64(3)
    assert md.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


def test_batch_norm_gradient_in_evaluation(backend):
    x, w, b = f64(5, 3), f64(3), f64(3)
    running_mean, running_var = f64(3), f64(3, low=0.5)
    assert md.gradcheck(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b), [x, w, b])


def test_batch_norm_updates_running_statistics_like_pytorch(backend):
    x = f64(8, 2, 3)
    running_mean, running_var = md.zeros((2,), dtype=md.float64), md.ones((2,), dtype=md.float64)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.1)
    host = x.numpy()
    np.testing.assert_allclose(running_mean.numpy(), 0.1 * host.mean(axis=(0, 2)), rtol=1e-12)
    unbiased = host.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(running_var.numpy(), 0.9 + 0.1 * unbiased, rtol=1e-12)


def test_batch_norm_evaluation_uses_running_statistics():
    x = md.tensor([[1.0, 4.0], [3.0, 8.0]])
    y = F.batch_norm(x, md.tensor([1.0, 2.0]), md.tensor([4.0, 1.0]), eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[0.0, 2.0], [1.0, 6.0]])


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(md.ones((1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match=r"running_mean has shape \(4,\), expected \(3,\)"):
        F.batch_norm(md.ones((2, 3)), md.zeros((4,)), md.ones((4,)))


def seeded_dropout(p):
    def apply(x):
        md.manual_seed(3)  # the same mask on every call: a fixed mask for the finite differences
        return F.dropout(x, p)
    return apply


def test_dropout_gradient_with_a_fixed_mask(backend):
    assert md.gradcheck(seeded_dropout(0.4), [f64(4, 5)])


def test_dropout_zeros_a_fraction_p_and_scales_the_rest(backend):
    md.manual_seed(0)
    y = F.dropout(md.ones((20000,)), p=0.3).numpy()
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((y == 0).mean() - 0.3) < 0.02


def test_dropout_mask_is_the_same_on_every_backend():
    masks = []
    for name in ("numpy", "array_api_strict"):
        with md.using_backend(name):
            masks.append(seeded_dropout(0.5)(md.ones((50,))).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])


def test_dropout_is_the_identity_in_evaluation_and_checks_p():
    x = md.ones((3,))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 1.0).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout(x, 1.5)


def test_embedding_picks_rows(backend):
    weight = f64(5, 3)
    indices = md.tensor([[4, 0], [2, 2]])
    result = F.embedding(indices, weight)
    assert result.shape == (2, 2, 3)
    np.testing.assert_array_equal(result.numpy(), weight.numpy()[[[4, 0], [2, 2]]])


def test_embedding_gradient_adds_over_repeated_indices(backend):
    indices = md.tensor([[1, 3, 1], [1, 0, 3]])
    assert md.gradcheck(lambda w: F.embedding(indices, w), [f64(4, 2)])
    weight = md.zeros((4, 2), requires_grad=True)
    F.embedding(indices, weight).sum().backward()
    assert weight.grad.numpy()[:, 0].tolist() == [1.0, 3.0, 0.0, 2.0]


def test_embedding_errors():
    with pytest.raises(IndexError, match=r"\[0, 3\].*from 0 to 4"):
        F.embedding(md.tensor([0, 4]), md.zeros((4, 2)))
    with pytest.raises(TypeError, match="integers"):
        F.embedding(md.tensor([0.0, 1.0]), md.zeros((4, 2)))
