"""RNN, LSTM, GRU and their cells: PyTorch's weights loaded in give PyTorch's outputs and gradients."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
from conftest import f64


def copy_from_torch(mine, theirs):
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict({name: value.detach().numpy() for name, value in theirs.state_dict().items()})


def first(result):
    """The output, and the final hidden state (h_n, or h_n of an LSTM's (h_n, c_n))."""
    if not isinstance(result, tuple):
        return result, None
    output, state = result
    return output, state[0] if isinstance(state, tuple) else state


def check_against_torch(mine, theirs, shape, hx_shape=None):
    torch = pytest.importorskip("torch")
    copy_from_torch(mine, theirs)
    values = np.random.default_rng(0).standard_normal(shape)
    x, xt = md.tensor(values, dtype=md.float64, requires_grad=True), torch.tensor(values, requires_grad=True)
    extra = ()
    if hx_shape is not None:
        h = np.random.default_rng(1).standard_normal(hx_shape)
        extra_mine, extra_torch = md.tensor(h, dtype=md.float64), torch.tensor(h)
        if isinstance(theirs, (torch.nn.LSTM, torch.nn.LSTMCell)):
            extra_mine, extra_torch = (extra_mine, extra_mine * 0.5), (extra_torch, extra_torch * 0.5)
        extra = ((extra_mine,), (extra_torch,))
    out, state = first(mine(x, *extra[0]) if extra else mine(x))
    out_t, state_t = first(theirs(xt, *extra[1]) if extra else theirs(xt))
    weights = np.random.default_rng(2).standard_normal(out.shape)
    loss = (out * md.tensor(weights, dtype=md.float64)).sum()
    loss_t = (out_t * torch.tensor(weights)).sum()
    if state is not None:
        loss, loss_t = loss + (state * state).sum(), loss_t + (state_t * state_t).sum()
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), atol=1e-12)
    if state is not None:
        np.testing.assert_allclose(state.numpy(), state_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    for name, parameter in theirs.named_parameters():
        np.testing.assert_allclose(dict(mine.named_parameters())[name].grad.numpy(), parameter.grad.numpy(),
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers, batch_first", [(1, False), (2, True), (3, False)])
def test_sequence_layer_matches_pytorch(backend, kind, layers, batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 5, num_layers=layers, batch_first=batch_first).double()
    mine = getattr(nn, kind)(3, 5, num_layers=layers, batch_first=batch_first, dtype=md.float64)
    check_against_torch(mine, theirs, (4, 6, 3))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_layer_with_initial_state_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, batch_first=True).double()
    mine = getattr(nn, kind)(3, 4, num_layers=2, batch_first=True, dtype=md.float64)
    check_against_torch(mine, theirs, (2, 5, 3), hx_shape=(2, 2, 4))


def test_relu_rnn_and_unbatched_input_match_pytorch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.RNN(3, 4, nonlinearity="relu").double()
    check_against_torch(nn.RNN(3, 4, nonlinearity="relu", dtype=md.float64), theirs, (6, 3))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_matches_pytorch(backend, kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 5).double()
    check_against_torch(getattr(nn, kind)(3, 5, dtype=md.float64), theirs, (4, 3), hx_shape=(4, 5))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_sequence_layer_gradcheck(backend, kind):
    layer = getattr(nn, kind)(2, 3, num_layers=2, batch_first=True, dtype=md.float64)
    assert md.gradcheck(lambda x: layer(x)[0], [f64(2, 4, 2)])


def test_recurrent_errors_name_the_fix():
    with pytest.raises(NotImplementedError, match="reversed sequence"):
        nn.LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match=r"H_in=3, got \(2, 5, 4\)"):
        nn.GRU(3, 4, batch_first=True)(md.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=r"expected \(1, 2, 4\)"):
        nn.RNN(3, 4)(md.ones((5, 2, 3)), md.zeros((2, 2, 4)))
