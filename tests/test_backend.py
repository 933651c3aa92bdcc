"""The backend switch: names, aliases, the environment variable, context managers."""

import os
import subprocess
import sys

import pytest

import minidl as md


@pytest.mark.parametrize("alias, canonical", [("cpu", "numpy"), ("np", "numpy"), ("numpy", "numpy"),
                                              ("strict", "array_api_strict"), ("array-api-strict", "array_api_strict")])
def test_aliases_resolve_to_canonical_names(alias, canonical):
    with md.using_backend(alias) as name:
        assert name == canonical
        assert md.get_backend() == canonical


def test_using_backend_restores_previous_backend():
    md.set_backend("numpy")
    with md.using_backend("array_api_strict"):
        assert md.zeros(2).backend == "array_api_strict"
    assert md.get_backend() == "numpy"


def test_unknown_backend_lists_known_ones():
    with pytest.raises(ValueError, match="known backends are.*array_api_strict.*numpy"):
        md.set_backend("tensorflow")


@pytest.mark.skipif(md.is_gpu_available(), reason="this machine has a GPU")
def test_cupy_without_gpu_says_what_to_do():
    with pytest.raises(RuntimeError, match="(not installed|no usable CUDA GPU)"):
        md.set_backend("gpu")


def test_environment_variable_sets_initial_backend():
    code = "import minidl as md; print(md.get_backend(), md.zeros(1).backend)"
    env = dict(os.environ, MINIDL_BACKEND="array_api_strict")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["array_api_strict", "array_api_strict"]


def test_import_does_not_import_numba_or_cupy():
    code = "import sys, minidl; print('numba' in sys.modules, 'cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_tensor_keeps_its_namespace(backend, xp):
    t = md.ones((2, 2))
    assert t.backend == backend
    assert t.xp is xp


def test_to_moves_between_backends(backend):
    t = md.tensor([[1.0, 2.0]])
    moved = t.to("numpy" if backend != "numpy" else "array_api_strict")
    assert moved.backend != backend
    assert moved.tolist() == [[1.0, 2.0]]
    assert moved.to(backend).backend == backend


def test_manual_seed_gives_same_numbers_on_every_backend():
    values = []
    for name in ("numpy", "array_api_strict"):
        with md.using_backend(name):
            md.manual_seed(123)
            values.append(md.randn(3, 4).numpy())
    assert (values[0] == values[1]).all()
