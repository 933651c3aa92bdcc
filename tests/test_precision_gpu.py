"""Mixed precision on CuPy: TF32 through md.set_matmul_precision, float16 under md.autocast (needs a GPU)."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F

pytestmark = pytest.mark.gpu
if not md.is_gpu_available():
    pytest.skip("needs CuPy and a CUDA GPU (cupy.cuda.is_available() is False here)", allow_module_level=True)


@pytest.fixture(autouse=True)
def on_cupy():
    before = md.get_matmul_precision()
    with md.using_backend("cupy"):
        yield
    md.set_matmul_precision(before)


def _compute_type():
    import cupy
    from cupy._core import _routines_linalg as linalg

    return linalg.compute_type_to_str(linalg.get_compute_type(cupy.float32))


def test_high_precision_sets_cupy_to_tf32_and_highest_sets_it_back():
    md.set_matmul_precision("high")
    assert _compute_type() == "COMPUTE_TYPE_TF32"
    md.set_matmul_precision("highest")
    assert _compute_type() == "COMPUTE_TYPE_DEFAULT"


def test_tf32_product_is_close_to_fp32_but_not_equal():
    md.manual_seed(0)
    a, b = md.randn(512, 512), md.randn(512, 512)
    exact = a.numpy().astype(np.float64) @ b.numpy().astype(np.float64)
    md.set_matmul_precision("highest")
    fp32 = (a @ b).numpy()
    md.set_matmul_precision("high")
    tf32 = (a @ b).numpy()
    scale = np.max(np.abs(exact))
    assert np.max(np.abs(fp32 - exact)) / scale < 1e-5
    assert 1e-5 < np.max(np.abs(tf32 - exact)) / scale < 3e-3  # TF32 rounds the inputs to 10 mantissa bits


def test_autocast_and_grad_scaler_train_on_cupy():
    images, labels = md.data.digits("train").arrays
    x, y = md.tensor(images[:512]), md.tensor(labels[:512])
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = md.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scaler = md.amp.GradScaler()
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        with md.autocast("cuda"):
            logits = model(x)
            loss = F.cross_entropy(logits, y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    assert logits.dtype is md.float16 and loss.dtype is md.float32
    assert all(p.dtype is md.float32 and p.grad.dtype is md.float32 for p in model.parameters())
    assert losses[-1] < 0.35 * losses[0]
