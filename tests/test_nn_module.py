"""nn.Module: registration, state_dict round trips, modes, moving backends, repr."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)
        self.scale = nn.Parameter(md.ones((1,)))

    def forward(self, x):
        return self.out(self.hidden(x).relu()) * self.scale


def test_attribute_assignment_registers_parameters_and_children_in_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert [name for name, _ in model.named_children()] == ["hidden", "out"]


def test_shared_parameter_is_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2


def test_assigning_a_plain_tensor_to_a_parameter_slot_raises():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        layer.weight = md.zeros((2, 2))


def test_setattr_before_init_gives_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgetful()


def test_parameter_requires_grad_and_shares_the_tensor_array():
    base = md.zeros((2, 3))
    parameter = nn.Parameter(base)
    assert parameter.requires_grad and parameter.is_leaf and parameter.data is base.data
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(md.tensor([1, 2]))


def test_state_dict_round_trip_reproduces_outputs(backend):
    md.manual_seed(1)
    source = TwoLayer()
    md.manual_seed(2)
    target = TwoLayer()
    x = md.randn(5, 4)
    assert not np.allclose(source(x).numpy(), target(x).numpy())
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_state_dict_loads_across_backends():
    with md.using_backend("numpy"):
        source = TwoLayer()
        state = source.state_dict()
        expected = source(md.ones((2, 4))).numpy()
    with md.using_backend("array_api_strict"):
        target = TwoLayer()
        target.load_state_dict(state)
        assert target.hidden.weight.backend == "array_api_strict"
        np.testing.assert_allclose(target(md.ones((2, 4))).numpy(), expected, rtol=1e-6)


def test_state_dict_shares_values_and_load_copies_in_place():
    # As in PyTorch: state_dict() holds detached views, load_state_dict copies into the same tensors
    layer = nn.Linear(2, 2)
    weight = layer.weight
    state = layer.state_dict()
    layer.load_state_dict({"weight": md.ones((2, 2)), "bias": md.zeros((2,))})
    assert layer.weight is weight
    np.testing.assert_array_equal(state["weight"].numpy(), np.ones((2, 2)))


def test_load_state_dict_names_missing_and_unexpected_keys():
    layer = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="missing keys: bias.*unexpected keys: extra"):
        layer.load_state_dict({"weight": md.zeros((2, 2)), "extra": md.zeros((1,))})
    result = layer.load_state_dict({"weight": md.zeros((2, 2)), "extra": md.zeros((1,))}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert layer.weight.numpy().sum() == 0


def test_load_state_dict_names_mismatched_shapes_and_changes_nothing():
    layer = nn.Linear(2, 3)
    before = layer.weight.numpy().copy()
    with pytest.raises(RuntimeError, match=r"weight: checkpoint has shape \(3, 4\), this model has \(3, 2\)"):
        layer.load_state_dict({"weight": md.zeros((3, 4)), "bias": md.zeros((3,))})
    np.testing.assert_array_equal(layer.weight.numpy(), before)


def test_train_and_eval_are_recursive():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_gradient():
    model = TwoLayer()
    model(md.ones((2, 4))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_moves_parameters_in_place_and_returns_self():
    model = TwoLayer()
    parameters = list(model.parameters())
    expected = model(md.ones((2, 4))).numpy()
    assert model.to("array_api_strict") is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in parameters]
    assert all(p.backend == "array_api_strict" for p in parameters)
    assert parameters[1].dtype == md.float32
    result = model(md.ones((2, 4), backend="array_api_strict"))
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)


def test_repr_reads_like_pytorch():
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=64, out_features=128, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=128, out_features=10, bias=True)\n"
        ")"
    )


def test_sequential_indexing_slicing_and_append():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    assert isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.ReLU)
    assert len(model[:1]) == 1
    model.append(nn.Linear(4, 2))
    assert model(md.ones((3, 4))).shape == (3, 2)
    with pytest.raises(IndexError, match="out of range for 3 modules"):
        model[3]
    with pytest.raises(TypeError, match="nn.Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_module_list_registers_parameters():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(4)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    model = Stack()
    assert len(list(model.parameters())) == 8
    assert "layers.3.bias" in model.state_dict()
    assert model(md.ones((2, 3))).shape == (2, 3)


def test_buffers_are_saved_moved_and_kept_out_of_parameters():
    module = nn.Module()
    module.register_buffer("running", md.zeros((3,)))
    module.register_buffer("scratch", md.zeros((2,)), persistent=False)
    assert list(module.state_dict()) == ["running"]
    assert list(module.parameters()) == []
    module.to("array_api_strict")
    assert module.running.backend == "array_api_strict" and module.scratch.backend == "array_api_strict"


def test_module_to_dtype_double_and_cpu_as_in_pytorch():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    assert model.double() is model and weight.dtype is md.float64 and model[0].weight is weight
    assert model.to(md.float32)[0].bias.dtype is md.float32
    assert model.to("cpu", md.float64)[1].running_mean.dtype is md.float64
    assert model.float().cpu()[0].weight.backend == "numpy"
    with pytest.raises(TypeError, match="floating"):
        model.to(md.int64)


def test_module_zero_grad_set_to_none_false_fills_zeros():
    model = nn.Linear(3, 2)
    model(md.ones((1, 3))).sum().backward()
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and float(model.weight.grad.abs().sum()) == 0.0
    model.zero_grad()
    assert model.weight.grad is None
