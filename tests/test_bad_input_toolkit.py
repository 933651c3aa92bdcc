"""Bad input to the toolkit (layers, optimizers, state dicts, checkpoints): one clear sentence each.

The engine's mistakes are in ``test_bad_input.py``; the mistakes already covered beside the
code they test are not repeated here: float and out-of-range labels and freed graphs
(``test_bad_input.py``), Linear and Conv2d shapes (``test_nn_layers.py``,
``test_functional_conv.py``), an empty parameter list (``test_optim.py``), missing, extra and
mis-shaped state dict keys (``test_nn_module.py``), truncated, corrupted and pickled files and a
crash mid-save (``test_serialization.py``), wrong checksums (``test_data_idx.py``), a bad
``batch_size`` (``test_data.py``) and ``.item()`` of many elements (``test_tensor.py``).
"""

import json
import os
import pickle

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from minidl.tools import npz
from minidl.tools import serialization
from minidl.tools.serialization import SerializationError


def other_backend(name):
    return "array_api_strict" if name == "numpy" else "numpy"


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


# ---- a NumPy array where a Tensor is needed ------------------------------------------------------------
@pytest.mark.parametrize("call, op", [
    (lambda x: mlp()(x), "Linear"),
    (lambda x: nn.Flatten()(x), "Flatten"),
    (lambda x: nn.Conv2d(1, 2, 3)(x.reshape(2, 1, 2, 2)), "conv2d"),
    (lambda x: F.max_pool2d(x.reshape(2, 1, 2, 2), 2), "max_pool2d"),
    (lambda x: nn.BatchNorm1d(4)(x), "batch_norm"),
    (lambda x: F.dropout(x, 0.5), "dropout"),
], ids=["Sequential", "Flatten", "Conv2d", "max_pool2d", "BatchNorm1d", "dropout"])
def test_a_numpy_batch_fed_to_a_layer_asks_for_md_tensor(call, op):
    with pytest.raises(TypeError, match=rf"{op} expects a minidl Tensor, got a numpy.ndarray; .*md.tensor\("):
        call(np.ones((2, 4), dtype=np.float32))


def test_a_numpy_array_given_to_f_linear_asks_for_md_tensor():
    with pytest.raises(TypeError, match=r"md.tensor"):
        F.linear(np.ones((2, 4), dtype=np.float32), md.ones((3, 4)))


def test_item_of_many_elements_says_how_to_reduce():
    with pytest.raises(ValueError, match=r"\(3,\).*(sum\(\)|mean\(\)|tolist\(\))"):
        md.ones(3).item()


# ---- ranks and sizes ------------------------------------------------------------------------------------
def test_images_fed_to_a_linear_layer_say_flatten_first(backend):
    with pytest.raises(ValueError, match=r"8 features \(shape \(2, 1, 8, 8\)\).*in_features=64.*nn.Flatten\(\)"):
        nn.Linear(64, 10)(md.ones((2, 1, 8, 8)))


def test_a_scalar_fed_to_a_linear_layer_says_what_shape_it_needs(backend):
    with pytest.raises(ValueError, match=r"got \(\) and \(3, 4\); one sample is a 1-D tensor.*\(N, in_features\)"):
        nn.Linear(4, 3)(md.tensor(1.0))


def test_conv2d_layer_with_the_wrong_in_channels_says_what_to_change(backend):
    with pytest.raises(ValueError, match=r"input has 1 channels \(shape \(2, 1, 5, 5\)\) but the weight "
                                         r"\(4, 3, 3, 3\) expects 3; give 3-channel images, or a layer with "
                                         r"in_channels=1"):
        nn.Conv2d(3, 4, 3)(md.ones((2, 1, 5, 5)))


def test_channels_last_images_are_recognised(backend):
    with pytest.raises(ValueError, match=r"channels-last \(N, H, W, C\).*permute_dims\(x, \(0, 3, 1, 2\)\)"):
        nn.Conv2d(3, 4, 3)(md.ones((2, 8, 8, 3)))


# ---- a model on one backend, its input on another --------------------------------------------------------
@pytest.mark.parametrize("model, make_input", [
    (mlp, lambda name: md.ones((2, 4), backend=name)),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), lambda name: md.ones((2, 1, 5, 5), backend=name)),
    (lambda: nn.BatchNorm1d(4), lambda name: md.ones((2, 4), backend=name)),
    (lambda: nn.Embedding(5, 2), lambda name: md.tensor([1, 2], backend=name)),
], ids=["Linear", "Conv2d", "BatchNorm1d", "Embedding"])
def test_a_model_fed_a_tensor_on_another_backend_names_both_and_the_move(backend, model, make_input):
    other = other_backend(backend)
    layer = model()
    with pytest.raises(ValueError, match=rf"{other!r}.*{backend!r}.*\.to\(|{backend!r}.*{other!r}.*\.to\("):
        layer(make_input(other))
    assert layer.to(other)(make_input(other)).backend == other  # and the move it suggests works


def test_conv2d_batch_norm_and_embedding_suggest_moving_the_model(backend):
    other = other_backend(backend)
    both = rf"two backends, {other!r} and {backend!r}.*model.to\({other!r}\)"
    with pytest.raises(ValueError, match=rf"conv2d got tensors on {both}"):
        nn.Conv2d(1, 2, 3)(md.ones((1, 1, 4, 4), backend=other))
    with pytest.raises(ValueError, match=rf"embedding got tensors on {both}"):
        nn.Embedding(5, 2)(md.tensor([1, 2], backend=other))
    with pytest.raises(ValueError, match=rf"batch_norm \(running_mean\) got tensors on {both}"):
        nn.BatchNorm1d(4)(md.ones((2, 4), backend=other))


