"""Sweeps: every (batch size, learning rate, seed) run, one compiled program per batch size.

For each batch size the training run of ``jaxgd._train._run`` is vmapped over seeds (outer)
and learning rates (inner). The initial parameters and epoch orders depend on the seed only:
one more small program draws them once per seed and is shared by every batch size, so a sweep
compiles ``len(batch_sizes) + 1`` programs whatever its numbers of learning rates and seeds
(all concurrently). The lanes of a vmap never mix, so a run that diverges to inf/NaN leaves
every other run untouched.

Long sweeps are stepped through in chunks of epochs (same program for every chunk, parameters
carried on the host between chunks), which bounds memory and drives an optional progress bar
without a host round trip per update.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
import numbers
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate
from . import analysis
from ._data import epoch_order, run_keys
from ._model import Params, init_params
from ._train import Plan, _default_unroll, _run, variant_name

STEP_LOSS_MODES = ("none", "summary", "full")
DEFAULT_DIVERGENCE_FACTOR = 1e3
# In-program memory one chunk may use for epoch orders and per-update losses (bytes).
_CHUNK_BYTES = 64 * 2**20
# Progress bar shown by default when a sweep processes at least this many (run, sample) pairs.
_AUTO_PROGRESS_WORK = 2e9

_run_unjitted = _run.__wrapped__


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """Every run of a sweep, as numpy arrays indexed (batch size, lr, seed, ...).

    ``epoch_loss[i, j, k, e]`` is the full-data seed loss 1/(2n) sum (y_hat - y)^2 of the run
    with ``batch_sizes[i]``, ``lrs[j]``, ``seeds[k]`` after ``e`` epochs (``e = 0``: at the
    initial parameters). A run is *diverged* from the first epoch whose loss is non-finite or
    above ``divergence_factor`` times its initial loss; ``diverged_epoch`` is that epoch, -1
    for runs that never diverged. Diverged runs keep whatever their arrays hold (inf/NaN).
    """

    batch_sizes: np.ndarray  # (B,) int
    lrs: np.ndarray  # (L,) float
    seeds: np.ndarray  # (S,) int
    epochs: int
    n: int
    epoch_loss: np.ndarray  # (B, L, S, epochs + 1)
    w: np.ndarray  # (B, L, S, d): final weights
    b: np.ndarray  # (B, L, S): final bias
    diverged: np.ndarray  # (B, L, S) bool
    diverged_epoch: np.ndarray  # (B, L, S) int, -1 where not diverged
    optimum_loss: float  # least-squares optimum of the seed loss on the sweep's data
    divergence_factor: float
    step_loss_mode: str
    # step_loss="summary" (or "full"): mean and std of the update losses within each epoch.
    step_loss_mean: Optional[np.ndarray]  # (B, L, S, epochs)
    step_loss_std: Optional[np.ndarray]  # (B, L, S, epochs)
    # step_loss="full": per batch size, (L, S, updates) with updates = epochs * ceil(n / b).
    step_loss: Optional[tuple]
    compile_seconds: float  # compiling every program of the sweep (concurrently)
    draw_seconds: float  # drawing initial parameters and epoch orders, all chunks
    run_seconds: np.ndarray  # (B,) running each batch size's program, all chunks, host copies
    chunk_epochs: int  # epochs per compiled chunk

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.diverged.shape

    @property
    def num_runs(self) -> int:
        return int(self.diverged.size)

    @property
    def variants(self) -> list[str]:
        return [variant_name(int(b), self.n) for b in self.batch_sizes]

    @property
    def updates_per_epoch(self) -> np.ndarray:
        """(B,) parameter updates per epoch: ceil(n / b) (1 for GD, n for SGD)."""
        return -(-self.n // self.batch_sizes)

    @property
    def excess_loss(self) -> np.ndarray:
        """(B, L, S, epochs + 1) epoch loss minus the least-squares optimum loss."""
        return analysis.excess_loss(self.epoch_loss, self.optimum_loss)

    @property
    def final_loss(self) -> np.ndarray:
        return self.epoch_loss[..., -1]

    def epochs_to_target(self, rel: float = analysis.DEFAULT_REL_TARGET) -> np.ndarray:
        """(B, L, S) epochs until the excess loss is at most ``rel`` x its initial value.

        ``analysis.NOT_REACHED`` (-1) where the run never got there (diverged runs included).
        """
        return analysis.epochs_to_target(self.epoch_loss, self.optimum_loss, rel=rel)

    def rows(self, rel: float = analysis.DEFAULT_REL_TARGET) -> Iterator[dict[str, Any]]:
        """One dict per run (tidy data): configuration, outcome and divergence."""
        to_target = self.epochs_to_target(rel)
        upe = self.updates_per_epoch
        d = self.w.shape[-1]
        for i, bs in enumerate(self.batch_sizes):
            variant = variant_name(int(bs), self.n)
            for j, lr in enumerate(self.lrs):
                for k, seed in enumerate(self.seeds):
                    loss = self.epoch_loss[i, j, k]
                    e = int(to_target[i, j, k])
                    row = {
                        "variant": variant,
                        "batch_size": int(bs),
                        "lr": float(lr),
                        "seed": int(seed),
                        "epochs": self.epochs,
                        "updates": int(self.epochs * upe[i]),
                        "initial_loss": float(loss[0]),
                        "final_loss": float(loss[-1]),
                        "optimum_loss": self.optimum_loss,
                        "final_excess_loss": float(loss[-1] - self.optimum_loss),
                        "epochs_to_target": e if e != analysis.NOT_REACHED else None,
                        "updates_to_target": e * int(upe[i]) if e != analysis.NOT_REACHED else None,
                        "diverged": bool(self.diverged[i, j, k]),
                        "diverged_epoch": (
                            int(self.diverged_epoch[i, j, k]) if self.diverged[i, j, k] else None
                        ),
                    }
                    for f in range(d):
                        row[f"w{f}" if d > 1 else "w"] = float(self.w[i, j, k, f])
                    row["b"] = float(self.b[i, j, k])
                    yield row

    def to_csv(self, path, rel: float = analysis.DEFAULT_REL_TARGET):
        """Writes ``rows()`` as CSV (empty cells for "not reached" / "not diverged"); returns path."""
        rows = list(self.rows(rel))
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return path


def divergence(epoch_loss, factor: float = DEFAULT_DIVERGENCE_FACTOR):
    """``(diverged, diverged_epoch)`` over the last axis of ``epoch_loss`` (..., epochs + 1).

    Epoch ``e`` is diverged when its loss is non-finite or above ``factor`` x the loss at
    epoch 0; ``diverged_epoch`` is the first such epoch, -1 where there is none.
    """
    loss = np.asarray(epoch_loss, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(loss) | (loss > factor * loss[..., :1])
    hit = bad.any(axis=-1)
    return hit, np.where(hit, np.argmax(bad, axis=-1), -1)


# --- the compiled programs ----------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("n", "d", "length", "dtype", "with_orders"))
def _draw(seeds, e0, *, n, d, length, dtype, with_orders):
    """What a run draws from its seed, for every seed: the initial parameters (S, d, 1) and
    (S, 1), as ``train`` draws them, and the orders of epochs [e0, e0 + length), (S, length, n).

    Shared by every batch size of a sweep: the random-number code is the most expensive part
    of a program to compile, so it is compiled once per sweep rather than once per batch size.
    """
    init = jax.vmap(lambda s: init_params(run_keys(s)[0], d, dtype))(seeds)
    if not with_orders:
        return init, None
    epochs = e0 + jnp.arange(length)
    # lax.map over seeds: vmapping the cycle walk of ``epoch_order`` over every seed would run
    # each lane for as many iterations as the longest walk among S * length * n values.
    orders = jax.lax.map(
        lambda s: jax.vmap(lambda e: epoch_order(run_keys(s)[1], e, n))(epochs), seeds
    )
    return init, orders


@functools.partial(jax.jit, static_argnames=("plan", "record"))
def _chunk(X, y, lrs, seeds, orders, w, b, valid, *, plan: Plan, record: str):
    """``plan.epochs`` epochs of every (lr, seed) run from parameters ``w`` (L, S, d, 1), ``b``
    (L, S, 1), visiting samples in ``orders`` (S, plan.epochs, n) (None for GD).

    Only the first ``valid`` epochs count: the parameters returned are those after ``valid``
    epochs, so a short last chunk reuses the same program. Outputs are (L, S, ...).
    """

    def per_seed(seed, order, w_s, b_s):
        def per_lr(lr, w_l, b_l):
            _, w_hist, b_hist, epoch_loss, step_loss = _run_unjitted(
                X, y, seed, lr, (w_l, b_l), order, plan
            )
            out = {"w": w_hist[valid], "b": b_hist[valid], "epoch_loss": epoch_loss}
            if record == "summary":
                per_epoch = step_loss.reshape(plan.epochs, plan.num_batches)
                out["step_mean"] = per_epoch.mean(axis=1)
                out["step_std"] = per_epoch.std(axis=1)
            elif record == "full":
                out["step_loss"] = step_loss
            return out

        # Inner: learning rates. The batches a seed's order gathers are shared by its lrs.
        return jax.vmap(per_lr)(lrs, w_s, b_s)

    # Outer: seeds. out_axes=1 puts the seed axis second: every output is (L, S, ...).
    return jax.vmap(per_seed, in_axes=(0, 0, 1, 1), out_axes=1)(seeds, orders, w, b)


@functools.lru_cache(maxsize=32)
def _programs(n, d, dtype, L, S, length, record, x_shape, x_dtype, y_shape, plans, mesh=None):
    """The compiled draw program and one compiled chunk program per (batch size, unroll).

    Lowered in turn, then compiled concurrently (XLA compiles without holding the GIL). Cached
    by shape (and mesh), so repeating a sweep of the same shape neither traces nor compiles
    again. With a ``mesh`` every argument is lowered with its sharding (``_shardings``): the
    seed axis split across the mesh's devices, the rest replicated, and GSPMD partitions the
    programs accordingly.
    """
    with_orders = any(bs != n for bs, _ in plans)
    sh = _shardings(mesh) if mesh is not None else {}
    spec = lambda shape, dt=dtype, kind=None: jax.ShapeDtypeStruct(shape, dt, sharding=sh.get(kind))
    draw = _draw
    if mesh is not None:  # each device draws its own seeds' inits and orders, and keeps them
        draw = jax.jit(_draw.__wrapped__, static_argnames=("n", "d", "length", "dtype", "with_orders"),
                       out_shardings=(Params(sh["init_w"], sh["init_b"]), sh["orders"] if with_orders else None))
    lowered = [draw.lower(spec((S,), np.int32, "seeds"), spec((), np.int32, "rep"), n=n, d=d,
                          length=length, dtype=dtype, with_orders=with_orders)]
    for bs, unroll in plans:
        plan = Plan(n, bs, length, dtype, unroll)
        lowered.append(
            _chunk.lower(spec(x_shape, x_dtype, "rep"), spec(y_shape, x_dtype, "rep"), spec((L,), kind="rep"),
                         spec((S,), np.int32, "seeds"),
                         None if bs == n else spec((S, length, n), np.int32, "orders"),
                         spec((L, S, d, 1), kind="w"), spec((L, S, 1), kind="b"), spec((), np.int32, "rep"),
                         plan=plan, record=record)
        )
    with ThreadPoolExecutor(max_workers=min(len(lowered), os.cpu_count() or 1)) as pool:
        return tuple(pool.map(_compile, lowered))


# XLA:CPU hands the sweep's batched (seed, lr, batch) reductions and products to YNNPACK
# fusions, which run them ~5x slower than its own loops at these sizes (1000 seed-workload
# runs: 490 ms against 100 ms); turned off for the sweep's programs only.
_CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def _compile(lowered):
    if jax.default_backend() == "cpu":
        try:
            return lowered.compile(compiler_options=_CPU_COMPILER_OPTIONS)
        except Exception:  # an XLA without this option: its default fusions
            pass
    return lowered.compile()



# --- sharding the runs over a mesh --------------------------------------------------------


def _auto_mesh(mesh):
    """``mesh`` validated and rebuilt with Auto axes, so that XLA (GSPMD) places the collectives."""
    from jax.sharding import Mesh

    if not isinstance(mesh, Mesh):
        raise ValueError(f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    axis_type = getattr(jax.sharding, "AxisType", None)
    if axis_type is not None:
        mesh = Mesh(mesh.devices, mesh.axis_names, axis_types=(axis_type.Auto,) * len(mesh.axis_names))
    return mesh


def _shardings(mesh):
    """The sharding of each kind of sweep argument: the seed axis split over every mesh axis
    (all the mesh's devices), everything else (X, y, lrs, scalars) replicated."""
    from jax.sharding import NamedSharding, PartitionSpec as P

    axes = tuple(mesh.axis_names)
    return {
        "rep": NamedSharding(mesh, P()),
        "seeds": NamedSharding(mesh, P(axes)),
        "orders": NamedSharding(mesh, P(axes, None, None)),  # (S, epochs, n)
        "init_w": NamedSharding(mesh, P(axes, None, None)),  # (S, d, 1)
        "init_b": NamedSharding(mesh, P(axes, None)),  # (S, 1)
        "w": NamedSharding(mesh, P(None, axes, None, None)),  # (L, S, d, 1)
        "b": NamedSharding(mesh, P(None, axes, None)),  # (L, S, 1)
    }


def _put(x, sharding):
    return x if sharding is None else jax.device_put(x, sharding)


# --- the sweep ----------------------------------------------------------------------------


def _nonempty(values, name):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        try:
            values = list(values)
        except TypeError:
            raise ValueError(f"{name} must be a non-empty sequence, got {values!r}") from None
    values = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    if not values:
        raise ValueError(f"{name} is empty; give at least one value")
    return values


def _check_unique(values, name):
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{name} contains {v!r} twice")
        seen.add(v)


def _validate_seeds(seeds):
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a non-empty list, got {seeds}")
        seeds = range(int(seeds))
    seeds = [_validate.seed(s.item() if isinstance(s, np.generic) else s) for s in _nonempty(seeds, "seeds")]
    _check_unique(seeds, "seeds")
    return seeds


def _host_array(a, dtype):
    if isinstance(a, jax.Array) and a.dtype == dtype:
        return a
    return np.asarray(a, dtype)


def _chunking(plan_epochs, num_chunks_min, max_chunk):
    """(chunk length, number of chunks): all chunks the same length, the last one padded."""
    num = max(num_chunks_min, math.ceil(plan_epochs / max_chunk))
    length = math.ceil(plan_epochs / num)
    return length, math.ceil(plan_epochs / length)


def _progress(total, enabled, desc):
    """A tqdm bar over epochs, or None when disabled."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", leave=True)


def sweep(
    X,
    y,
    *,
    batch_sizes: Sequence[Optional[int]],
    lrs: Sequence[float],
    seeds,
    epochs: int,
    step_loss: str = "summary",
    divergence_factor: float = DEFAULT_DIVERGENCE_FACTOR,
    chunk_epochs: Optional[int] = None,
    progress: Optional[bool] = None,
    unroll: Optional[int] = None,
    mesh: Optional[jax.sharding.Mesh] = None,
) -> SweepResult:
    """Trains every (batch size, learning rate, seed) combination; one program per batch size.

    Run ``(b, lr, seed)`` of a sweep is the run ``jaxgd.train(X, y, batch_size=b, lr=lr,
    epochs=epochs, seed=seed)``: same initial parameters, same epoch orders, same updates.

    Args:
      X, y: the data, as for ``train``.
      batch_sizes: batch sizes (``None`` or ``n``: full-batch GD; 1: SGD).
      lrs: learning rates (> 0). Runs that diverge are flagged, never raised.
      seeds: seeds, or a count S meaning ``range(S)``.
      epochs: passes over the data.
      step_loss: per-update losses: ``"none"``; ``"summary"`` (default) keeps the mean and
        standard deviation of the update losses within each epoch; ``"full"`` keeps all of
        them (``epochs * ceil(n / b)`` floats per run: large for SGD sweeps).
      divergence_factor: a run diverges at the first epoch whose loss is non-finite or above
        this multiple of its initial loss.
      chunk_epochs: epochs per compiled chunk. Default: as many as fit in 64 MiB of orders and
        per-update losses (the whole run for the seed's sizes), or about a tenth of the run
        when the progress bar is on. The result does not depend on it.
      progress: show a progress bar (tqdm if installed) per batch size. Default: only for big
        sweeps (>= 2e9 sample-gradients).
      unroll: as for ``train``; a speed knob only.
      mesh: optional ``jax.sharding.Mesh``: the runs are spread over all its devices by seed.
        The seed axis of every program is sharded across the devices (X, y and the learning
        rates replicated on each) and XLA partitions the programs (GSPMD); runs never
        communicate, so each device trains its own seeds. When the number of seeds is not a
        multiple of the device count, the last seed is repeated to fill the devices and the
        repeats are dropped from the result. Each run equals the unsharded sweep's up to
        float32 rounding.

    Returns:
      A ``SweepResult``.

    Raises:
      ValueError: for malformed data or arguments (empty lists, lr <= 0, batch size outside
        [1, n], duplicates, ...).
    """
    X, y, dtype = _validate.data(X, y)
    n, d = X.shape
    batch_sizes = [_validate.batch_size(b, n) for b in _nonempty(batch_sizes, "batch_sizes")]
    _check_unique(batch_sizes, "batch_sizes (None means n)")
    lrs = [_validate.lr(lr.item() if isinstance(lr, np.generic) else lr) for lr in _nonempty(lrs, "lrs")]
    _check_unique(lrs, "lrs")
    seeds = _validate_seeds(seeds)
    epochs = _validate.epochs(epochs.item() if isinstance(epochs, np.generic) else epochs)
    if step_loss not in STEP_LOSS_MODES:
        raise ValueError(f"step_loss must be one of {STEP_LOSS_MODES}, got {step_loss!r}")
    if isinstance(divergence_factor, bool) or not isinstance(divergence_factor, numbers.Real) or not (
        np.isfinite(divergence_factor) and divergence_factor > 1
    ):
        raise ValueError(f"divergence_factor must be a finite number > 1, got {divergence_factor!r}")
    if chunk_epochs is not None:
        chunk_epochs = _validate._positive_int(chunk_epochs, "chunk_epochs")
        if chunk_epochs < 1:
            raise ValueError(f"chunk_epochs must be >= 1, got {chunk_epochs}")
    if unroll is not None and (isinstance(unroll, bool) or int(unroll) != unroll or unroll < 1):
        raise ValueError(f"unroll must be a positive integer, got {unroll!r}")
    if mesh is not None:
        mesh = _auto_mesh(mesh)
    L, S, B = len(lrs), len(seeds), len(batch_sizes)
    # With a mesh, the programs run S_run >= S seed lanes: S padded to a multiple of the
    # devices by repeating the last seed (dropped from the results).
    S_run = S if mesh is None else -(-S // mesh.size) * mesh.size
    sh = _shardings(mesh) if mesh is not None else {}
    if progress is None:
        progress = L * S * epochs * n * B >= _AUTO_PROGRESS_WORK

    dtype = np.dtype(dtype)
    X_dev, y_dev = _host_array(X, dtype), _host_array(y, dtype)
    lrs_arr = np.asarray(lrs, dtype)
    seeds_arr = np.asarray(seeds + seeds[-1:] * (S_run - S), np.int32)
    if mesh is not None:
        X_dev, y_dev = _put(X_dev, sh["rep"]), _put(y_dev, sh["rep"])
        lrs_arr, seeds_arr = _put(lrs_arr, sh["rep"]), _put(seeds_arr, sh["seeds"])
    record = step_loss
    nbs = [math.ceil(n / bs) for bs in batch_sizes]
    with_orders = any(bs != n for bs in batch_sizes)

    # One chunk length for the whole sweep (the orders of a chunk are shared by every batch size).
    per_epoch_bytes = dtype.itemsize * S_run * n * with_orders + 4 * L * S_run * max(nbs) * (record != "none")
    max_chunk = chunk_epochs or max(1, _CHUNK_BYTES // max(per_epoch_bytes, 1))
    length, num_chunks = _chunking(epochs, 10 if progress and chunk_epochs is None else 1, max_chunk)

    t0 = time.perf_counter()
    draw, *programs = _programs(
        n, d, str(dtype), L, S_run, length, record, X_dev.shape, str(X_dev.dtype), y_dev.shape,
        tuple((bs, int(unroll or _default_unroll(bs, n))) for bs in batch_sizes), mesh,
    )
    compile_s = time.perf_counter() - t0

    epoch_loss = np.empty((B, L, S, epochs + 1), dtype)
    step_mean = np.empty((B, L, S, epochs), dtype) if record != "none" else None
    step_std = np.empty((B, L, S, epochs), dtype) if record != "none" else None
    full_parts = [[] for _ in batch_sizes]
    params = [None] * B
    draw_s, run_s = 0.0, np.zeros(B)
    bar = _progress(epochs, progress, f"sweep {B}x{L}x{S} runs")
    for c in range(num_chunks):
        e0 = c * length
        valid = min(length, epochs - e0)
        t0 = time.perf_counter()
        (w_init, b_init), orders = jax.block_until_ready(draw(seeds_arr, _put(np.int32(e0), sh.get("rep"))))
        draw_s += time.perf_counter() - t0
        if c == 0:  # every lr of a seed starts from the seed's draw, as train(seed=...) does
            start = (np.broadcast_to(np.asarray(w_init), (L, S_run, d, 1)).copy(),
                     np.broadcast_to(np.asarray(b_init), (L, S_run, 1)).copy())
            params = [start] * B
        for i, bs in enumerate(batch_sizes):
            t0 = time.perf_counter()
            w_i, b_i = params[i]
            out = programs[i](X_dev, y_dev, lrs_arr, seeds_arr, None if bs == n else _put(orders, sh.get("orders")),
                              _put(w_i, sh.get("w")), _put(b_i, sh.get("b")),
                              _put(np.int32(valid), sh.get("rep")))
            # One host transfer per chunk and batch size; the padding seeds' lanes dropped.
            out = jax.tree.map(lambda a: np.asarray(a)[:, :S], out)
            run_s[i] += time.perf_counter() - t0
            params[i] = (out["w"], out["b"])
            if S_run != S:  # carried to the next chunk with the padding lanes again
                params[i] = tuple(np.concatenate([p, np.repeat(p[:, -1:], S_run - S, axis=1)], axis=1)
                                  for p in params[i])
            if c == 0:
                epoch_loss[i, ..., : valid + 1] = out["epoch_loss"][..., : valid + 1]
            else:
                epoch_loss[i, ..., e0 + 1 : e0 + valid + 1] = out["epoch_loss"][..., 1 : valid + 1]
            if record == "summary":
                step_mean[i, ..., e0 : e0 + valid] = out["step_mean"][..., :valid]
                step_std[i, ..., e0 : e0 + valid] = out["step_std"][..., :valid]
            elif record == "full":
                full_parts[i].append(out["step_loss"][..., : valid * nbs[i]])
        if bar is not None:
            hit = divergence(epoch_loss[..., : e0 + valid + 1], divergence_factor)[0]
            bar.set_postfix_str(f"{int(hit.sum())}/{hit.size} diverged", refresh=False)
            bar.update(valid)
    if bar is not None:
        bar.close()

    w_final = np.stack([p[0][:, :S, :, 0] for p in params])
    b_final = np.stack([p[1][:, :S, 0] for p in params])
    step_full = None
    if record == "full":
        step_full = tuple(np.concatenate(parts, axis=-1) for parts in full_parts)
        for i, full in enumerate(step_full):
            per_epoch = full.reshape(L, S, epochs, nbs[i])
            with np.errstate(invalid="ignore", over="ignore"):  # diverged runs: inf - inf
                step_mean[i], step_std[i] = per_epoch.mean(axis=-1), per_epoch.std(axis=-1)

    initial = epoch_loss[..., 0]
    if not np.isfinite(initial).all():
        _validate.explain_nonfinite_loss(X, y, None)
    diverged, diverged_epoch = divergence(epoch_loss, divergence_factor)
    return SweepResult(
        batch_sizes=np.asarray(batch_sizes),
        lrs=np.asarray(lrs, np.float64),
        seeds=np.asarray(seeds),
        epochs=epochs,
        n=n,
        epoch_loss=epoch_loss,
        w=w_final,
        b=b_final,
        diverged=diverged,
        diverged_epoch=diverged_epoch,
        optimum_loss=analysis.optimum(X, y).loss,
        divergence_factor=float(divergence_factor),
        step_loss_mode=record,
        step_loss_mean=step_mean,
        step_loss_std=step_std,
        step_loss=tuple(step_full) if record == "full" else None,
        compile_seconds=compile_s,
        draw_seconds=draw_s,
        run_seconds=run_s,
        chunk_epochs=length,
    )
