"""``sweep``: every (batch size, learning rate, seed) run, one compiled program per batch size.

The host driver of the sweep's programs (``_sweep_programs``): it validates, sizes the chunks,
hands each chunk's final ``TrainState``s (optimizer state included) on to the next chunk on the
device, copies each chunk's losses to the host, and assembles a ``SweepResult``.
The lanes of a vmap never mix, so a run that diverges to inf/NaN leaves every other run
untouched.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any, NamedTuple, Optional, Sequence

import jax
import numpy as np

from jaxgd.drivers import _validate
from jaxgd import analysis, core, optim
from jaxgd.data._mesh import auto_mesh, to_host
from jaxgd.drivers._sweep_programs import SweepShape, _shardings, programs
from jaxgd.drivers._sweep_result import SweepResult
from jaxgd._errors import InputError

STEP_LOSS_MODES = ("none", "summary", "full")
# In-program memory one chunk may use for epoch orders and per-update losses (bytes).
_CHUNK_BYTES = 64 * 2**20
# Progress bar shown by default when a sweep processes at least this many (run, sample) pairs.
_AUTO_PROGRESS_WORK = 2e9
_ORDER_ITEMSIZE = 4  # epoch orders are int32, whatever the data's dtype


def _host_array(a, dtype):
    if isinstance(a, jax.Array) and a.dtype == dtype:
        return a
    return np.asarray(a, dtype)


def _chunking(epochs, num_chunks_min, max_chunk):
    """(chunk length, number of chunks): all chunks the same length, the last one masked."""
    num = max(num_chunks_min, math.ceil(epochs / max_chunk))
    length = math.ceil(epochs / num)
    return length, math.ceil(epochs / length)


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
    seeds=5,
    epochs: int = 50,
    optimizer: Any = None,
    schedule: Any = None,
    step_loss: str = "summary",
    divergence_factor: float = analysis.DIVERGENCE_FACTOR,
    chunk_epochs: Optional[int] = None,
    progress: Optional[bool] = None,
    unroll: Optional[int] = None,
    mesh: Optional[jax.sharding.Mesh] = None,
    validation: Optional[tuple[Any, Any]] = None,
    record_every: Optional[int] = None,
    fast_compile: bool = False,
) -> SweepResult:
    """Trains every (batch size, learning rate, seed) combination; one program per batch size.

    Run ``(b, lr, seed)`` of a sweep is the run ``jaxgd.train(X, y, batch_size=b, lr=lr,
    epochs=epochs, seed=seed, optimizer=optimizer)``: same initial parameters, same epoch
    orders, same updates (up to float32 rounding: vmapping reassociates the batch sums).

    Args:
      X: the features, as for ``train``.
      y: the targets, as for ``train``.
      batch_sizes: batch sizes (``None`` or ``n``: full-batch GD; 1: SGD).
      lrs: learning rates (> 0). Runs that diverge are flagged, never raised.
      seeds: seeds, or a count S meaning ``range(S)`` (default 5).
      epochs: passes over the data (default the tutorial's 50).
      optimizer: a ``jaxgd.optim`` spec or name, as for ``train`` (default plain SGD); its
        state is carried across chunks.
      schedule: a ``jaxgd.optim`` learning-rate schedule, as for ``train`` (each lr is a base).
      step_loss: per-update losses: ``"none"``; ``"summary"`` (default) keeps the mean and
        standard deviation of the update losses within each epoch; ``"full"`` keeps all of
        them (``epochs * ceil(n / b)`` floats per run: large for SGD sweeps).
      divergence_factor: a run diverges at the first epoch whose loss is non-finite or above
        this multiple of its initial loss (``analysis.divergence``; default 1000).
      chunk_epochs: epochs per compiled chunk. Default: as many as fit in 64 MiB of orders and
        per-update losses (the whole run for the tutorial's sizes), or about a tenth of the
        run when the progress bar is on. The result does not depend on it: each chunk starts
        from the full state (parameters and optimizer state) the previous one ended in.
      progress: show a tqdm progress bar. Default: only for big sweeps (>= 2e9 sample-gradients).
      unroll: as for ``train``; a speed knob only.
      mesh: optional ``jax.sharding.Mesh``: the runs are spread over all its devices by seed.
        The seed axis of every program is sharded across the devices (X, y and the learning
        rates replicated on each) and XLA partitions the programs (GSPMD); runs never
        communicate, so each device trains its own seeds. When the number of seeds is not a
        multiple of the device count, the last seed is repeated to fill the devices and the
        repeats are dropped from the result.
      validation: optional held-out ``(X_val, y_val)``, as for ``train``: every run's held-out
        loss at the start and after every epoch (``SweepResult.val_loss``, like ``epoch_loss``).
      record_every: optional positive int R, as for ``train``: every run's full-data loss (and
        held-out loss) every R samples processed, on one grid shared by every batch size
        (``SweepResult.trace_samples``, ``trace_updates``, ``trace_loss``, ``trace_val_loss``)
        and the parameters there (``trace_w``, ``trace_b``).
        Chunks then hold a whole number of grid steps (a multiple of R / gcd(n, R) epochs, or
        the whole run), so the grid runs on across chunk boundaries; each chunk keeps its
        runs' per-update parameters (memory O(runs * updates * d)): meant for small data.
      fast_compile: compile for a sweep that runs once (on CPU; elsewhere ignored). XLA:CPU's
        loop emitters instead of its default fusion emitters compile the programs in about 40%
        of the CPU time, and they run about 10% slower (``benchmarks/compile_emitters.py``);
        worth it where compiling outweighs running, as in a command's sweeps. Results are the default's bit for bit with plain
        SGD; with optimizers that divide by a running average (RMSprop, NAdam, ...) they may
        differ in float32's last bit, as the two emitters round some operations differently.

    Returns:
      A ``SweepResult``.

    Raises:
      ValueError: for malformed data or arguments (empty lists, lr <= 0, batch size outside
        [1, n], duplicates, ...).
    """
    a = _checked(X, y, batch_sizes, lrs, seeds, epochs, optimizer, schedule, step_loss, divergence_factor,
                 chunk_epochs, unroll, mesh, validation, record_every)
    if not isinstance(fast_compile, (bool, np.bool_)):
        raise InputError(f"fast_compile must be True or False, got {fast_compile!r}")
    L, S, B = len(a.lrs), len(a.seeds), len(a.batch_sizes)
    # With a mesh, the programs run S_run >= S seed lanes: S padded to a multiple of the
    # devices by repeating the last seed (dropped from the results).
    S_run = S if a.mesh is None else -(-S // a.mesh.size) * a.mesh.size
    sh = _shardings(a.mesh) if a.mesh is not None else {}
    put = (lambda x, kind: x) if a.mesh is None else (lambda x, kind: jax.device_put(x, sh[kind]))
    if progress is None:
        progress = L * S * a.epochs * a.n * B >= _AUTO_PROGRESS_WORK

    dtype = a.dtype
    X_dev, y_dev = put(_host_array(a.X, dtype), "rep"), put(_host_array(a.y, dtype), "rep")
    val_dev = None if a.validation is None else tuple(put(_host_array(v, dtype), "rep") for v in a.validation)
    length, num_chunks = _chunk_length(a, S_run, progress and chunk_epochs is None)

    specs = optim.cast((a.optimizer, a.schedule), dtype)  # the values every run shares, as the state holds them
    leaves, treedef = jax.tree.flatten(specs)
    shape = SweepShape(
        n=a.n, d=a.d, dtype=str(dtype), num_lrs=L, num_seeds=S_run, chunk_epochs=length, record=a.step_loss,
        x_shape=tuple(X_dev.shape), y_shape=tuple(y_dev.shape), x_dtype=str(X_dev.dtype),
        specs=treedef, spec_leaves=tuple((leaf.shape, str(leaf.dtype)) for leaf in leaves),
        plans=tuple(core.Plan(a.n, bs, length, str(dtype), a.unroll, 0, a.record_every) for bs in a.batch_sizes),
        mesh=a.mesh, val_shapes=None if val_dev is None else tuple(tuple(v.shape) for v in val_dev),
        fast_compile=bool(fast_compile),
    )
    t0 = time.perf_counter()
    (initial_states, epoch_orders), chunks = programs(shape)
    compile_s = time.perf_counter() - t0

    seeds_arr = put(np.asarray(a.seeds + a.seeds[-1:] * (S_run - S), np.int32), "seeds")
    lrs_arr = put(np.asarray(a.lrs, dtype), "rep")
    specs = jax.tree.map(lambda v: put(v, "rep"), specs)
    out = _Outputs(a, L, S)
    chunk_grid = core.trace_grid(shape.plans[0])[0] if a.record_every else None  # same for every batch size
    states = [None] * B
    draw_s, run_s = 0.0, np.zeros(B)
    bar = _progress(a.epochs, progress, f"sweep {B}x{L}x{S} runs")
    for c in range(num_chunks):
        e0 = c * length
        valid = min(length, a.epochs - e0)
        t0 = time.perf_counter()
        if c == 0:  # every lr of a seed starts from the seed's draw, as train(seed=...) does
            states = [jax.block_until_ready(initial_states(seeds_arr, lrs_arr, specs))] * B
        orders = None
        if epoch_orders is not None:  # the chunk's epochs [e0, e0 + length), one (S, n) array each
            # Not waited for: the device draws while Python dispatches the next epochs' draws
            # (draw_seconds is then the dispatch; the chunks' run_seconds hold the rest).
            orders = tuple(epoch_orders(seeds_arr, put(np.int32(e), "rep")) for e in range(e0, e0 + length))
        draw_s += time.perf_counter() - t0
        trace_at = _trace_points(chunk_grid, c, valid * a.n, c == num_chunks - 1) if a.record_every else None
        for i, bs in enumerate(a.batch_sizes):
            t0 = time.perf_counter()
            states[i], chunk_out = chunks[i](X_dev, y_dev, states[i], None if bs == a.n else orders,
                                             put(np.int32(valid), "rep"), val_dev)
            # One host transfer per chunk and batch size; the padding seeds' lanes dropped.
            # The states stay on the device for the next chunk.
            chunk_out = jax.tree.map(lambda v: to_host(v)[:, :S], chunk_out)
            run_s[i] += time.perf_counter() - t0
            out.add(i, c, e0, valid, chunk_out, trace_at)
        if bar is not None:
            hit = analysis.divergence(out.epoch_loss[..., : e0 + valid + 1], a.divergence_factor)[0]
            bar.set_postfix_str(f"{int(hit.sum())}/{hit.size} diverged", refresh=False)
            bar.update(valid)
    if bar is not None:
        bar.close()

    if not np.isfinite(out.epoch_loss[..., 0]).all():
        _validate.explain_nonfinite_loss(a.X, a.y, None)
    if out.val_loss is not None and not np.isfinite(out.val_loss[..., 0]).all():
        _validate.explain_nonfinite_val_loss(a.validation)
    diverged, diverged_epoch = analysis.divergence(out.epoch_loss, a.divergence_factor)
    return SweepResult(
        batch_sizes=np.asarray(a.batch_sizes),
        lrs=np.asarray(a.lrs, np.float64),
        seeds=np.asarray(a.seeds),
        epochs=a.epochs,
        n=a.n,
        epoch_loss=out.epoch_loss,
        w=np.stack([to_host(s.params.w)[:, :S, :, 0] for s in states]),
        b=np.stack([to_host(s.params.b)[:, :S, 0] for s in states]),
        diverged=diverged,
        diverged_epoch=diverged_epoch,
        optimum_loss=analysis.optimum(a.X, a.y).loss,
        divergence_factor=float(a.divergence_factor),
        step_loss_mode=a.step_loss,
        **out.step_losses(),
        compile_seconds=compile_s,
        draw_seconds=draw_s,
        run_seconds=run_s,
        chunk_epochs=length,
        optimizer=a.optimizer,
        val_loss=out.val_loss,
        **out.trace(),
    )


class _Arguments(NamedTuple):
    X: Any
    y: Any
    dtype: np.dtype
    n: int
    d: int
    batch_sizes: list
    lrs: list
    seeds: list
    epochs: int
    optimizer: Any
    schedule: Any
    step_loss: str
    divergence_factor: float
    chunk_epochs: Optional[int]
    unroll: int
    mesh: Any
    validation: Any
    record_every: int


def _checked(X, y, batch_sizes, lrs, seeds, epochs, optimizer, schedule, step_loss, divergence_factor,
             chunk_epochs, unroll, mesh, validation, record_every) -> _Arguments:
    """Every argument of ``sweep`` validated (``InputError`` naming the problem)."""
    X, y, dtype = _validate.data(X, y)
    for name, arr in (("X", X), ("y", y)):
        if isinstance(arr, jax.Array) and not arr.is_fully_addressable:
            raise InputError(f"{name} is a global array this process holds only in part: sweep spreads runs, not "
                             "rows, over the processes and needs the whole data set on every process (pass "
                             "it as a numpy array)")
    n, d = X.shape
    batch_sizes = [_validate.batch_size(b, n, "batch_sizes") for b in _validate.nonempty(batch_sizes, "batch_sizes")]
    _validate.unique(batch_sizes, "batch_sizes (None means n)")
    lrs = [_validate.lr(lr.item() if isinstance(lr, np.generic) else lr) for lr in _validate.nonempty(lrs, "lrs")]
    _validate.unique(lrs, "lrs")
    if step_loss not in STEP_LOSS_MODES:
        raise InputError(f"step_loss must be one of {STEP_LOSS_MODES}, got {step_loss!r}")
    if isinstance(divergence_factor, bool) or not isinstance(divergence_factor, numbers.Real) or not (
        np.isfinite(divergence_factor) and divergence_factor > 1
    ):
        raise InputError(f"divergence_factor must be a finite number > 1, got {divergence_factor!r}")
    return _Arguments(
        X, y, np.dtype(dtype), n, d, batch_sizes, lrs, _validate.seeds(seeds),
        _validate.epochs(epochs.item() if isinstance(epochs, np.generic) else epochs),
        _validate.optimizer(optimizer), _validate.schedule(schedule), step_loss, divergence_factor,
        None if chunk_epochs is None else _validate.positive_int(chunk_epochs, "chunk_epochs"),
        _validate.unroll(unroll) or 0, None if mesh is None else auto_mesh(mesh),
        None if validation is None else _validate.validation(validation, d),
        _validate.record_every(record_every) or 0)


def _chunk_length(a: _Arguments, S_run, progress_chunks):
    """``(epochs per chunk, chunks)``: one length for the whole sweep (a chunk's orders are shared
    by every batch size), as many epochs as fit in ``_CHUNK_BYTES`` of orders and per-update
    outputs, about a tenth of the run with a progress bar, a whole number of trace grid steps."""
    nbs = [math.ceil(a.n / bs) for bs in a.batch_sizes]
    with_orders = any(bs != a.n for bs in a.batch_sizes)
    per_epoch_bytes = (_ORDER_ITEMSIZE * S_run * a.n * with_orders
                       + a.dtype.itemsize * len(a.lrs) * S_run * max(nbs)
                       * ((a.step_loss != "none") + (a.d + 1) * bool(a.record_every)))
    max_chunk = a.chunk_epochs or max(1, _CHUNK_BYTES // max(per_epoch_bytes, 1))
    length, num_chunks = _chunking(a.epochs, 10 if progress_chunks else 1, max_chunk)
    if a.record_every:  # chunks start on the trace grid: a whole number of grid steps each
        step = a.record_every // math.gcd(a.n, a.record_every)
        length = min(a.epochs, -(-length // step) * step)
        num_chunks = math.ceil(a.epochs / length)
    return length, num_chunks


class _Outputs:
    """The host arrays a sweep fills chunk by chunk, (batch sizes, lrs, seeds, ...) each."""

    def __init__(self, a: _Arguments, L, S):
        B, dtype = len(a.batch_sizes), a.dtype
        self.a = a
        self.nbs = [math.ceil(a.n / bs) for bs in a.batch_sizes]
        self.epoch_loss = np.empty((B, L, S, a.epochs + 1), dtype)
        self.val_loss = np.empty((B, L, S, a.epochs + 1), dtype) if a.validation is not None else None
        summary = a.step_loss != "none"
        self.step_mean = np.empty((B, L, S, a.epochs), dtype) if summary else None
        self.step_std = np.empty((B, L, S, a.epochs), dtype) if summary else None
        self.full_parts = [[] for _ in range(B)]
        self.trace_parts = {k: [[] for _ in range(B)] for k in ("trace_loss", "trace_val_loss", "trace_w", "trace_b")}
        self.L, self.S = L, S

    def add(self, i, c, e0, valid, out, trace_at):
        """Chunk ``c`` (epochs ``e0 .. e0 + valid``) of batch size ``i``."""
        for key, dest in (("epoch_loss", self.epoch_loss), ("val_loss", self.val_loss)):
            if dest is None:
                continue
            if c == 0:
                dest[i, ..., : valid + 1] = out[key][..., : valid + 1]
            else:
                dest[i, ..., e0 + 1 : e0 + valid + 1] = out[key][..., 1 : valid + 1]
        if trace_at is not None:
            for key, parts in self.trace_parts.items():
                if key in out:
                    parts[i].append(out[key][..., trace_at])
        if self.a.step_loss == "summary":
            self.step_mean[i, ..., e0 : e0 + valid] = out["step_mean"][..., :valid]
            self.step_std[i, ..., e0 : e0 + valid] = out["step_std"][..., :valid]
        elif self.a.step_loss == "full":
            self.full_parts[i].append(out["step_loss"][..., : valid * self.nbs[i]])

    def step_losses(self):
        """``step_loss_mean``, ``step_loss_std`` and (``"full"``) ``step_loss`` for the result."""
        step_full = None
        if self.a.step_loss == "full":
            step_full = tuple(np.concatenate(parts, axis=-1) for parts in self.full_parts)
            for i, full in enumerate(step_full):
                per_epoch = full.reshape(self.L, self.S, self.a.epochs, self.nbs[i])
                with np.errstate(invalid="ignore", over="ignore"):  # diverged runs: inf - inf
                    self.step_mean[i], self.step_std[i] = per_epoch.mean(axis=-1), per_epoch.std(axis=-1)
        return dict(step_loss_mean=self.step_mean, step_loss_std=self.step_std, step_loss=step_full)

    def trace(self):
        """The trace fields of the result (empty without ``record_every``)."""
        a = self.a
        if not a.record_every:
            return {}
        grids = [core.trace_grid(core.Plan(a.n, bs, a.epochs, str(a.dtype), 1, 0, a.record_every))
                 for bs in a.batch_sizes]
        trace = {"trace_samples": grids[0][0], "trace_updates": np.stack([g[1] for g in grids])}
        for key, parts in self.trace_parts.items():
            if parts[0]:
                trace[key] = np.stack([np.concatenate(p, axis=-1) for p in parts])
                assert trace[key].shape[-1] == len(grids[0][0]), "trace chunks must tile the run's grid"
        return trace


def _trace_points(grid, chunk, valid_samples, last):
    """Indices into one chunk's trace grid (samples from the chunk's start) of the run's own
    grid points: those in (0, valid_samples] ([0, ..] for the first chunk). Chunks start on the
    run's grid, so they are the run's points; in a last chunk cut short, a run-end off the
    grid is the chunk's next point (the masked epochs left the state as it was at the end)."""
    keep = grid <= valid_samples
    if chunk:
        keep &= grid > 0
    at = np.flatnonzero(keep)
    if last and grid[at[-1]] != valid_samples:
        at = np.append(at, at[-1] + 1)
    return at
