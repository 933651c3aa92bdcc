"""nn.init: host-drawn initialisers (same numbers everywhere) with the published scales."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn


def test_one_seed_gives_identical_weights_on_every_backend():
    weights = []
    for name in ("numpy", "array_api_strict"):
        with md.using_backend(name):
            md.manual_seed(7)
            weights.append(nn.Linear(5, 3).weight.numpy())
    np.testing.assert_array_equal(weights[0], weights[1])


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    md.manual_seed(0)
    layer = nn.Linear(256, 512)
    bound = 1 / math.sqrt(256)
    weight, bias = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    assert np.abs(bias).max() <= bound


@pytest.mark.parametrize("init, expected_std", [
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 400)),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 400)),
    (nn.init.xavier_normal_, math.sqrt(2 / (400 + 300))),
    (nn.init.xavier_uniform_, math.sqrt(2 / (400 + 300))),
])
def test_initialisers_have_the_published_standard_deviation(init, expected_std):
    md.manual_seed(0)
    weight = init(md.zeros((300, 400)))
    assert weight.dtype == md.float32
    assert abs(weight.numpy().std() / expected_std - 1) < 0.02


def test_fans_of_a_convolution_weight_count_the_kernel():
    assert nn.init.fan_in_and_fan_out(md.zeros((16, 3, 5, 5))) == (75, 400)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.fan_in_and_fan_out(md.zeros((4,)))


def test_constant_fills(backend):
    t = md.zeros((2, 2))
    assert nn.init.ones_(t) is t and t.numpy().sum() == 4
    assert nn.init.zeros_(t).numpy().sum() == 0
