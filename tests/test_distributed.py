"""Two processes on localhost as one JAX cluster (gloo collectives on CPU): the results of
row-sharded training and of a sweep spread over both processes equal a single-process run.

Each test starts its processes in their own session, stops them on a timeout and kills what
is left, so no process outlives the test.
"""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jaxgd

sys.path.insert(0, str(Path(__file__).parent))
from distributed_cases import D, N, SWEEP, TRAIN_CASES  # noqa: E402

HERE = Path(__file__).parent
ROOT = str(HERE.parent)
TIMEOUT = 300  # s per cluster run; a run takes ~15 s on 2 idle cores (compiles included)


def _env(devices=1):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "OMPI_", "PMI_", "JAX_COORDINATOR", "MEGASCALE"))}
    path = os.pathsep.join([ROOT, env["PYTHONPATH"]]) if env.get("PYTHONPATH") else ROOT
    env.update(PYTHONPATH=path, JAX_PLATFORMS="cpu", JAXGD_NO_CACHE="1", PYTHONUNBUFFERED="1")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_all(commands, cwds=None, timeout=TIMEOUT, devices=1):
    """Start every command at once; wait for all; kill every process group on a timeout."""
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(devices),
                              cwd=(cwds or [None] * len(commands))[i], start_new_session=True)
             for i, cmd in enumerate(commands)]
    try:
        outs = [p.communicate(timeout=timeout) for p in procs]
    except subprocess.TimeoutExpired:
        outs = None
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    assert outs is not None, f"the cluster did not finish within {timeout} s"
    return [(p.returncode, o, e) for p, (o, e) in zip(procs, outs)]


def _cluster(make_command, cwds=None, devices=1):
    """Run a 2-process cluster (``devices`` CPU devices each); a port taken between choosing and
    binding it (another program on the machine) is retried with a new port, so the test does
    not fail by chance."""
    for _ in range(3):
        port = _free_port()
        results = _run_all([make_command(port, i) for i in range(2)], cwds, devices=devices)
        if not any("already in use" in e for _, _, e in results):
            return results
    return results


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, D)).astype(np.float32) * np.array([1.0, 3.0, 0.5], np.float32) + 1.0
    y = (X @ np.array([1.5, -0.5, 2.0]) + 4 + 0.5 * rng.normal(size=N)).astype(np.float32)
    np.save(path / "X.npy", X)
    np.save(path / "y.npy", y)
    return path


@pytest.fixture(scope="module")
def reports(data_dir):
    out = str(data_dir / "report")
    results = _cluster(lambda port, i: [sys.executable, str(HERE / "distributed_check.py"), str(port), str(i),
                                        str(data_dir), out])
    for rc, _, err in results:
        assert rc == 0, err[-3000:]
    return [json.loads(Path(f"{out}.{i}.json").read_text()) for i in range(2)]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_two_processes_form_one_cluster(reports):
    for r in reports:
        assert r["process_count"] == 2 and r["devices"] == 2
        assert r["global_rows"] == N + 1 and r["n_rows"] == N  # padded to a multiple of 2
        assert r["local_rows"] == (N + 1) // 2  # each process holds only its half of X


