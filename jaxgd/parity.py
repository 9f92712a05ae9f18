"""Cross-framework parity: replay one configuration in torchref and jaxgd and compare.

Both runs get the same data, initial parameters and per-epoch orders, so they perform the
same arithmetic; what differs is summation order and fused multiply-adds, bounded by:

- float32: rtol 1e-5, atol 1e-6. One float32 rounding is 6e-8 relative; a run of up to
  ~10^5 updates accumulates a few hundred of them in the worst case, and the losses are
  contractive for the stable learning rates tested, so differences stay well below 1e-5.
- float64: rtol = atol = 1e-12, for the same reason at 1.1e-16 per rounding.

Those bounds are for the tutorial's plain SGD against the tutorial's own loop
(``torchref.tutorial.train``). Any other optimizer, or a learning-rate schedule, is replayed by
the tutorial's loop driven by a real ``torch.optim`` optimizer and ``lr_scheduler``
(``torchref.optim.train``; ``to_torch`` maps a jaxgd spec onto torch's constructors) and held
to ``OPTIM_F64_RTOL`` and ``OPTIM_F32_SCALE_RTOL`` (see there for why).

Needs torch (``pip install 'jaxgd[dev]'``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from typing import NamedTuple, Optional

import jax
import numpy as np

TOLERANCES = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-12)}  # dtype: (rtol, atol)

# Optimizers other than plain SGD, or any schedule, against torch.optim (as tests/test_optim_train.py):
OPTIM_F64_RTOL = 1e-10
"""float64: each recorded field within 1e-10 of that field's scale (its largest |torch| value),
the same yardstick as float32 below. The frameworks round in different orders, ~1e-16 per
operation, so parameters and epoch losses agree to a few ulps; but a single-sample update loss
can pass within 1e-12 of 0, where one rounding of the residual is 1e-9 *relative* (measured:
a loss of 6.6e-13 off by 5.1e-22 in Adam's SGD run, n=1000, 50 epochs) while the largest
difference anywhere is 2.8e-14. Element-wise relative error judges that rounding, not parity."""
OPTIM_F32_SCALE_RTOL = 1e-5
"""float32, optimizers other than plain SGD (or with a schedule): each recorded field (every
epoch's w, b and loss, every update's loss) within 1e-5 of that field's scale (its largest
|torch| value). Not element-wise relative: adaptive methods divide by sqrt(v) + eps, which
amplifies a rounding difference once v is small, torch computes 1 - beta2^t and friends in
double while jaxgd holds the hyperparameters in float32, and single-sample losses and
parameters pass near 0, where any rounding is "large" relatively. Measured worst on small
problems (tests/test_optim_train.py): Adam(W) 1.2e-6, RMSprop 7.3e-7, SGD with momentum 5.7e-7."""


def is_plain_sgd(optimizer=None, schedule=None) -> bool:
    """True for the tutorial's optimizer (SGD, no momentum or weight decay) at a constant rate:
    the case ``torchref.tutorial.train`` replays."""
    from jaxgd import optim

    return optim.get(optimizer or "sgd") == optim.sgd() and optim.get_schedule(schedule) == optim.constant()


def tolerance_text(dtype, plain_sgd=True) -> str:
    """The tolerance ``compare`` applies, in words."""
    if plain_sgd:
        rtol, atol = TOLERANCES[dtype]
        return f"|jax - torch| <= {atol:g} + {rtol:g}·|torch|"
    rtol = OPTIM_F64_RTOL if dtype == "float64" else OPTIM_F32_SCALE_RTOL
    return f"|jax - torch| <= {rtol:g}·max|torch| of each field"


def x64_enabled(enabled=True):
    """Context manager that switches JAX's 64-bit mode."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(enabled)
    from jax.experimental import enable_x64, disable_x64  # older JAX

    return enable_x64() if enabled else disable_x64()


