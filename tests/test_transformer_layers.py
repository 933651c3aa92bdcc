"""LayerNorm, RMSNorm, GELU, attention and weight tying: values and gradients against PyTorch, and gradcheck."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from conftest import f64


def host(t):
    return t.numpy()


def both(shape, seed=0):
    """The same float64 values as a minidl leaf and a torch leaf."""
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(seed).standard_normal(shape)
    return md.tensor(values, dtype=md.float64, requires_grad=True), torch.tensor(values, requires_grad=True)


def backward_both(out_md, out_torch, seed=1):
    """Backpropagate the same random weighting of both outputs."""
    torch = pytest.importorskip("torch")
    weights = np.random.default_rng(seed).standard_normal(out_md.shape)
    (out_md * md.tensor(weights, dtype=md.float64)).sum().backward()
    (out_torch * torch.tensor(weights)).sum().backward()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_pytorch(backend, approximate):
    torch = pytest.importorskip("torch")
    x, xt = both((4, 7))
    y, yt = F.gelu(x, approximate=approximate), torch.nn.functional.gelu(xt, approximate=approximate)
    backward_both(y, yt)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), atol=1e-7)
    np.testing.assert_allclose(host(x.grad), xt.grad.numpy(), atol=1e-7)


def test_exact_gelu_is_accurate_to_1e_7_over_a_wide_range():
    torch = pytest.importorskip("torch")
    values = np.linspace(-12.0, 12.0, 24001)
    mine = nn.GELU()(md.tensor(values, dtype=md.float64)).numpy()
    np.testing.assert_allclose(mine, torch.nn.functional.gelu(torch.tensor(values)).numpy(), atol=1e-7)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck(backend, approximate):
    assert md.gradcheck(lambda x: F.gelu(x, approximate=approximate), [f64(3, 4) * 3.0])


@pytest.mark.parametrize("shape, normalized", [((3, 6), (6,)), ((2, 3, 4, 5), (4, 5))])
def test_layer_norm_matches_pytorch(backend, shape, normalized):
    torch = pytest.importorskip("torch")
    x, xt = both(shape)
    w, wt = both(normalized, seed=2)
    b, bt = both(normalized, seed=3)
    y = F.layer_norm(x, normalized, w, b, eps=1e-5)
    yt = torch.nn.functional.layer_norm(xt, normalized, wt, bt, eps=1e-5)
    backward_both(y, yt)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), atol=1e-10)
    for mine, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(host(mine.grad), theirs.grad.numpy(), atol=1e-10)


def test_layer_norm_gradcheck(backend):
    assert md.gradcheck(lambda x, w, b: F.layer_norm(x, (5,), w, b), [f64(3, 5), f64(5), f64(5)])


def test_layer_norm_module_options_match_pytorch():
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}):
        mine, theirs = nn.LayerNorm(6, **kwargs), torch.nn.LayerNorm(6, **kwargs)
        assert list(mine.state_dict()) == list(theirs.state_dict())
        x = np.random.default_rng(0).standard_normal((2, 3, 6)).astype(np.float32)
        np.testing.assert_allclose(mine(md.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_rms_norm_matches_pytorch(backend):
    torch = pytest.importorskip("torch")
    mine, theirs = nn.RMSNorm(5, dtype=md.float64), torch.nn.RMSNorm(5).double()
    x, xt = both((3, 5))
    mine.load_state_dict({"weight": np.arange(1.0, 6.0)})
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(mine.weight.numpy()))
    y, yt = mine(x), theirs(xt)
    backward_both(y, yt)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(host(x.grad), xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(host(mine.weight.grad), theirs.weight.grad.numpy(), atol=1e-10)


def test_rms_norm_gradcheck(backend):
    assert md.gradcheck(lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6), [f64(3, 4), f64(4)])


def test_normalized_shape_must_match_the_last_axes():
    with pytest.raises(ValueError, match=r"normalized_shape \(4,\) must equal the last axes.*\(2, 5\)"):
        F.layer_norm(md.ones((2, 5)), (4,))


@pytest.mark.parametrize("options", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"}, {"mask": "float"}])
def test_scaled_dot_product_attention_matches_pytorch(backend, options):
    torch = pytest.importorskip("torch")
    q, qt = both((2, 3, 5, 4), seed=0)
    k, kt = both((2, 3, 6, 4), seed=1)
    v, vt = both((2, 3, 6, 2), seed=2)
    options = dict(options)
    if options.get("is_causal"):
        k, kt, v, vt = q, qt, both((2, 3, 5, 2), seed=2)[0], None
        vt = torch.tensor(v.numpy(), requires_grad=True)
    mask = options.pop("mask", None)
    if mask == "bool":
        allowed = np.random.default_rng(5).random((5, 6)) > 0.3
        allowed[:, 0] = True  # every query sees at least one key
        options["attn_mask"] = allowed
    elif mask == "float":
        options["attn_mask"] = np.random.default_rng(5).standard_normal((5, 6))
    mine_options = {key: (md.tensor(value, dtype=md.float64 if value.dtype == np.float64 else None)
                          if isinstance(value, np.ndarray) else value) for key, value in options.items()}
    torch_options = {key: (torch.tensor(value) if isinstance(value, np.ndarray) else value)
                     for key, value in options.items()}
    y = F.scaled_dot_product_attention(q, k, v, **mine_options)
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, **torch_options)
    backward_both(y, yt)
    np.testing.assert_allclose(host(y), yt.detach().numpy(), atol=1e-10)
    for mine, theirs in ((q, qt), (k, kt), (v, vt)):
        np.testing.assert_allclose(host(mine.grad), theirs.grad.numpy(), atol=1e-10)


def test_scaled_dot_product_attention_gradcheck(backend):
    def causal(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert md.gradcheck(causal, [f64(2, 2, 4, 3), f64(2, 2, 4, 3), f64(2, 2, 4, 3)])


def test_attention_is_causal_means_no_look_ahead(backend):
    q = k = v = md.randn(1, 1, 5, 4)
    changed = md.tensor(np.concatenate([v.numpy()[:, :, :4], np.full((1, 1, 1, 4), 99.0, np.float32)], axis=2))
    before = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    after = F.scaled_dot_product_attention(q, k, changed, is_causal=True).numpy()
    np.testing.assert_allclose(before[:, :, :4], after[:, :, :4])


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "per_head_weights"])
def test_multihead_attention_matches_pytorch(backend, batch_first, masks):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    mine = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=md.float64)
    mine.load_state_dict({name: value.detach().numpy() for name, value in theirs.state_dict().items()})
    assert list(mine.state_dict()) == list(theirs.state_dict())
    x, xt = both((3, 5, 8) if batch_first else (5, 3, 8))
    memory, memory_t = both((3, 6, 8) if batch_first else (6, 3, 8), seed=4)
    options = {}
    if masks == "causal":
        options["attn_mask"] = np.triu(np.ones((5, 6), bool), 1)
    if masks == "padding":
        padding = np.zeros((3, 6), bool)
        padding[0, 4:] = True
        options["key_padding_mask"] = padding
    mine_options = {key: md.tensor(value) for key, value in options.items()}
    torch_options = {key: torch.tensor(value) for key, value in options.items()}
    average = masks != "per_head_weights"
    out, weights = mine(x, memory, memory, average_attn_weights=average, **mine_options)
    out_t, weights_t = theirs(xt, memory_t, memory_t, average_attn_weights=average, **torch_options)
    assert weights.shape == tuple(weights_t.shape)
    (out.sum() + (weights * weights).sum()).backward()
    (out_t.sum() + (weights_t * weights_t).sum()).backward()
    np.testing.assert_allclose(host(out), out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(host(weights), weights_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(host(x.grad), xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(host(memory.grad), memory_t.grad.numpy(), atol=1e-10)
    for name, parameter in theirs.named_parameters():
        np.testing.assert_allclose(host(dict(mine.named_parameters())[name].grad), parameter.grad.numpy(),
                                   atol=1e-10)


def test_multihead_attention_need_weights_false_returns_none(backend):
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = md.randn(2, 3, 4)
    out, weights = mha(x, x, x, need_weights=False)
    assert out.shape == (2, 3, 4) and weights is None


def test_multihead_attention_gradcheck(backend):
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=md.float64)
    assert md.gradcheck(lambda x: mha(x, x, x)[0], [f64(2, 3, 4)])


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"E=8, got \(2, 3, 6\)"):
        nn.MultiheadAttention(8, 2, batch_first=True)(md.ones((2, 3, 6)), md.ones((2, 3, 6)), md.ones((2, 3, 6)))


def test_tied_weight_trains_as_one_parameter():
    """One Parameter in an Embedding and an output Linear: counted once, gradients from both uses add up."""
    torch = pytest.importorskip("torch")
    embedding, head = nn.Embedding(7, 4, dtype=md.float64), nn.Linear(4, 7, bias=False, dtype=md.float64)
    head.weight = embedding.weight
    model = nn.ModuleList([embedding, head])
    assert len(list(model.parameters())) == 1
    start = embedding.weight.numpy().copy()
    tokens = md.tensor([[1, 2, 3], [3, 0, 6]])
    targets = md.tensor([2, 3, 4, 0, 6, 1])
    loss = F.cross_entropy(head(embedding(tokens)).reshape(6, 7), targets)
    loss.backward()
    weight_t = torch.tensor(start, requires_grad=True)
    logits_t = torch.nn.functional.embedding(torch.tensor(tokens.numpy()), weight_t) @ weight_t.T
    torch.nn.functional.cross_entropy(logits_t.reshape(6, 7), torch.tensor(targets.numpy())).backward()
    np.testing.assert_allclose(embedding.weight.grad.numpy(), weight_t.grad.numpy(), atol=1e-12)
    optim.SGD(model.parameters(), lr=0.5).step()
    np.testing.assert_allclose(head.weight.numpy(), start - 0.5 * weight_t.grad.numpy(), atol=1e-12)
    assert head.weight is embedding.weight


def test_multihead_attention_unbatched_input_matches_pytorch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(8, 2).double()
    mine = nn.MultiheadAttention(8, 2, dtype=md.float64)
    mine.load_state_dict({name: value.detach().numpy() for name, value in theirs.state_dict().items()})
    x, xt = both((5, 8))
    out, weights = mine(x, x, x)
    out_t, weights_t = theirs(xt, xt, xt)
    assert out.shape == (5, 8) and weights.shape == (5, 5)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), weights_t.detach().numpy(), atol=1e-12)
