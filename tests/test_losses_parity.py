"""Losses and activations against PyTorch: forward and input gradient on every backend, and gradcheck."""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((6, 4)) * 2
LABELS = np.array([0, 3, 1, -100, 2, 3])
IMAGE_LOGITS = rng.standard_normal((2, 3, 2, 2))
IMAGE_LABELS = np.array([[[0, 2], [1, 1]], [[2, 0], [-100, 1]]])
PROBABILITIES = rng.uniform(0.05, 0.95, (5, 3))
TARGETS01 = rng.uniform(0, 1, (5, 3))
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])


def compare(ours, theirs, inputs, constants=(), rtol=1e-10):
    """Loss value and gradient of the first input (summed with random weights when not reduced)."""
    first = md.tensor(inputs[0], dtype=md.float64, requires_grad=True)
    rest = [md.tensor(a) if a.dtype.kind in "iu" else md.tensor(a, dtype=md.float64) for a in constants]
    got = ours(first, *rest)
    t_first = torch.tensor(inputs[0], dtype=torch.float64, requires_grad=True)
    t_rest = [torch.tensor(a) if a.dtype.kind in "iu" else torch.tensor(a, dtype=torch.float64) for a in constants]
    want = theirs(t_first, *t_rest)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=rtol, atol=1e-12)
    mix = rng.standard_normal(want.shape)
    (got * md.tensor(mix, dtype=md.float64)).sum().backward()
    (want * torch.tensor(mix)).sum().backward()
    np.testing.assert_allclose(first.grad.numpy(), t_first.grad.numpy(), rtol=1e-9, atol=1e-12)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [dict(), dict(label_smoothing=0.1), dict(ignore_index=3),
                                     dict(weight=CLASS_WEIGHT), dict(weight=CLASS_WEIGHT, label_smoothing=0.2)],
                         ids=["plain", "smoothing", "ignore3", "weight", "weight+smoothing"])
def test_cross_entropy_matches_pytorch(backend, reduction, options):
    labels = np.where(LABELS == -100, 1, LABELS) if "ignore_index" not in options else LABELS.clip(0)
    if not options:
        labels = LABELS  # the default ignore_index, -100, skips a row

    def ours(x, y):
        extra = {**options, "weight": md.tensor(options["weight"], dtype=md.float64)} if "weight" in options else options
        return F.cross_entropy(x, y, reduction=reduction, **extra)

    def theirs(x, y):
        extra = {**options, "weight": torch.tensor(options["weight"])} if "weight" in options else options
        return TF.cross_entropy(x, y, reduction=reduction, **extra)

    compare(ours, theirs, [LOGITS], [labels])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_every_label_valid_takes_the_one_hot_path_to_the_same_bits(backend, reduction):
    """Every label valid and no weight (the usual case, a faster path): PyTorch's numbers, and bit for bit
    those of the general path (reached here through a weight of ones), a -inf logit included."""
    logits = LOGITS.copy()
    logits[1, 0] = -np.inf  # a class masked out, which the row's label (3) does not pick
    labels = np.where(LABELS == -100, 1, LABELS)
    compare(lambda x, y: F.cross_entropy(x, y, reduction=reduction),
            lambda x, y: TF.cross_entropy(x, y, reduction=reduction), [logits], [labels])
    results = []
    for weight in (None, md.ones((4,))):
        x = md.tensor(logits.astype(np.float32), requires_grad=True)
        loss = F.cross_entropy(x, md.tensor(labels), weight=weight, reduction=reduction)
        (loss.sum() if reduction == "none" else loss).backward()
        results.append((loss.numpy(), x.grad.numpy()))
    for fast, general in zip(*results):
        np.testing.assert_array_equal(fast, general)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_on_images_and_with_probability_targets(backend, reduction):
    compare(lambda x, y: F.cross_entropy(x, y, reduction=reduction, label_smoothing=0.1),
            lambda x, y: TF.cross_entropy(x, y, reduction=reduction, label_smoothing=0.1),
            [IMAGE_LOGITS], [IMAGE_LABELS])
    soft = rng.dirichlet(np.ones(4), size=6)
    compare(lambda x, y: F.cross_entropy(x, y, reduction=reduction, label_smoothing=0.05),
            lambda x, y: TF.cross_entropy(x, y, reduction=reduction, label_smoothing=0.05), [LOGITS], [soft])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_pytorch(backend, reduction, weighted):
    log_probs = np.log(rng.dirichlet(np.ones(4), size=6))
    ours_w = dict(weight=md.tensor(CLASS_WEIGHT, dtype=md.float64)) if weighted else {}
    theirs_w = dict(weight=torch.tensor(CLASS_WEIGHT)) if weighted else {}
    compare(lambda x, y: F.nll_loss(x, y, reduction=reduction, **ours_w),
            lambda x, y: TF.nll_loss(x, y, reduction=reduction, **theirs_w), [log_probs], [LABELS])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
                                          ("smooth_l1_loss", dict(beta=0.3)), ("smooth_l1_loss", dict(beta=0.0))])