@pytest.mark.parametrize("case", list(TRAIN_CASES))
@pytest.mark.slow  # its fixture starts the two-process cluster (~40 s); .ci/run runs it
def test_two_process_training_equals_one_process(reports, data_dir, case):
    # Only the summation order differs (per-process partial sums, then an all-reduce over
    # gloo): the float32 tolerance of the 4-device test (tests/test_sharding.py),
    # |diff| <= 1e-6 + 1e-5 |single|, on every epoch's w and b, every epoch loss and every
    # update's loss. Both processes hold the same (replicated) result.
    X, y = np.load(data_dir / "X.npy"), np.load(data_dir / "y.npy")
    ref = jaxgd.train(X, y, **TRAIN_CASES[case])
    for r in reports:
        got = r["train"][case]
        for field in got:
            a = np.asarray(getattr(ref, field), np.float64)
            b = np.asarray(got[field])
            assert a.shape == b.shape, field
            assert np.all(np.abs(a - b) <= 1e-6 + 1e-5 * np.abs(a)), (case, field, np.max(np.abs(a - b)))
    assert reports[0]["train"][case] == reports[1]["train"][case]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_two_process_sweep_equals_one_process_sweep(reports, data_dir):
    # Runs never communicate (the seeds are split over the processes, each run on one device),
    # so test_sweep.py's tolerances apply: rtol 1e-6 on losses, atol 1e-6 on parameters.
    X, y = np.load(data_dir / "X.npy"), np.load(data_dir / "y.npy")
    ref = jaxgd.sweep(X, y, **SWEEP)
    for r in reports:
        got = r["sweep"]
        np.testing.assert_allclose(got["epoch_loss"], ref.epoch_loss, rtol=1e-6)
        np.testing.assert_allclose(got["w"], ref.w, rtol=0, atol=1e-6)
        np.testing.assert_allclose(got["b"], ref.b, rtol=0, atol=1e-6)
        for g, a in zip(got["step_loss"], ref.step_loss):
            np.testing.assert_allclose(g, a, rtol=1e-6, atol=1e-6)


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_sweep_asks_for_the_whole_data_on_every_process(reports):
    for r in reports:
        assert "needs the whole data set on every process" in r["sweep_global_error"]