# ---- modules -----------------------------------------------------------------------------------------------
class Scaled(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def test_a_plain_tensor_that_requires_grad_is_refused_as_a_module_attribute():
    with pytest.raises(TypeError, match=r"Scaled.scale: a plain Tensor with requires_grad=True is not a parameter"
                                        r".*nn.Parameter\(tensor\).*register_buffer\('scale'"):
        Scaled(md.ones(3, requires_grad=True))


def test_constants_parameters_and_computed_tensors_are_still_accepted_as_attributes():
    assert list(Scaled(md.ones(3)).parameters()) == []  # a constant: a plain attribute, as in PyTorch
    assert len(list(Scaled(nn.Parameter(md.ones(3))).parameters())) == 1
    computed = md.ones(3, requires_grad=True) * 2
    assert Scaled(computed).scale is computed  # not a leaf: a cached result, not a would-be parameter


# ---- optimizers --------------------------------------------------------------------------------------------
def test_an_exhausted_parameter_generator_is_named_as_the_cause():
    model = mlp()
    params = model.parameters()
    optim.SGD(params, lr=0.1)  # reads the generator to the end
    with pytest.raises(ValueError, match=r"empty parameter list.*already used up.*call model.parameters\(\) again"):
        optim.Adam(params)


def test_an_optimizer_given_the_model_itself_asks_for_its_parameters():
    with pytest.raises(TypeError, match=r"SGD got the model itself \(Sequential\); pass model.parameters\(\)"):
        optim.SGD(mlp(), lr=0.1)


def test_an_optimizer_given_named_parameters_says_which_to_pass():
    with pytest.raises(TypeError, match=r"got a tuple; pass model.parameters\(\), not model.named_parameters\(\)"):
        optim.Adam(mlp().named_parameters())


# ---- state dicts: a clear error, and nothing changed -----------------------------------------------------------
def snapshot(model):
    return {key: value.numpy().copy() for key, value in model.state_dict().items()}


def assert_unchanged(model, before):
    after = snapshot(model)
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


def test_a_strict_load_with_missing_keys_changes_nothing():
    model, source = mlp(), mlp()
    before = snapshot(model)
    partial = {key: value for key, value in source.state_dict().items() if key != "2.bias"}
    with pytest.raises(RuntimeError, match=r"missing keys: 2.bias.*strict=False"):
        model.load_state_dict(partial)
    assert_unchanged(model, before)  # 0.weight, 0.bias and 2.weight were valid, and still not loaded


def test_a_value_that_is_not_numbers_fails_with_its_key_and_changes_nothing():
    model = nn.Linear(2, 2)
    before = snapshot(model)
    with pytest.raises(TypeError, match=r"'bias' cannot be read as float32 numbers.*nothing was loaded"):
        model.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.array(["a", "b"])})
    assert_unchanged(model, before)


def test_a_list_in_a_state_dict_is_named_as_not_a_tensor():
    with pytest.raises(RuntimeError, match=r"weight: checkpoint has a list, not a Tensor or array"):
        nn.Linear(2, 2).load_state_dict({"weight": [[1.0, 2.0], [3.0, 4.0]], "bias": md.zeros(2)})


@pytest.mark.parametrize("state, hint", [
    ("model.npz", r"got a str; to load a file, call model.load_state_dict\(md.load\(path\)\)"),
    (nn.Linear(2, 2), r"got a Linear; pass other.state_dict\(\)"),
])
def test_load_state_dict_given_a_path_or_a_model_says_what_to_pass(state, hint):
    with pytest.raises(TypeError, match=hint):
        nn.Linear(2, 2).load_state_dict(state)


def test_a_checkpoint_nested_one_level_down_is_recognised():
    model = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"unexpected keys: model, epoch \(the weights are nested under 'model': "
                                           r"pass state\['model'\]\)"):
        model.load_state_dict({"model": model.state_dict(), "epoch": 3})


# ---- checkpoint files ------------------------------------------------------------------------------------------
def test_an_interrupt_mid_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    """Ctrl-C is a BaseException, not an Exception: the temporary file must still go."""
    path = tmp_path / "model.npz"
    model = mlp()
    md.save(model, path)
    before = path.read_bytes()

    def interrupted(stream, arrays):
        stream.write(b"PK\x03\x04 a third of a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(npz, "write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        md.save(mlp(), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]
    monkeypatch.undo()
    restored = mlp()
    restored.load_state_dict(md.load(path))
    assert_unchanged(restored, snapshot(model))


def test_loading_a_checkpoint_never_touches_pickle(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("md.load reached pickle")

    md.save({"model": mlp().state_dict(), "step": 7, "history": [0.5, 0.25]}, tmp_path / "ckpt.npz")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    assert md.load(tmp_path / "ckpt.npz")["step"] == 7


@pytest.mark.parametrize("tree", [{}, [], {"weird": 1}, {"dict": 5}, {"tensor": "absent"}],
                         ids=["empty entry", "list", "unknown entry", "bad dict", "missing tensor"])
def test_a_malformed_manifest_is_reported_as_a_corrupted_file(tmp_path, tree):
    path = tmp_path / "odd.npz"
    manifest = {"format": serialization.FORMAT, "version": serialization.VERSION, "tree": tree}
    arrays = {serialization.MANIFEST_KEY: np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)}
    with open(path, "wb") as stream:
        npz.write_npz(stream, arrays)
    with pytest.raises(SerializationError, match=r"odd.npz is (truncated or )?corrupted"):
        md.load(path)


def test_an_array_given_to_an_elementwise_function_asks_for_md_tensor():
    with pytest.raises(TypeError, match=r"expects minidl Tensors, got ndarray; convert with md.tensor"):
        md.exp(np.ones(3))