class ParityReport(NamedTuple):
    """The largest differences between a jaxgd run and the torchref run it replays.

    A run that diverges (its loss non-finite or above 1000x the initial loss, the project's one
    definition) is a result, not a breach: the differences are taken over the epochs before the
    first divergence of either run (``compared_epochs`` epoch records: epochs
    0 .. compared_epochs - 1, and every update that led up to them), and parity holds when that
    part agrees and both runs diverge at the same epoch (or neither does).
    """

    variant: str
    batch_size: int
    dtype: str
    max_param_diff: float  # max |jax - torch| over the compared epochs' w and b
    max_epoch_loss_diff: float
    max_step_loss_diff: float
    max_violation: float  # max |diff| / (atol + rtol |torch|); <= 1 passes
    ok: bool
    jax_diverged_at: Optional[int] = None  # first diverged epoch, None if the run never diverged
    torch_diverged_at: Optional[int] = None
    compared_epochs: int = 0
    optimizer: str = "sgd"  # the optimizer's name
    tolerance: str = ""  # the tolerance applied, in words (``tolerance_text``)
    torch_kept: bool = False  # torch's run was read from ``reference_cache``, not run again

    @property
    def diverged(self) -> bool:
        """Either run diverged."""
        return self.jax_diverged_at is not None or self.torch_diverged_at is not None

    @property
    def same_divergence(self) -> bool:
        """Both runs diverged at the same epoch, or neither diverged."""
        return self.jax_diverged_at == self.torch_diverged_at


def _violation(a, b, rtol, atol, scale=False):
    """(max |a - b| / tolerance, max |a - b|); the tolerance is ``atol + rtol |b|`` element-wise,
    or with ``scale`` ``rtol max|b|`` for the whole field (``atol`` when that is 0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0, 0.0
    diff = np.abs(a - b)
    tol = max(rtol * float(np.max(np.abs(b))), atol) if scale else atol + rtol * np.abs(b)
    return float(np.max(diff / tol)), float(np.max(diff))


def diverged_at(epoch_loss) -> Optional[int]:
    """The first diverged epoch of a loss curve (non-finite, or above 1000x the initial loss), or None."""
    from jaxgd.analysis import divergence  # the project's one definition

    hit, epoch = divergence(np.asarray(epoch_loss, np.float64))
    return int(epoch) if bool(hit) else None


def tolerance(dtype, plain_sgd=True) -> tuple[float, float, bool]:
    """``(rtol, atol, scale)`` of the parity check (``tolerance_text`` says it in words): plain SGD
    at a constant rate element-wise (``TOLERANCES``), anything else against each field's scale."""
    if plain_sgd:
        return (*TOLERANCES[dtype], False)
    if dtype == "float64":
        return OPTIM_F64_RTOL, 1e-300, True
    return OPTIM_F32_SCALE_RTOL, 1e-30, True


def violation(a, b, dtype="float32", plain_sgd=True) -> tuple[float, float]:
    """``(max |a - b| / tolerance, max |a - b|)`` of a jaxgd field ``a`` against torch's ``b`` under
    the parity tolerance (``tolerance``); <= 1 passes."""
    return _violation(a, b, *tolerance(dtype, plain_sgd))


def _torch_job(X, y, *, batch_size, lr, epochs, init, order, dtype="float32", optimizer=None,
               schedule=None) -> dict:
    """``compare``'s torch run as plain data for ``torchref.replay.run``: arrays in ``dtype`` and
    torch's own class names and keywords, no closure, so it pickles into a worker process."""
    from jaxgd import optim

    opt = optim.get(optimizer or "sgd")
    sched = optim.get_schedule(schedule)
    job = {"X": np.asarray(X, dtype), "y": np.asarray(y, dtype).reshape(-1, 1),
           "w0": np.asarray(init[0], dtype), "b0": np.asarray(init[1], dtype), "order": np.asarray(order),
           "batch_size": int(batch_size), "lr": float(lr), "epochs": int(epochs)}
    if not is_plain_sgd(opt, sched):
        job["optimizer"] = (opt.definition.torch_name, dict(opt.kwargs))
        job["schedule"] = None if sched.name == "constant" else (sched.torch_name, dict(sched.kwargs))
    return job


def reference(X, y, *, batch_size, lr, epochs, init, order, dtype="float32", optimizer=None, schedule=None) -> dict:
    """The PyTorch run ``compare`` replays, as numpy arrays: ``w_history`` (epochs + 1, d, 1),
    ``b_history`` (epochs + 1, 1), ``epoch_loss`` (epochs + 1,) and ``step_loss`` (updates,).

    Plain SGD at a constant rate runs the tutorial's loop (``torchref.tutorial.train``), anything
    else that loop driven by ``torch.optim`` (``torchref.optim.train``), through
    ``torchref.replay.run``; the arguments are those of ``compare``. Imports torch (unless
    ``reference_cache`` holds the run).
    """
    job = _torch_job(X, y, batch_size=batch_size, lr=lr, epochs=epochs, init=init, order=order, dtype=dtype,
                     optimizer=optimizer, schedule=schedule)
    ref = _kept_reference(job)
    return _run_and_keep(job) if ref is None else ref


