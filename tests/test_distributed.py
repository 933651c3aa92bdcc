"""minidl.distributed, DistributedDataParallel and DistributedSampler.

In-process tests use a one-process group (rank 0 of 1) and the sampler's
arithmetic; the two-process tests launch ``mpirun -n 2`` on the scripts in
tests/mpi/ and skip where mpi4py or mpirun is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

import minidl as md
import minidl.distributed as dist
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from minidl.autograd.engine import queue_callback

ROOT = Path(__file__).resolve().parents[1]
MPI_SCRIPTS = ROOT / "tests" / "mpi"


def _has_mpi() -> bool:
    """mpi4py and an MPI library (mpi4py's wheel installs without one; ``from mpi4py import MPI`` then fails)."""
    try:
        from mpi4py import MPI  # noqa: F401
    except (ImportError, RuntimeError):
        return False
    return True


needs_mpi4py = pytest.mark.skipif(not _has_mpi(),
                                  reason="needs mpi4py and an MPI library (pip install 'minidl[distributed]')")
needs_mpirun = pytest.mark.skipif(not _has_mpi() or shutil.which("mpirun") is None,
                                  reason="needs mpi4py and mpirun (apt-get install openmpi-bin libopenmpi-dev)")


@pytest.fixture
def group():
    """A one-process MPI group for the length of a test."""
    dist.init_process_group("mpi")
    try:
        yield
    finally:
        dist.destroy_process_group()


# ---- the sampler --------------------------------------------------------------

@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (2, 4, False), (12, 4, True)])
def test_sampler_pads_and_strides_like_pytorch(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler
    dataset = md.data.TensorDataset(md.arange(n))
    for rank in range(replicas):
        ours = md.data.DistributedSampler(dataset, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(torch.arange(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


@pytest.mark.parametrize("n, replicas", [(10, 2), (11, 3)])
def test_sampler_shards_are_disjoint_and_cover_the_data_each_epoch(n, replicas):
    dataset = md.data.TensorDataset(md.arange(n))
    samplers = [md.data.DistributedSampler(dataset, replicas, rank, seed=3) for rank in range(replicas)]
    orders = []
    for epoch in range(3):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shards = [list(sampler) for sampler in samplers]
        everything = sum(shards, [])
        assert set(everything) == set(range(n))
        assert len(everything) == len(samplers[0]) * replicas  # padding repeats len*replicas - n indices
        orders.append(everything)
    assert orders[0] != orders[1]  # set_epoch reshuffles


def test_sampler_same_seed_and_epoch_give_the_same_order():
    dataset = md.data.TensorDataset(md.arange(20))
    first = md.data.DistributedSampler(dataset, 2, 1, seed=5)
    second = md.data.DistributedSampler(dataset, 2, 1, seed=5)
    first.set_epoch(4)
    second.set_epoch(4)
    assert list(first) == list(second)


def test_sampler_rejects_a_rank_outside_the_group():
    dataset = md.data.TensorDataset(md.arange(4))
    with pytest.raises(ValueError, match=r"rank must be in \[0, 1\], got 2"):
        md.data.DistributedSampler(dataset, num_replicas=2, rank=2)


def test_sampler_without_a_group_or_rank_says_what_to_do():
    with pytest.raises(RuntimeError, match="init_process_group"):
        md.data.DistributedSampler(md.data.TensorDataset(md.arange(4)))


def test_dataloader_visits_the_sampler_indices_in_batches():
    dataset = md.data.TensorDataset(md.arange(10) * 10)
    sampler = md.data.DistributedSampler(dataset, 3, 1, shuffle=False)
    loader = md.data.DataLoader(dataset, batch_size=3, sampler=sampler)
    batches = [x.tolist() for (x,) in loader]
    assert batches == [[10, 40, 70], [0]]
    assert len(loader) == 2


def test_dataloader_refuses_sampler_with_shuffle():
    dataset = md.data.TensorDataset(md.arange(4))
    with pytest.raises(ValueError, match="sampler and shuffle=True exclude each other"):
        md.data.DataLoader(dataset, shuffle=True, sampler=md.data.DistributedSampler(dataset, 1, 0))


# ---- the process group and its errors -------------------------------------------

def test_import_minidl_imports_neither_mpi_nor_cupy():
    code = "import minidl, minidl.distributed, minidl.nn.parallel, sys; print(sorted(m for m in sys.modules " \
           "if m.split('.')[0] in ('mpi4py', 'cupy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_collectives_without_a_group_say_to_initialize():
    with pytest.raises(RuntimeError, match=r"all_reduce: no process group; call .*init_process_group"):
        dist.all_reduce(md.ones((2,)))
    with pytest.raises(RuntimeError, match="get_rank: no process group"):
        dist.get_rank()


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'gloo'"):
        dist.init_process_group("gloo")


def test_nccl_without_a_gpu_says_so():
    if md.is_gpu_available():
        pytest.skip("a GPU is visible here")
    with pytest.raises((ImportError, RuntimeError), match="'nccl' backend needs"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


def test_mpi_without_mpi4py_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes "from mpi4py import MPI" fail
    with pytest.raises(ImportError, match=r"needs mpi4py .*minidl\[distributed\]"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


@needs_mpi4py
def test_one_process_group(group):
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
    with pytest.raises(RuntimeError, match="already initialized"):
        dist.init_process_group("mpi")
    dist.barrier()


@needs_mpi4py
def test_all_reduce_and_broadcast_on_one_rank_leave_values(group, backend):
    value = md.tensor([1.0, -2.0, 3.5])
    for op in ("sum", "avg", "max", "min"):
        assert dist.all_reduce(value, op=op) is value
        assert value.tolist() == [1.0, -2.0, 3.5]
    assert value.backend == backend
    assert dist.broadcast(value, src=0).tolist() == [1.0, -2.0, 3.5]
    work = dist.all_reduce(value, op="avg", async_op=True)
    work.wait()
    assert value.tolist() == [1.0, -2.0, 3.5]


@needs_mpi4py
def test_all_reduce_writes_into_a_numpy_array_in_place(group):
    array = numpy.arange(12.0).reshape(3, 4)[:, ::2]  # not contiguous: reduced through a copy, written back
    expected = array.copy()
    dist.all_reduce(array)
    numpy.testing.assert_array_equal(array, expected)


@needs_mpi4py
def test_collective_errors_name_the_problem(group):
    with pytest.raises(ValueError, match=r"op must be one of \('sum', 'avg', 'max', 'min'\), got 'mean'"):
        dist.all_reduce(md.ones((2,)), op="mean")
    with pytest.raises(TypeError, match="needs a floating-point array, got int64"):
        dist.all_reduce(md.arange(3), op="avg")
    with pytest.raises(ValueError, match=r"src must be a rank in 0..0, got 1"):
        dist.broadcast(md.ones((2,)), src=1)
    with pytest.raises(TypeError, match="takes a minidl Tensor, a NumPy array or a CuPy array, got builtins.list"):
        dist.all_reduce([1.0, 2.0])


# ---- DistributedDataParallel on one rank ------------------------------------------

def _mlp(seed: int) -> nn.Module:
    md.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8, dtype=md.float64), nn.Tanh(), nn.Linear(8, 3, dtype=md.float64))


@needs_mpi4py
@pytest.mark.parametrize("options", [{}, {"bucket_cap_mb": 1e-4}, {"bucket_cap_mb": 1e-4, "overlap": False}])
def test_ddp_on_one_rank_trains_as_the_plain_model(group, backend, options):
    ddp = _train_plain_and_wrapped(lambda p: optim.Adam(p, lr=0.01), **options)
    assert list(ddp.state_dict()) == [f"module.{name}" for name in ddp.module.state_dict()]


def _train_plain_and_wrapped(make_optimizer, steps: int = 6, **options) -> nn.Module:
    """Train one MLP plainly and a copy under DDP on the same batches; their parameters must agree."""
    rng = numpy.random.default_rng(0)
    x = md.tensor(rng.standard_normal((steps, 8, 5)), dtype=md.float64)
    y = md.tensor(rng.integers(0, 3, (steps, 8)))
    plain, wrapped = _mlp(0), _mlp(0)
    ddp = nn.parallel.DistributedDataParallel(wrapped, **options)
    for model, runner in ((plain, plain), (wrapped, ddp)):
        optimizer = make_optimizer(model.parameters())
        for step in range(steps):
            optimizer.zero_grad()
            F.cross_entropy(runner(x[step]), y[step]).backward()
            optimizer.step()
    for a, b in zip(plain.parameters(), wrapped.parameters()):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-12)
    return ddp


@needs_mpi4py
def test_ddp_buckets_hold_parameters_in_reverse_order(group):
    ddp = nn.parallel.DistributedDataParallel(_mlp(0), bucket_cap_mb=1e-4)  # 1e-4 MB: one parameter each
    assert [bucket.names for bucket in ddp._buckets] == [["2.bias"], ["2.weight"], ["0.bias"], ["0.weight"]]
    one = nn.parallel.DistributedDataParallel(_mlp(0))
    assert [bucket.names for bucket in one._buckets] == [["2.bias", "2.weight", "0.bias", "0.weight"]]


@needs_mpi4py
def test_ddp_refuses_a_backward_that_leaves_a_parameter_without_gradient(group):
    model = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    nn.parallel.DistributedDataParallel(model)  # its hooks on the parameters keep it alive
    with pytest.raises(RuntimeError, match=r"got no gradient in this backward: \['1.bias', '1.weight'\]"):
        model[0](md.ones((1, 2))).sum().backward()


@needs_mpi4py
def test_ddp_no_sync_sends_nothing(group, monkeypatch):
    ddp = nn.parallel.DistributedDataParallel(_mlp(0))
    sent = []
    monkeypatch.setattr(nn.parallel._Bucket, "launch", lambda bucket: sent.append(bucket))
    with ddp.no_sync():
        ddp(md.ones((2, 5), dtype=md.float64)).sum().backward()
    assert sent == []


def test_queue_callback_outside_backward_is_refused():
    with pytest.raises(RuntimeError, match="only while backward"):
        queue_callback(lambda: None)


def test_queue_callback_runs_once_after_every_leaf_gradient():
    a, b = md.ones((2,), requires_grad=True), md.ones((2,), requires_grad=True)
    seen = []

    def report() -> None:
        seen.append(b.grad.tolist())
    for leaf in (a, b):
        leaf.register_post_accumulate_grad_hook(lambda t: queue_callback(report))
    (a * 2 + b * 3).sum().backward()
    assert seen == [[3.0, 3.0]]  # queued by both hooks, run once, after both gradients


class _FailsInBackward(md.Function):
    def forward(self, a):
        return a

    def backward(self, grad, a):
        raise ValueError("this backward fails on purpose")


@needs_mpi4py
def test_ddp_recovers_after_a_backward_that_raised_half_way(group):
    first, second = nn.Linear(2, 2), nn.Linear(2, 2)
    ddp = nn.parallel.DistributedDataParallel(nn.Sequential(first, second), bucket_cap_mb=1e-5)
    with pytest.raises(ValueError, match="fails on purpose"):  # second's buckets left, first's never will
        second(_FailsInBackward.apply(first(md.ones((1, 2))))).sum().backward()
    assert any(bucket.ready for bucket in ddp._buckets)
    ddp.zero_grad()
    ddp(md.ones((1, 2))).sum().backward()  # forward starts clean: every bucket is sent again
    assert not any(bucket.ready for bucket in ddp._buckets)
    assert all(p.grad is not None for p in ddp.parameters())


# ---- two processes -------------------------------------------------------------

def _mpirun(script: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    # Open MPI refuses root without these two (CI runs as root) and more ranks than cores without --oversubscribe.
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(["mpirun", "-n", "2", "--oversubscribe", sys.executable, str(script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


@needs_mpirun
def test_two_processes_train_as_one_on_the_full_batch():
    result = _mpirun(MPI_SCRIPTS / "ddp_matches_single.py", timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ddp ok" in result.stdout


@needs_mpirun
def test_a_failing_rank_ends_the_job_instead_of_hanging():
    result = _mpirun(MPI_SCRIPTS / "rank_fails.py", timeout=120)
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr
    assert "aborting all 2 processes" in result.stderr
    assert "should never get here" not in result.stdout


# ---- NCCL: one rank on a GPU (the project's GPU machine has one GPU) ---------------

@pytest.fixture
def nccl_group():
    if not md.is_gpu_available():
        pytest.skip("the NCCL backend needs a CUDA GPU (cupy.cuda.is_available() is False here)")
    dist.init_process_group("nccl")
    try:
        yield
    finally:
        dist.destroy_process_group()


@pytest.mark.gpu
def test_nccl_one_rank_collectives_on_cupy(nccl_group):
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "nccl")
    with md.using_backend("cupy"):
        value = md.tensor([1.0, -2.0, 3.5])
        for op in ("sum", "avg", "max", "min"):
            dist.all_reduce(value, op=op)
        dist.all_reduce(value, op="avg", async_op=True).wait()
        dist.broadcast(value, src=0)
        dist.barrier()
        assert value.tolist() == [1.0, -2.0, 3.5]
    with pytest.raises(TypeError, match="'nccl' backend reduces CuPy arrays"):
        dist.all_reduce(md.tensor([1.0]))


@pytest.mark.gpu
def test_nccl_one_rank_ddp_trains_as_the_plain_model(nccl_group):
    with md.using_backend("cupy"):
        _train_plain_and_wrapped(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), steps=4, bucket_cap_mb=1e-4)


@needs_mpirun
def test_the_example_trains_on_two_processes_and_rank_0_saves(tmp_path, monkeypatch):
    result = _mpirun(ROOT / "examples" / "train_ddp.py", "--quick", "--quiet", "--save", str(tmp_path / "ddp.npz"),
                     timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("test accuracy") == 1  # rank 0 alone reports
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    from train_cnn import build_model
    build_model(8).load_state_dict(md.load(tmp_path / "ddp.npz"))  # the plain model's names: no "module." prefix