@pytest.mark.slow  # its module's shared fixture runs a study, a sweep, a command or a cluster (over ~10 s); .ci/run runs it
def test_standardizing_across_processes_uses_every_row(reports, data_dir):
    # Both loaders compute the column statistics in float64 (each process's partial sums,
    # exchanged bit for bit and added in float64); only the summation order differs from the
    # one-process loader: rtol 1e-12 (float64 sums of 1001 values of magnitude <= ~10).
    one = jaxgd.load_dataset(f"{data_dir}/X.npy,{data_dir}/y.npy", standardize=True)
    for r in reports:
        np.testing.assert_allclose(r["standardize"]["mean"], one.mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(r["standardize"]["scale"], one.scale, rtol=1e-12)


def _cli(port, i, *args):
    return [sys.executable, "-m", "jaxgd", *args, "--coordinator", f"127.0.0.1:{port}",
            "--num-processes", "2", "--process-id", str(i), "--no-cache"]


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_cli_train_on_two_processes_prints_once(data_dir):
    files = f"{data_dir}/X.npy,{data_dir}/y.npy"
    results = _cluster(lambda port, i: _cli(port, i, "train", "--data", files, "--batch-size", "50",
                                            "--epochs", "4", "--lr", "0.02", "--seed", "3"))
    (rc0, out0, err0), (rc1, out1, err1) = results
    assert rc0 == 0 and rc1 == 0, (err0[-2000:], err1[-2000:])
    assert out1 == ""  # only process 0 prints
    assert "2 processes, 2 devices" in out0
    assert not [line for line in out0.splitlines() if "[Gloo]" in line], out0  # gloo's lines go to stderr
    ref = jaxgd.train(np.load(data_dir / "X.npy"), np.load(data_dir / "y.npy"), **TRAIN_CASES["mini-batch"])
    assert f"final loss {float(ref.epoch_loss[-1]):.6f}" in out0


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_cli_sweep_on_two_processes_writes_once(data_dir, tmp_path):
    dirs = [tmp_path / "p0", tmp_path / "p1"]
    for d in dirs:
        d.mkdir()
    files = f"{data_dir}/X.npy,{data_dir}/y.npy"
    results = _cluster(lambda port, i: _cli(port, i, "sweep", "--data", files, "--batch-sizes", "7,n",
                                            "--lrs", "0.01,0.05", "--seeds", "3", "--epochs", "2"),
                       cwds=[str(d) for d in dirs])
    (rc0, out0, err0), (rc1, out1, err1) = results
    assert rc0 == 0 and rc1 == 0, (err0[-2000:], err1[-2000:])
    assert out1 == ""
    assert not [line for line in out0.splitlines() if "[Gloo]" in line], out0
    assert sorted(p.name for p in dirs[0].iterdir()) == ["jaxgd_sweep.csv", "jaxgd_sweep.png"]
    assert list(dirs[1].iterdir()) == []  # process 1 writes nothing
    assert len(Path(dirs[0] / "jaxgd_sweep.csv").read_text().strip().splitlines()) == 1 + 2 * 2 * 3


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_mpirun_launches_the_cli_as_one_cluster(data_dir):
    # A real launcher: Open MPI's mpirun starts both processes and JAX finds the cluster in its
    # environment (--distributed). The result is the one-process run's, printed once.
    import shutil

    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.skip("mpirun not found (Debian: apt-get install openmpi-bin)")
    files = f"{data_dir}/X.npy,{data_dir}/y.npy"
    env = _env()
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    exports = [a for k in ("PYTHONPATH", "JAX_PLATFORMS", "JAXGD_NO_CACHE", "PYTHONUNBUFFERED") for a in ("-x", k)]
    cmd = [mpirun, *root, "--oversubscribe", "-np", "2", *exports, sys.executable, "-m", "jaxgd", "train",
           "--distributed", "--data", files, "--batch-size", "50", "--epochs", "4", "--lr", "0.02", "--seed", "3"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 0, err[-3000:]
    assert out.count("2 processes, 2 devices") == 1, out  # process 0 alone prints
    ref = jaxgd.train(np.load(data_dir / "X.npy"), np.load(data_dir / "y.npy"), **TRAIN_CASES["mini-batch"])
    assert f"final loss {float(ref.epoch_loss[-1]):.6f}" in out


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("command", ["train", "sweep"])
def test_gloo_never_writes_to_stdout(data_dir, tmp_path, command):
    # gloo (C++) prints a "[Gloo] Rank r is connected to ..." line on stdout for every group of
    # devices it connects, not only the first: with two devices a process, the collectives of
    # all four devices connect after the cluster formed. stdout holds only jaxgd's output.
    files = f"{data_dir}/X.npy,{data_dir}/y.npy"
    flags = {"train": ["--batch-size", "50", "--epochs", "2"],
             "sweep": ["--batch-sizes", "7,n", "--lrs", "0.01,0.05", "--seeds", "4", "--epochs", "2",
                       "--out", str(tmp_path / "s.png"), "--csv", str(tmp_path / "s.csv")]}[command]
    results = _cluster(lambda port, i: _cli(port, i, command, "--data", files, *flags), devices=2)
    (rc0, out0, err0), (rc1, out1, err1) = results
    assert rc0 == 0 and rc1 == 0, (err0[-2000:], err1[-2000:])
    assert out1 == "" and not [line for line in out0.splitlines() if "[Gloo]" in line], out0
    assert out0.startswith(f"{files}: {N} rows") and ("csv: " in out0 if command == "sweep" else "4 devices" in out0)


def _one(args, timeout=120):
    p = subprocess.run([sys.executable, "-m", "jaxgd", *args], capture_output=True, text=True, env=_env(),
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
@pytest.mark.parametrize("args, message", [
    (["--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "2"],
     "--process-id 2 is out of range for --num-processes 2 (0..1)"),
    (["--coordinator", "127.0.0.1:1234", "--num-processes", "2"], "go together"),
    (["--coordinator", "localhost"], "must be HOST:PORT"),
    (["--distributed", "--process-id", "0"], "do not combine"),
    (["--distributed"], "no cluster detected"),
])
def test_bad_cluster_flags_are_one_line_exit_2(args, message):
    rc, out, err = _one(["train", "--epochs", "1", *args])
    assert rc == 2 and out == "", err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("jaxgd train: error: "), err


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_an_unreachable_coordinator_is_one_line_after_the_timeout():
    # Nothing listens on the port: process 1 waits --cluster-timeout seconds, then one line.
    rc, out, err = _one(["train", "--epochs", "1", "--coordinator", f"127.0.0.1:{_free_port()}",
                         "--num-processes", "2", "--process-id", "1", "--cluster-timeout", "3"])
    assert rc == 2 and out == "", err
    assert "did not form within 3 s" in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("jaxgd train: error: the cluster did not form"), err


# --- initialize's error paths, in this process: checked before JAX is asked to start anything --


@pytest.fixture
def jax_never_called(monkeypatch):
    """``jax.distributed.initialize`` replaced by a trap: these tests must fail before reaching it
    (and must never start a cluster in the test process)."""
    import jax

    def trap(*args, **kwargs):
        raise AssertionError("jax.distributed.initialize was called")

    monkeypatch.setattr(jax.distributed, "initialize", trap)
    for key in list(os.environ):  # no cluster manager around the test run
        if key.startswith(("SLURM_", "OMPI_", "PMI_", "JAX_COORDINATOR", "MEGASCALE", "KUBERNETES_", "TPU_")):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("args, message", [
    (("127.0.0.1:1234", 2, None), "give all of coordinator, num_processes and process_id"),
    (("localhost", 2, 0), "coordinator must be HOST:PORT"),
    (("127.0.0.1:1234", 0, 0), "num_processes must be a positive integer"),
    (("127.0.0.1:1234", 2, 2), r"process id 2 is out of range for 2 processes \(0..1\)"),
    (("127.0.0.1:1234", 2, -1), "process id -1 is out of range"),
])
def test_initialize_checks_its_arguments_itself(jax_never_called, args, message):
    with pytest.raises(ValueError, match=message):
        jaxgd.distributed.initialize(*args)


def test_initialize_names_a_taken_port(jax_never_called):
    with socket.socket() as s:
        s.bind(("", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ValueError, match=f"coordinator port {port} is already in use"):
            jaxgd.distributed.initialize(f"127.0.0.1:{port}", 2, 0)


def test_initialize_without_a_cluster_says_so_before_asking_jax(jax_never_called):
    with pytest.raises(ValueError, match="no cluster detected"):
        jaxgd.distributed.initialize()


def test_initialize_after_a_computation_says_so_before_asking_jax(jax_never_called):
    import jax

    jax.devices()  # JAX's backend is running in this process now
    with pytest.raises(ValueError, match="must run before any other JAX computation"):
        jaxgd.distributed.initialize(f"127.0.0.1:{_free_port()}", 2, 1)


def test_initialize_twice_says_so_before_asking_jax(jax_never_called, monkeypatch):
    import jax

    monkeypatch.setattr(jax.distributed, "is_initialized", lambda: True)
    with pytest.raises(ValueError, match="already joined a cluster"):
        jaxgd.distributed.initialize(f"127.0.0.1:{_free_port()}", 2, 1)


def test_the_no_cluster_fallback_matches_this_jax(jax_never_called, monkeypatch):
    # Where JAX's cluster detection cannot be asked (a private API), initialize recognises
    # "no cluster" by JAX's text. The text was checked on the versions in TEXT_CHECKED_ON: a
    # JAX outside that range must be re-checked (this test, then widen the range).
    import jax
    from jax._src.distributed import State

    from jaxgd import distributed

    with pytest.raises(ValueError, match=distributed.NO_CLUSTER_TEXT):
        State().initialize()  # a fresh state, not JAX's own: its first check, nothing started
    lo, hi = (tuple(int(p) for p in v.split(".")) for v in distributed.TEXT_CHECKED_ON)
    assert lo <= tuple(jax.__version_info__[:3]) <= hi, (jax.__version__, distributed.TEXT_CHECKED_ON)

    def jax_without_a_cluster(**kwargs):
        State().initialize(**kwargs)

    monkeypatch.setattr(distributed, "_cluster_environment", lambda: None)  # detection unavailable
    monkeypatch.setattr(distributed, "_too_late", lambda: None)
    monkeypatch.setattr(jax.distributed, "initialize", jax_without_a_cluster)
    with pytest.raises(ValueError, match="no cluster detected"):
        distributed.initialize()
