"""PyTorch-style custom Functions (static forward/backward with ctx) work next to minidl's own."""

import numpy as np
import pytest

import minidl as md

torch = pytest.importorskip("torch")


class Cube(md.Function):
    """The tutorial's pattern: save inputs, keep a constant on ctx, one gradient per forward argument."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x * ctx.scale, None


# The very same two methods, run by PyTorch: a ported Function needs no edit.
TorchCube = type("TorchCube", (torch.autograd.Function,),
                 {"forward": Cube.__dict__["forward"], "backward": Cube.__dict__["backward"]})


def test_ctx_function_matches_torch(backend):
    values = np.array([0.5, -1.0, 2.0])
    x = md.tensor(values, dtype=md.float64, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    y, ty = Cube.apply(x, 2.0), TorchCube.apply(t, 2.0)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    assert y.grad_fn is not None and "Cube" in repr(y)


def test_ctx_function_passes_gradcheck_and_second_order(backend):
    assert md.gradcheck(lambda t: Cube.apply(t, 1.5), [md.randn(4, dtype=md.float64)])
    x = md.tensor([2.0], dtype=md.float64, requires_grad=True)
    Cube.apply(x, 1.0).sum().backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.sum().backward()
    assert x.grad.tolist() == [12.0]  # d/dx 3x^2 at 2


def test_forward_runs_without_recording_and_needs_input_grad_is_per_argument():
    seen = {}

    class Probe(md.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["grad_mode"] = md.is_grad_enabled()
            seen["needs"] = ctx.needs_input_grad
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    Probe.apply(md.ones(2, requires_grad=True), md.ones(2))
    assert seen == {"grad_mode": False, "needs": (True, False)}


def test_half_ported_function_is_refused_with_both_styles():
    with pytest.raises(TypeError, match="both be @staticmethod"):
        class HalfPorted(md.Function):  # noqa: F841
            @staticmethod
            def forward(ctx, x):
                return x

            def backward(self, grad, x):
                return grad


def test_wrong_number_of_gradients_is_explained():
    class TooFew(md.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = md.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="returned 1 gradients for 2 forward arguments"):
        TooFew.apply(x, 2.0).sum().backward()
