"""Bad input to the engine: each mistake gets a clear sentence naming what was wrong and what to do.

(Layers, optimizers, data and checkpoints have their own bad-input tests beside them.)
"""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F


def other_backend(name):
    return "array_api_strict" if name == "numpy" else "numpy"


# ---- shapes -----------------------------------------------------------------------------------------
def test_matmul_shape_mismatch_names_both_shapes_and_the_rule(backend):
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) do not fit.*last axis"):
        md.ones((2, 3)) @ md.ones((2, 3))


def test_batched_matmul_with_batch_axes_that_do_not_broadcast(backend):
    with pytest.raises(ValueError, match=r"matmul \(batch axes\): shapes \(2,\) and \(3,\)"):
        md.ones((2, 2, 3)) @ md.ones((3, 3, 4))


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a * b, "multiply"), (md.maximum, "maximum"),
    (lambda a, b: md.where(a > 0, a, b), "where"),
])
def test_broadcasting_mismatch_names_the_op_and_both_shapes(backend, op, name):
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        op(md.ones((2, 3)), md.ones(4))


# ---- backends -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda a, b: a * b, lambda a, b: a @ b.T, lambda a, b: md.concat([a, b]), lambda a, b: F.linear(a, b),
    lambda a, b: md.where(a > 0, a, b),
], ids=["multiply", "matmul", "concat", "linear", "where"])
def test_mixing_two_backends_names_both(backend, op):
    other = other_backend(backend)
    here, there = md.ones((2, 3)), md.ones((2, 3), backend=other)
    with pytest.raises(ValueError, match=rf"two backends.*{backend!r}.*{other!r}.*\.to\("):
        op(here, there)


def test_cross_entropy_target_on_another_backend_names_both(backend):
    other = other_backend(backend)
    with pytest.raises(ValueError, match=rf"cross_entropy got tensors on two backends, {backend!r} and {other!r}"):
        F.cross_entropy(md.ones((2, 3)), md.tensor([0, 1], backend=other))


def test_unknown_backend_lists_the_known_ones():
    for call in (lambda: md.set_backend("tensorflow"), lambda: md.using_backend("mxnet").__enter__(),
                 lambda: md.zeros(2, backend="tpu"), lambda: md.zeros(2).to("tpu")):
        with pytest.raises(ValueError, match=r"unknown backend .*known backends are array_api_strict, cupy, dask, "
                                             r"jax, ndonnx, numpy, torch"):
            call()


# ---- backward ---------------------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_says_what_to_pass(backend):
    y = md.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"shape \(3,\); reduce it first \(loss.sum\(\) or loss.mean\(\)\) or pass "
                                           r"backward\(grad\) with a gradient of shape \(3,\)"):
        y.backward()


def test_backward_on_a_tensor_without_grad_says_why(backend):
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        md.ones(3).sum().backward()


def test_backward_with_a_grad_of_the_wrong_shape_or_dtype(backend):
    y = md.ones(3, requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"grad has shape \(2,\), expected \(3,\)"):
        y.backward(md.ones(2))
    with pytest.raises(TypeError, match=r"grad is float64 but the tensor is float32; pass grad.astype\(md.float32\)"):
        y.backward(md.ones(3, dtype=md.float64))


def test_backward_twice_on_a_freed_graph_says_retain_graph(backend):
    x = md.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"freed by an earlier backward\(\).*retain_graph=True"):
        y.backward()


def test_backward_through_a_freed_intermediate_says_retain_graph(backend):
    x = md.ones(3, requires_grad=True)
    hidden = x * x
    hidden.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (hidden * 2).sum().backward()


def test_retain_graph_allows_a_second_backward(backend):
    x = md.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


# ---- labels ------------------------------------------------------------------------------------------------
def test_cross_entropy_refuses_float_labels_and_says_how_to_convert(backend):
    with pytest.raises(TypeError, match=r"integer class labels, got a float32 target.*astype\(md.int64\)"):
        F.cross_entropy(md.ones((2, 3)), md.tensor([0.0, 1.0]))


@pytest.mark.parametrize("labels, found", [([0, 3], "from 0 to 3"), ([-1, 2], "from -1 to 2")])
def test_cross_entropy_labels_out_of_range(backend, labels, found):
    with pytest.raises(ValueError, match=rf"labels must lie in \[0, 2\] for 3 classes, found labels {found}"):
        F.cross_entropy(md.ones((2, 3)), md.tensor(labels))


def test_cross_entropy_label_count_must_match_the_batch(backend):
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match logits \(2, 3\)"):
        F.cross_entropy(md.ones((2, 3)), md.tensor([0, 1, 2]))


# ---- float widths -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a @ b.T, lambda a, b: md.where(a > 0, a, b), lambda a, b: md.concat([a, b]),
    lambda a, b: F.linear(a, b), lambda a, b: F.binary_cross_entropy_with_logits(a, b), lambda a, b: F.mse_loss(a, b),
], ids=["add", "matmul", "where", "concat", "linear", "bce_with_logits", "mse_loss"])
def test_float32_and_float64_never_mix_silently(backend, op):
    with pytest.raises(TypeError, match=r"float32.*float64.*astype"):
        op(md.ones((2, 3)), md.ones((2, 3), dtype=md.float64))


def test_a_float64_numpy_array_does_not_promote_a_float32_tensor():
    with md.using_backend("numpy"), pytest.raises(TypeError, match="float32 tensor and a float64 tensor"):
        md.ones(3) * np.ones(3)


def test_integers_still_meet_floats_as_floats(backend):
    assert (md.ones(2) + md.tensor([1, 2])).dtype == md.float32
    assert (md.ones(2, dtype=md.float64) * 2).dtype == md.float64