def _run_and_keep(job: dict) -> dict:
    """torch's run of ``job`` in this process, kept while ``reference_cache`` is in force."""
    import torchref.replay

    ref = torchref.replay.run(**job)
    _keep_reference(job, ref)
    return ref


# --- torch's side of a run, kept on disk while reference_cache is in force ----------------------

_REFERENCE_DIR = None  # the folder of entries while reference_cache is in force, else None
_REFERENCE_FIELDS = ("w_history", "b_history", "epoch_loss", "step_loss")  # torchref.replay.FIELDS


@contextlib.contextmanager
def reference_cache(directory):
    """Within the block, each torch run (``reference``, ``compare``, ``compare_many``) is read
    from ``directory`` when it holds that run, and kept there when it is computed.

    A torch run is a deterministic function of its inputs: one thread, the same data, initial
    parameters and sample orders, torch's own classes. An entry is filed under a hash of
    everything that decides its numbers (``_reference_key``): the job itself (every array's
    dtype, shape and bytes; batch size, learning rate, epochs, optimizer and schedule with
    their keywords) and the environment that computes it (torch's and numpy's versions, a hash
    of torchref's source files, Python's version, the machine and its CPU's instruction-set
    flags, which pick torch's kernels). Another torch, torchref edit or CPU is another entry,
    so nothing read can be stale; the jaxgd side is always computed afresh and compared with
    it. An unreadable entry, or one of the wrong shape, is computed again. The command line
    holds this around every command (``jaxgd parity``, ``jaxgd explore``'s check), in its cache
    directory, unless ``--no-cache`` or ``JAXGD_NO_CACHE``."""
    global _REFERENCE_DIR
    before = _REFERENCE_DIR
    _REFERENCE_DIR = os.path.join(os.fspath(directory), "torch-reference")
    try:
        yield _REFERENCE_DIR
    finally:
        _REFERENCE_DIR = before


def reference_directory() -> Optional[str]:
    """The folder ``reference_cache`` keeps torch's runs in while in force, else None."""
    return _REFERENCE_DIR


