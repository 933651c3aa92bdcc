"""Layers: output shapes, parameter counts, modes, buffers and clear errors."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim


def count(module):
    return sum(p.size for p in module.parameters())


@pytest.mark.parametrize("layer, input_shape, output_shape, parameters", [
    (lambda: nn.Linear(64, 10), (32, 64), (32, 10), 64 * 10 + 10),
    (lambda: nn.Linear(64, 10, bias=False), (32, 64), (32, 10), 640),
    (lambda: nn.Conv2d(3, 8, 3), (2, 3, 10, 9), (2, 8, 8, 7), 8 * 3 * 9 + 8),
    (lambda: nn.Conv2d(3, 8, 3, stride=2, padding=1), (2, 3, 10, 9), (2, 8, 5, 5), 8 * 3 * 9 + 8),
    (lambda: nn.Conv2d(1, 4, (2, 3), bias=False), (2, 1, 5, 5), (2, 4, 4, 3), 24),
    (lambda: nn.MaxPool2d(2), (2, 3, 8, 7), (2, 3, 4, 3), 0),
    (lambda: nn.MaxPool2d(3, stride=1), (2, 3, 8, 8), (2, 3, 6, 6), 0),
    (lambda: nn.AvgPool2d(2), (2, 3, 8, 8), (2, 3, 4, 4), 0),
    (lambda: nn.Flatten(), (2, 3, 4, 5), (2, 60), 0),
    (lambda: nn.BatchNorm1d(6), (4, 6), (4, 6), 12),
    (lambda: nn.BatchNorm1d(6), (4, 6, 3), (4, 6, 3), 12),
    (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5), (4, 3, 5, 5), 6),
    (lambda: nn.Dropout(0.5), (4, 6), (4, 6), 0),
    (lambda: nn.ReLU(), (4, 6), (4, 6), 0),
    (lambda: nn.Sigmoid(), (4, 6), (4, 6), 0),
    (lambda: nn.Tanh(), (4, 6), (4, 6), 0),
])
def test_layer_output_shape_and_parameter_count(backend, layer, input_shape, output_shape, parameters):
    module = layer()
    assert module(md.randn(*input_shape)).shape == output_shape
    assert count(module) == parameters


def test_embedding_layer_shape_and_count(backend):
    table = nn.Embedding(10, 4)
    assert table(md.tensor([[1, 2, 3], [9, 9, 0]])).shape == (2, 3, 4)
    assert count(table) == 40


def test_small_cnn_parameter_count():
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
    assert model(md.ones((5, 1, 8, 8))).shape == (5, 10)
    assert count(model) == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (128 * 10 + 10)


def test_wrong_inputs_name_expected_and_given_shapes():
    with pytest.raises(ValueError, match=r"32 features \(shape \(4, 32\)\).*in_features=64"):
        nn.Linear(64, 10)(md.ones((4, 32)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(4, 64\)"):
        nn.Conv2d(1, 4, 3)(md.ones((4, 64)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects input of shape \(N, C, H, W\) with C=3, got \(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(md.ones((2, 4, 5, 5)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*got \(2, 3, 4, 4\)"):
        nn.BatchNorm1d(3)(md.ones((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="Flatten"):
        nn.Flatten()(md.ones((4,)))
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(1, 4, 0)


def test_batch_norm_layer_train_and_eval():
    md.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    x = md.randn(8, 3, 4, 4) * 2.0 + 5.0
    y = bn(x)
    assert abs(float(y.mean().item())) < 1e-5
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(axis=(0, 2, 3)), rtol=1e-5)
    bn.eval()
    before = bn.running_mean.numpy().copy()
    single = bn(x[:1])  # evaluation: one sample is fine, and the running statistics stay put
    assert single.shape == (1, 3, 4, 4)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)


def test_batch_norm_running_stats_survive_a_state_dict_round_trip():
    bn = nn.BatchNorm1d(4)
    bn(md.randn(16, 4) + 3.0)
    copy = nn.BatchNorm1d(4)
    copy.load_state_dict(bn.state_dict())
    np.testing.assert_array_equal(copy.running_mean.numpy(), bn.running_mean.numpy())


def test_dropout_layer_follows_train_and_eval():
    layer = nn.Dropout(0.5)
    x = md.ones((1000,))
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x


def test_repr_of_layers():
    assert repr(nn.Conv2d(1, 16, 3, padding=1)) == "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.BatchNorm1d(8)) == "BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_clip_grad_norm_scales_all_gradients_together(backend):
    a, b = nn.Parameter(md.zeros((2,))), nn.Parameter(md.zeros((1,)))
    a.grad, b.grad = md.tensor([3.0, 0.0]), md.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=2.5)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [1.5, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [2.0], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([a, b], max_norm=10.0).item() == pytest.approx(2.5, rel=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [2.0], rtol=1e-5)


def test_small_cnn_learns_digits():
    md.manual_seed(0)
    train, test = md.data.digits(split="train"), md.data.digits(split="test")
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(3):
        for x, y in md.data.DataLoader(train, batch_size=64, shuffle=True, seed=epoch):
            opt.zero_grad()
            F.cross_entropy(model(x.reshape((-1, 1, 8, 8))), y).backward()
            opt.step()
    x, y = next(iter(md.data.DataLoader(test, batch_size=len(test))))
    with md.no_grad():
        accuracy = (model.eval()(x.reshape((-1, 1, 8, 8))).numpy().argmax(axis=1) == y.numpy()).mean()
    assert accuracy > 0.85
