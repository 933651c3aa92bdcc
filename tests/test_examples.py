"""The examples in examples/: the main example (train_mlp.py, the README's first command) reaches 97%, and every example runs with small settings."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import minidl as md
from minidl.data import downloaded

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def example(monkeypatch):
    """Import an example script as a module (its folder on sys.path, as when run as a script)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module


def test_mlp_reaches_97_percent_with_its_defaults(example):
    assert example("train_mlp").main(["--quiet", "--seed", "0"]) >= 0.97


@pytest.mark.slow
def test_cnn_reaches_98_percent_on_digits_with_its_defaults(example):
    assert example("train_cnn").main(["--quiet", "--seed", "0"]) >= 0.98


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_mlp_quick_run_on_each_backend(example, backend):
    accuracy = example("train_mlp").main(["--quick", "--quiet", "--backend", backend])
    assert 0.5 < accuracy <= 1.0  # two epochs already learn most digits


def test_mlp_saves_a_plot_and_weights_that_load_back(example, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    train_mlp = example("train_mlp")
    accuracy = train_mlp.main(["--quick", "--plot", str(tmp_path / "curve.png"), "--save", str(tmp_path / "m.npz")])
    assert (tmp_path / "curve.png").stat().st_size > 0
    assert "epoch 2/2  " in capsys.readouterr().out  # the line that ends each epoch (with or without tqdm)
    model = train_mlp.build_model()
    model.load_state_dict(md.load(tmp_path / "m.npz"))
    test = md.data.DataLoader(md.data.digits("test"), batch_size=512)
    assert example("_common").accuracy(model, test) == accuracy


def test_cnn_quick_run_on_digits(example):
    assert 0.1 < example("train_cnn").main(["--quick", "--quiet"]) <= 1.0


def test_cnn_runs_on_mnist_files_when_present(example, tmp_path, monkeypatch):
    from test_data_idx import _source_with, _write_fake_mnist

    sums = _write_fake_mnist(tmp_path / "mnist")
    monkeypatch.setattr(downloaded, "MNIST", _source_with(sums, ()))
    monkeypatch.setenv("MINIDL_DATA_DIR", str(tmp_path))
    accuracy = example("train_cnn").main(["--dataset", "mnist", "--quick", "--quiet"])
    assert 0.0 <= accuracy <= 1.0


def test_spiral_saves_its_picture(example, tmp_path):
    pytest.importorskip("matplotlib")
    accuracy = example("spiral").main(["--quick", "--out", str(tmp_path / "spiral.png")])
    assert (tmp_path / "spiral.png").stat().st_size > 0 and 0.0 <= accuracy <= 1.0


@pytest.mark.parametrize("script, extra", [
    ("train_mlp.py", []), ("train_cnn.py", []), ("spiral.py", ["--out", "{tmp}/spiral.png"]),
])
def test_each_example_runs_as_a_script(script, extra, tmp_path):
    if script == "spiral.py":
        pytest.importorskip("matplotlib")
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    result = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", "--quiet", *args],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout


@pytest.mark.parametrize("script", ["train_mlp", "train_cnn"])
def test_compile_flag_trains_as_the_eager_run(example, script):
    """``--compile`` replays the step (BatchNorm, Adam, a cosine schedule): the same losses as eager, to rounding."""
    module = example(script)
    runs = []
    for flags in ([], ["--compile"]):
        history = {}
        original_fit = module.fit

        def recording_fit(*args, **kwargs):
            history.update(original_fit(*args, **kwargs))
            return history

        module.fit = recording_fit
        try:
            module.main(["--quick", "--quiet", *flags])
        finally:
            module.fit = original_fit
        runs.append(history["loss"])
    assert runs[1] == pytest.approx(runs[0], rel=1e-3)


def test_gpt_compile_flag_gives_the_eager_losses(example, tmp_path):
    train_gpt = example("train_gpt")
    eager = train_gpt.main(["--quick", "--quiet", "--checkpoint", str(tmp_path / "a.npz")])
    compiled = train_gpt.main(["--quick", "--quiet", "--compile", "--checkpoint", str(tmp_path / "b.npz")])
    for before, after in zip(eager["history"], compiled["history"]):
        assert after["train"] == pytest.approx(before["train"], rel=1e-3)
        assert after["val"] == pytest.approx(before["val"], rel=1e-3)