@functools.lru_cache(maxsize=1)
def _torch_environment() -> str:
    """What besides the job decides a torch run's numbers, without importing torch."""
    import importlib.metadata
    import platform
    import sys

    h = hashlib.sha256()
    root = _torchref_root()
    for name in sorted(f for f in os.listdir(root) if f.endswith(".py")):
        with open(os.path.join(root, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read() + b"\0")
    return repr((importlib.metadata.version("torch"), np.__version__, h.hexdigest(), sys.version,
                 platform.machine(), platform.processor(), _cpu_flags()))


def _torchref_root() -> str:
    """torchref's folder, found without importing it (it imports torch)."""
    import importlib.util

    return os.path.dirname(os.path.abspath(importlib.util.find_spec("torchref").origin))


def _cpu_flags() -> str:
    """The CPU's instruction-set flags (Linux's /proc/cpuinfo; "" elsewhere): they pick torch's kernels."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1] for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        return ""
    return " ".join(sorted(flags.split()))


def _reference_key(job: dict) -> str:
    """The name of a torch run's entry: a hash of the job and ``_torch_environment``."""
    h = hashlib.sha256(_torch_environment().encode())
    for k in sorted(job):
        v = job[k]
        if isinstance(v, np.ndarray):
            h.update(repr((k, str(v.dtype), v.shape)).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        else:
            h.update(repr((k, v)).encode())
    return h.hexdigest()[:40]


def _expected_shapes(job: dict) -> dict:
    n, d = job["X"].shape
    updates = job["epochs"] * -(-n // job["batch_size"])
    return {"w_history": (job["epochs"] + 1, d, 1), "b_history": (job["epochs"] + 1, 1),
            "epoch_loss": (job["epochs"] + 1,), "step_loss": (updates,)}


def _kept_reference(job: dict) -> Optional[dict]:
    """The kept torch run of ``job``, or None (no cache in force, no entry, or an unreadable one)."""
    if _REFERENCE_DIR is None:
        return None
    try:
        with np.load(os.path.join(_REFERENCE_DIR, _reference_key(job) + ".npz")) as entry:
            ref = {k: entry[k] for k in _REFERENCE_FIELDS}
        if any(ref[k].shape != shape for k, shape in _expected_shapes(job).items()):
            return None
        return ref
    except Exception:  # none yet, truncated, another format: computed again
        return None


def _keep_reference(job: dict, ref: dict) -> None:
    """Keep ``ref``, the torch run of ``job``, while a cache is in force; never fails."""
    if _REFERENCE_DIR is None:
        return
    import tempfile

    try:
        os.makedirs(_REFERENCE_DIR, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=_REFERENCE_DIR, prefix=".ref-", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{k: ref[k] for k in _REFERENCE_FIELDS})
        os.replace(tmp, os.path.join(_REFERENCE_DIR, _reference_key(job) + ".npz"))  # atomic
    except Exception:  # a read-only directory: not kept
        pass


def _jax_run(X, y, *, batch_size, lr, epochs, init, order, dtype="float32", optimizer=None, schedule=None):
    """``compare``'s jaxgd run: (its ``Result``, [w_history, b_history, epoch_loss, step_loss])."""
    from jaxgd.drivers import _train
    from jaxgd import optim
    from jaxgd.drivers._runs import quiet_divergence

    opt = optim.get(optimizer or "sgd")
    sched = optim.get_schedule(schedule)
    X, y = np.asarray(X, dtype), np.asarray(y, dtype).reshape(-1, 1)
    w0, b0 = (np.asarray(p, dtype) for p in init)
    # Divergence is reported in the ParityReport; train's warning about it would repeat it.
    with x64_enabled(dtype == "float64"), quiet_divergence():
        res = _train.train(X, y, batch_size=batch_size, lr=lr, epochs=epochs, init=(w0, b0), order=np.asarray(order),
                           **({} if is_plain_sgd(opt, sched) else {"optimizer": opt, "schedule": sched}))
        return res, [np.asarray(a) for a in (res.w_history, res.b_history, res.epoch_loss, res.step_loss)]


def _report(case, res, jax_out, ref) -> ParityReport:
    from jaxgd import optim

    opt = optim.get(case.get("optimizer") or "sgd")
    plain = is_plain_sgd(opt, case.get("schedule"))
    dtype, epochs = case.get("dtype", "float32"), case["epochs"]
    ref_out = [ref[k] for k in _REFERENCE_FIELDS]
    jax_div, torch_div = diverged_at(jax_out[2]), diverged_at(ref_out[2])
    # Compare epochs 0 .. k-1, before either run diverged, and the updates that led to them.
    k = min([epochs + 1] + [e for e in (jax_div, torch_div) if e is not None])
    updates = (k - 1) * (res.updates // epochs)
    cut = (slice(0, k), slice(0, k), slice(0, k), slice(0, updates))
    diffs = [violation(j[c], r[c], dtype, plain) for j, r, c in zip(jax_out, ref_out, cut)]
    (viol_w, diff_w), (viol_b, diff_b), (viol_e, diff_e), (viol_s, diff_s) = diffs
    violation_ = max(viol_w, viol_b, viol_e, viol_s)
    finite = all(np.isfinite(j[c]).all() for j, c in zip(jax_out, cut))
    return ParityReport(
        res.config.variant, case["batch_size"], dtype, max(diff_w, diff_b), diff_e, diff_s, violation_,
        bool(violation_ <= 1.0 and finite and jax_div == torch_div), jax_div, torch_div, k,
        opt.name, tolerance_text(dtype, plain),
    )


def compare(X, y, *, batch_size, lr, epochs, init, order, dtype="float32", optimizer=None, schedule=None):
    """Run torchref and jaxgd on identical inputs; return a ``ParityReport``.

    ``X`` (n, d), ``y`` (n, 1), ``init = (w0 (d, 1), b0 (1,))`` and ``order`` (epochs, n) are
    numpy arrays; they are cast to ``dtype`` for both frameworks. A learning rate that makes
    the runs diverge is allowed: see ``ParityReport``.

    ``optimizer`` and ``schedule`` (``jaxgd.optim`` specs or names, as for ``train``): plain SGD
    at a constant rate (the default) replays the tutorial's loop (``torchref.tutorial.train``,
    ``TOLERANCES``); anything else the same loop driven by ``torch.optim``
    (``torchref.optim.train``, ``OPTIM_F64_RTOL`` / ``OPTIM_F32_SCALE_RTOL``).
    ``compare_many`` runs many cases with the torch runs in worker processes.
    """
    case = dict(X=X, y=y, batch_size=batch_size, lr=lr, epochs=epochs, init=init, order=order, dtype=dtype,
                optimizer=optimizer, schedule=schedule)
    return compare_many([case], workers=0)[0]


WORKERS_FROM_UPDATES = 20_000
"""``compare_many`` starts worker processes by default from this many torch updates in all: about
5 s of torch's eager loop on a 2-core machine (0.2-1 ms per update), against about 3 s to start a
worker."""


def compare_many(cases, *, workers=None) -> list[ParityReport]:
    """``[compare(**case) for case in cases]``, faster: the torch runs go to ``workers`` worker
    processes while the jaxgd runs proceed here. ``workers=None`` (the default) starts one per CPU
    core when the torch runs make at least ``WORKERS_FROM_UPDATES`` updates in all (starting a
    worker, which imports torch, costs seconds), and none otherwise; 0 runs everything in this
    process. Each case is a dict of ``compare``'s keyword arguments. The reports are the
    same as ``compare``'s: each torch run is the same single-threaded arithmetic wherever it runs.

    Workers are started with ``spawn`` (never ``fork``: this process runs JAX's threads) and import
    only torch, numpy and ``torchref``. As with any ``spawn`` pool, a script that calls this at
    its top level needs the ``if __name__ == "__main__":`` guard (each worker imports the script).
    Within ``reference_cache``, the torch runs it keeps are read, not run again.
    """
    cases = [dict(case) for case in cases]
    jobs = [_torch_job(**case) for case in cases]

    def updates(job):  # epochs x batches per epoch
        return job["epochs"] * -(-len(job["X"]) // job["batch_size"])

    if workers is not None and workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    kept = [_kept_reference(job) for job in jobs]  # while reference_cache is in force
    todo = [i for i in range(len(jobs)) if kept[i] is None]
    marked = lambda i, report: report._replace(torch_kept=i not in todo)
    if workers is None:
        many = sum(updates(jobs[i]) for i in todo) >= WORKERS_FROM_UPDATES
        workers = min(os.cpu_count() or 1, len(todo)) if many else 0
    if workers == 0:
        return [marked(i, _report(case, *_jax_run(**case), kept[i] if kept[i] is not None else _run_and_keep(jobs[i])))
                for i, case in enumerate(cases)]
    import concurrent.futures
    import multiprocessing

    import torchref.replay

    with concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=torchref.replay.single_thread) as pool:
        # The longest torch runs first, so that the workers finish together.
        futures = {i: pool.submit(torchref.replay.run_job, jobs[i]) for i in sorted(todo, key=lambda i: -updates(jobs[i]))}
        jax_runs = [_jax_run(**case) for case in cases]
        for i, future in futures.items():
            kept[i] = future.result()
            _keep_reference(jobs[i], kept[i])
        return [marked(i, _report(case, *jax_runs[i], kept[i])) for i, case in enumerate(cases)]


# --- jaxgd.optim specs -> torch.optim / torch.optim.lr_scheduler (torch imported inside) ----------


def make_optimizer(spec):
    """``(params, lr) -> torch.optim.Optimizer`` for a jaxgd ``optim.Optimizer``: its registered
    torch class with the spec's keywords, which are torch's (``spec.kwargs``), and torch's
    default ``foreach`` (``torchref.replay.optimizer_factory``)."""
    import torchref.replay

    return torchref.replay.optimizer_factory(spec.definition.torch_name, spec.kwargs)


def make_scheduler(schedule):
    """``optimizer -> torch LRScheduler`` for a jaxgd ``optim.Schedule``; None for ``constant``."""
    import torchref.replay

    if schedule.name == "constant":
        return None
    return torchref.replay.scheduler_factory(schedule.torch_name, schedule.kwargs)


def to_torch(optimizer_spec, schedule_spec=None):
    """``(make_optimizer, make_scheduler)`` for ``torchref.optim.train`` (torch is imported when they are called)."""
    return make_optimizer(optimizer_spec), None if schedule_spec is None else make_scheduler(schedule_spec)


def tutorial_problem(n=1000, d=1, epochs=50, seed=0, dtype="float32"):
    """The tutorial's workload as numpy arrays: (X, y, init, order), replayable in both frameworks."""
    from jaxgd.data._synthetic import synthetic_data, tutorial_weights
    from jaxgd.data._orders import epoch_orders

    with x64_enabled(dtype == "float64"):
        true_w = tutorial_weights(d)
        data = synthetic_data(true_w, 4.0, n, seed=seed, dtype=dtype)
        X, y = np.asarray(data.X), np.asarray(data.y)
    rng = np.random.default_rng(seed)
    init = (rng.normal(0.0, 0.01, (d, 1)).astype(dtype), np.zeros(1, dtype))
    order = np.asarray(epoch_orders(seed, n, epochs))
    return X, y, init, order
