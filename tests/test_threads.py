"""minidl's settings (backend, grad mode, anomaly detection, random generator) are per thread and per context.

They live in ``contextvars``: two threads can train on two backends at the same time, each
seeing only its own settings, and get the same numbers they would get alone.
"""

import asyncio
import contextvars
import threading

import numpy as np

import minidl as md
import minidl.nn.functional as F

BACKENDS = ("numpy", "array_api_strict")


def run_in_threads(*targets):
    """Run each target in its own thread; re-raise the first exception any of them raised."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - handed back to the test thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


def train(backend, steps=15, barrier=None):
    """A small MLP trained with the functional API; checks at every step that nothing left ``backend``."""
    with md.using_backend(backend):
        md.manual_seed(0)
        x, labels = md.randn(12, 6), md.tensor([0, 1, 2] * 4)
        params = [(md.randn(8, 6) * 0.5).requires_grad_(), md.zeros(8, requires_grad=True),
                  (md.randn(3, 8) * 0.5).requires_grad_(), md.zeros(3, requires_grad=True)]
        losses = []
        for _ in range(steps):
            if barrier is not None:
                barrier.wait(timeout=30)  # both threads are inside a step at the same time
            assert md.get_backend() == backend and md.is_grad_enabled()
            w1, b1, w2, b2 = params
            loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), labels)
            loss.backward()
            with md.no_grad():
                params = [(p - 0.5 * p.grad).requires_grad_() for p in params]
            assert all(t.backend == backend for t in [loss, *params])
            losses.append(loss.item())
        return losses, [p.numpy() for p in params]


def test_two_threads_train_on_two_backends_without_interfering():
    alone = {backend: train(backend) for backend in BACKENDS}
    together = {}
    barrier = threading.Barrier(len(BACKENDS))

    def worker(backend):
        return lambda: together.__setitem__(backend, train(backend, barrier=barrier))

    run_in_threads(*(worker(backend) for backend in BACKENDS))
    for backend in BACKENDS:
        losses, params = together[backend]
        assert losses == alone[backend][0]
        for got, expected in zip(params, alone[backend][1]):
            np.testing.assert_array_equal(got, expected)
    assert alone["numpy"][0][-1] < alone["numpy"][0][0]  # it did learn


def test_backend_and_grad_mode_set_in_one_thread_stay_in_that_thread():
    inside, ready, checked = {}, threading.Event(), threading.Event()

    def worker():
        with md.using_backend("array_api_strict"), md.no_grad():
            ready.set()
            checked.wait(timeout=30)  # hold the settings while the main thread looks at its own
            inside["backend"], inside["grad"] = md.get_backend(), md.is_grad_enabled()
        md.set_backend("array_api_strict")  # set, not scoped: still only this thread

    with md.using_backend("numpy"):
        thread = threading.Thread(target=worker)
        thread.start()
        ready.wait(timeout=30)
        assert md.get_backend() == "numpy" and md.is_grad_enabled()
        checked.set()
        thread.join(timeout=30)
        assert md.get_backend() == "numpy"
    assert inside == {"backend": "array_api_strict", "grad": False}


def test_anomaly_detection_in_one_thread_does_not_reach_another():
    results = []

    def take_log_of_zero():
        with np.errstate(divide="ignore"):  # NumPy's error state is per thread too
            results.append(md.log(md.zeros(1)).item())

    with md.detect_anomaly():
        run_in_threads(take_log_of_zero)
    assert results == [-np.inf]


def test_unseeded_threads_each_get_their_own_generator():
    draws = []
    run_in_threads(*(lambda: draws.append(md.randn(1000).numpy()) for _ in range(2)))
    expected = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    for drawn in draws:  # no shared generator, so no interleaving of the two threads' draws
        np.testing.assert_array_equal(drawn, expected)


def test_set_backend_inside_a_copied_context_does_not_leak_out():
    def switch():
        md.set_backend("array_api_strict")  # not scoped by a with block
        return md.get_backend()

    with md.using_backend("numpy"):
        assert contextvars.copy_context().run(switch) == "array_api_strict"
        assert md.get_backend() == "numpy"


def test_asyncio_tasks_keep_their_own_backend_across_awaits():
    async def task(backend):
        with md.using_backend(backend):
            seen = []
            for _ in range(3):
                await asyncio.sleep(0)  # let the other task run inside its own using_backend
                seen.append((md.get_backend(), md.ones(1).backend))
            return seen

    async def both():
        return await asyncio.gather(*(task(backend) for backend in BACKENDS))

    for backend, seen in zip(BACKENDS, asyncio.run(both())):
        assert seen == [(backend, backend)] * 3
