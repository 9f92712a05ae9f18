"""torch's side of a parity run kept on disk (``parity.reference_cache``, what ``jaxgd parity``
holds around a command): read back bit for bit without running torch, filed under everything
that decides its numbers, so never stale, and never a failure."""

import importlib.metadata
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

from jaxgd import parity  # noqa: E402


def cases():
    X, y, init, order = parity.tutorial_problem(n=40, epochs=3)
    return [dict(X=X, y=y, init=init, order=order, batch_size=bs, lr=0.05, epochs=3, optimizer=opt, dtype=dt)
            for bs, opt, dt in ((40, None, "float32"), (7, "adam", "float64"))]


def forbidden(**_):
    raise AssertionError("torch ran a run the cache keeps")


def test_a_kept_torch_run_gives_the_same_report_without_running_torch(tmp_path, monkeypatch):
    import torchref.replay

    fresh = parity.compare_many(cases(), workers=0)  # no cache in force: nothing written
    assert not any(r.torch_kept for r in fresh)
    with parity.reference_cache(tmp_path) as folder:
        first = parity.compare_many(cases(), workers=0)  # runs torch and keeps each run
        assert len(os.listdir(folder)) == 2
        monkeypatch.setattr(torchref.replay, "run", forbidden)
        second = parity.compare_many(cases(), workers=0)
        single = parity.compare(**cases()[1])
    assert first == fresh  # every difference and verdict to the bit
    assert all(r.torch_kept for r in second) and single.torch_kept
    assert [r._replace(torch_kept=False) for r in second] == fresh
    assert single._replace(torch_kept=False) == fresh[1]


def test_a_corrupt_or_misshapen_entry_is_run_again(tmp_path):
    case = cases()[1]
    fresh = parity.compare(**case)
    with parity.reference_cache(tmp_path) as folder:
        parity.compare(**case)
        (entry,) = os.listdir(folder)
        with open(os.path.join(folder, entry), "wb") as f:
            f.write(b"not an npz")
        assert parity.compare(**case) == fresh  # run again (torch_kept False), and kept again
        np.savez(os.path.join(folder, entry), w_history=np.zeros(3), b_history=np.zeros(3), epoch_loss=np.zeros(3),
                 step_loss=np.zeros(3))  # readable, but not this run's shapes
        assert parity.compare(**case) == fresh
        assert parity.compare(**case).torch_kept  # the entry written back is read


def test_another_input_torch_torchref_source_or_cpu_is_another_entry(tmp_path, monkeypatch):
    c = cases()[1]
    job = parity._torch_job(c["X"], c["y"], batch_size=7, lr=0.05, epochs=3, init=c["init"], order=c["order"],
                            dtype="float64", optimizer="adam")
    key = parity._reference_key
    base = key(job)
    assert key(dict(job)) == base  # the same run: the same entry
    X = job["X"].copy()
    X[0, 0] = np.nextafter(X[0, 0], np.inf)  # one ulp of one sample
    others = [dict(job, X=X), dict(job, lr=0.0500001), dict(job, order=job["order"][::-1].copy()),
              dict(job, optimizer=("Adam", {**job["optimizer"][1], "amsgrad": True})),
              dict(job, X=job["X"].astype(np.float32))]
    keys = {key(j) for j in others}
    assert base not in keys and len(keys) == len(others)

    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "2.99.0" if name == "torch" else real_version(name))
    parity._torch_environment.cache_clear()
    assert key(job) != base  # another torch
    monkeypatch.setattr(importlib.metadata, "version", real_version)
    parity._torch_environment.cache_clear()
    assert key(job) == base

    copy = tmp_path / "torchref"
    shutil.copytree(parity._torchref_root(), copy)
    monkeypatch.setattr(parity, "_torchref_root", lambda: str(copy))
    parity._torch_environment.cache_clear()
    assert key(job) == base  # the same sources elsewhere
    with open(copy / "optim.py", "a") as f:
        f.write("\n# an edit\n")
    parity._torch_environment.cache_clear()
    assert key(job) != base  # an edited torchref

    monkeypatch.setattr(parity, "_torchref_root", lambda: str(copy.parent / "torchref"))
    monkeypatch.setattr(parity, "_cpu_flags", lambda: "another cpu")
    parity._torch_environment.cache_clear()
    edited = key(job)
    monkeypatch.setattr(parity, "_cpu_flags", lambda: "yet another cpu")
    parity._torch_environment.cache_clear()
    assert key(job) != edited  # another CPU's kernels
    monkeypatch.undo()
    parity._torch_environment.cache_clear()
    assert key(job) == base


@pytest.mark.slow  # two fresh processes, ~10 s on the 2-core machine; .ci/run runs it
def test_the_parity_command_reads_kept_runs_and_says_so(tmp_path):
    env = dict(os.environ, JAXGD_CACHE_DIR=str(tmp_path))
    env.pop("JAXGD_NO_CACHE", None)
    cmd = [sys.executable, "-m", "jaxgd", "parity", "--n", "40", "--epochs", "3", "--batch-sizes", "n,7",
           "--optimizer", "adam"]
    first, second = (subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300) for _ in range(2))
    nocache = subprocess.run([*cmd, "--no-cache"], capture_output=True, text=True, env=env, timeout=300)
    for p in (first, second, nocache):
        assert p.returncode == 0, p.stderr
    assert "read from" not in first.stdout and "read from" not in nocache.stdout
    assert f"torch's side: 4 of 4 runs read from {tmp_path / 'torch-reference'}" in second.stdout
    table = lambda p: [line for line in p.stdout.splitlines() if line and not line.startswith("torch's side")]
    assert table(first) == table(second) == table(nocache)  # every difference printed, to the digit