def test_regression_losses_match_pytorch(backend, reduction, name, kwargs):
    prediction, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    compare(lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kwargs),
            lambda x, y: getattr(TF, name)(x, y, reduction=reduction, **kwargs), [prediction], [target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_pytorch(backend, reduction, weighted):
    weight = [rng.uniform(0.5, 2.0, (5, 3))] if weighted else []
    compare(lambda x, y, *w: F.binary_cross_entropy(x, y, *w, reduction=reduction),
            lambda x, y, *w: TF.binary_cross_entropy(x, y, *w, reduction=reduction),
            [PROBABILITIES], [TARGETS01] + weight)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, np.array([0.5, 2.0, 3.0])])
def test_binary_cross_entropy_with_logits_matches_pytorch(backend, reduction, pos_weight):
    logits = rng.standard_normal((5, 3)) * 30  # far into the tails: still no overflow
    extra = [] if pos_weight is None else [pos_weight]
    compare(lambda x, y, *p: F.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                                pos_weight=p[0] if p else None),
            lambda x, y, *p: TF.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                                 pos_weight=p[0] if p else None),
            [logits], [TARGETS01] + extra)


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    (F.silu, TF.silu),
    (lambda x: F.softplus(x), lambda x: TF.softplus(x)),
    (lambda x: F.softplus(x, beta=2.0, threshold=3.0), lambda x: TF.softplus(x, beta=2.0, threshold=3.0)),
    (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
], ids=["leaky_relu", "elu", "silu", "softplus", "softplus-beta", "hardtanh"])
def test_activations_match_pytorch_and_gradcheck(backend, ours, theirs):
    x = rng.standard_normal((4, 5)) * 3
    compare(lambda a: ours(a), lambda a: theirs(a), [x])
    assert md.gradcheck(lambda a: ours(a).sum(), [md.tensor(x, dtype=md.float64, requires_grad=True)])


@pytest.mark.parametrize("loss", [
    lambda x: F.cross_entropy(x, md.tensor(LABELS), label_smoothing=0.1, weight=md.tensor(CLASS_WEIGHT,
                                                                                          dtype=md.float64)),
    lambda x: F.nll_loss(F.log_softmax(x, axis=1), md.tensor(LABELS)),
    lambda x: F.smooth_l1_loss(x, md.zeros((6, 4), dtype=md.float64), beta=0.5),
    lambda x: F.binary_cross_entropy_with_logits(x, md.ones((6, 4), dtype=md.float64) * 0.3,
                                                 pos_weight=md.tensor([1.0, 2.0, 0.5, 3.0], dtype=md.float64)),
    lambda x: F.binary_cross_entropy(F.sigmoid(x), md.ones((6, 4), dtype=md.float64) * 0.3),
], ids=["cross_entropy", "nll", "smooth_l1", "bce_logits", "bce"])
def test_losses_pass_gradcheck(backend, loss):
    assert md.gradcheck(loss, [md.tensor(LOGITS, dtype=md.float64, requires_grad=True)])


def test_cross_entropy_gradient_of_gradient_matches_pytorch():
    x = md.tensor(LOGITS, dtype=md.float64, requires_grad=True)
    F.cross_entropy(x, md.tensor(LABELS), label_smoothing=0.1).backward(create_graph=True)
    grad, x.grad = x.grad, None
    (grad * grad).sum().backward()
    tx = torch.tensor(LOGITS, requires_grad=True)
    (tgrad,) = torch.autograd.grad(TF.cross_entropy(tx, torch.tensor(LABELS), label_smoothing=0.1), [tx],
                                   create_graph=True)
    (tgrad * tgrad).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_loss_errors_say_what_to_do():
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(md.ones(3), md.ones(3), reduction="avg")
    with pytest.raises(ValueError, match=r"probability in \[0, 1\].*sigmoid"):
        F.binary_cross_entropy(md.tensor([1.5]), md.tensor([1.0]))
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(md.ones((2, 3)), md.tensor([0, 1]), weight=md.ones(4))
    with pytest.raises(ValueError, match=r"expected \(2, 5\)"):
        F.cross_entropy(md.ones((2, 3, 5)), md.tensor([0, 1]))
    with pytest.raises(TypeError, match="integer class labels"):
        F.nll_loss(md.ones((2, 3)), md.ones((2, 3)))


def test_the_mean_over_only_ignored_labels_is_nan_as_in_pytorch():
    labels = md.tensor([-100, -100])
    assert np.isnan(F.cross_entropy(md.ones((2, 3)), labels).item())
    assert np.isnan(F.nll_loss(md.ones((2, 3)), labels).item())
    assert np.isnan(TF.cross_entropy(torch.ones(2, 3), torch.tensor([-100, -100])).item())
