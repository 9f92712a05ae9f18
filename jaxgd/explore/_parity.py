"""What the page says was verified: a sample of its grid's runs replayed in PyTorch (``jaxgd.parity``)."""

from __future__ import annotations

import dataclasses
import importlib.util
import time

import numpy as np

from jaxgd.explore._grid import Runs

DEFAULT_POINTS = 12
MAX_UPDATES = 5000  # a sampled run has at most this many updates: torch's eager loop runs ~0.2-1 ms an update
CHECK_COMMAND = "pip install 'jaxgd[torch]' && jaxgd explore"


@dataclasses.dataclass(frozen=True)
class Point:
    """One sampled run, compared with its PyTorch replay over the epochs before either diverged."""

    optimizer: str
    batch_size: int
    lr: float
    seed: int
    index: tuple  # (o, b, l, s) into the Runs arrays
    max_diff: float  # max |page - torch| over the compared epoch losses and the w, b at epoch ends
    ratio: float  # max |page - torch| / tolerance (jaxgd.parity's); <= 1 passes
    diverged_at: object  # the page's run's first diverged epoch, or None
    torch_diverged_at: object
    ok: bool


@dataclasses.dataclass(frozen=True)
class Parity:
    """The parity check of a page: ``checked`` False with ``reason`` when it was not made."""

    checked: bool
    reason: str = ""
    points: tuple = ()
    tolerance: str = ""
    seconds: float = 0.0
    pool: int = 0  # the eligible runs the sample was drawn from

    @property
    def ok(self) -> bool:
        return self.checked and all(p.ok for p in self.points)

    @property
    def worst_diff(self) -> float:
        return max((p.max_diff for p in self.points), default=0.0)

    @property
    def worst_ratio(self) -> float:
        return max((p.ratio for p in self.points), default=0.0)


SETTLED = 1.5  # a run settles when its final epoch loss is at most this multiple of its lowest


def eligible(runs: Runs) -> np.ndarray:
    """(O, B, L, S) bool: the runs the parity sample is drawn from. Those of at most
    ``MAX_UPDATES`` updates whose loss settles (the final epoch's at most ``SETTLED`` x the run's
    lowest, and no divergence): ``jaxgd.parity``'s tolerances rest on runs that contract. A run
    that keeps bouncing (NAdam at lr 5, say) or grows toward divergence amplifies float32
    rounding: measured, jaxgd.train differs from torch by up to 7x the tolerance there, and the
    sweep from train by a similar amount (another summation order)."""
    nb = -(-runs.n // runs.batch_sizes)
    affordable = (runs.epochs * nb <= MAX_UPDATES)[None, :, None, None]
    with np.errstate(invalid="ignore"):
        settled = runs.epoch_loss[..., -1] <= SETTLED * np.nanmin(runs.epoch_loss, axis=-1)
    return affordable & settled & (runs.diverged_epoch < 0)


def sample(runs: Runs, count: int, seed: int = 0) -> list[tuple]:
    """``count`` distinct grid points ``(o, b, l, s)`` drawn by ``seed`` among the ``eligible``
    runs: the optimizers in turn (one with no eligible run is passed over)."""
    rng = np.random.default_rng(seed)
    pools = [list(map(tuple, np.argwhere(e))) for e in eligible(runs)]
    points = []
    while len(points) < count and any(pools):
        for o, pool in enumerate(pools):
            if pool and len(points) < count:
                b, l, s = pool.pop(int(rng.integers(len(pool))))
                points.append((o, int(b), int(l), int(s)))
    return points


def check(X, y, runs: Runs, count: int = DEFAULT_POINTS, seed: int = 0) -> Parity:
    """Replay ``count`` sampled runs of ``runs`` in PyTorch and compare what the page holds: every
    epoch's loss and the trace's w, b at each epoch end, under ``jaxgd.parity``'s tolerance.
    Without torch, a ``Parity`` that says so (``checked`` False)."""
    if count == 0:
        return Parity(False, "no points were asked for (--parity-points 0)")
    if importlib.util.find_spec("torch") is None:  # only jaxgd.parity imports torch
        return Parity(False, "torch is not installed")
    from jaxgd import core, parity
    from jaxgd.data._orders import epoch_orders

    t0 = time.perf_counter()
    X, y = np.asarray(X), np.asarray(y).reshape(-1, 1)
    dtype = str(X.dtype)
    n, epochs = runs.n, runs.epochs
    ends = np.flatnonzero(runs.samples % n == 0)  # trace points at epoch ends
    ends_epoch = runs.samples[ends] // n
    points, plain_any, other_any = [], False, False
    for o, b, l, s in sample(runs, count, seed):
        name, bs, lr, sd = runs.optimizers[o], int(runs.batch_sizes[b]), float(runs.lrs[l]), int(runs.seeds[s])
        init = core.initial_params(sd, 1, dtype)
        ref = parity.reference(X, y, batch_size=bs, lr=lr, epochs=epochs, init=(np.asarray(init.w), np.asarray(init.b)),
                               order=np.asarray(epoch_orders(sd, n, epochs)), dtype=dtype, optimizer=name)
        mine = int(runs.diverged_epoch[o, b, l, s])
        mine = None if mine < 0 else mine
        theirs = parity.diverged_at(ref["epoch_loss"])
        k = min([epochs + 1] + [e for e in (mine, theirs) if e is not None])  # epochs 0 .. k-1 compared
        at = ends[ends_epoch < k]
        plain = parity.is_plain_sgd(name)
        plain_any |= plain
        other_any |= not plain
        epoch = runs.samples[at] // n
        fields = [(runs.epoch_loss[o, b, l, s, :k], ref["epoch_loss"][:k]),
                  (runs.w[o, b, l, s, at], ref["w_history"][epoch, 0, 0]),
                  (runs.b[o, b, l, s, at], ref["b_history"][epoch, 0])]
        ratios, diffs = zip(*(parity.violation(a, r, dtype, plain) for a, r in fields))
        finite = all(np.isfinite(a).all() for a, _ in fields)
        ratio = max(ratios)
        points.append(Point(name, bs, lr, sd, (o, b, l, s), max(diffs), ratio, mine, theirs,
                            bool(ratio <= 1.0 and finite and mine == theirs)))
    words = [parity.tolerance_text(dtype, True) + " for plain SGD"] if plain_any else []
    words += [parity.tolerance_text(dtype, False) + " for the other optimizers"] if other_any else []
    return Parity(True, "", tuple(points), "; ".join(words), time.perf_counter() - t0, int(eligible(runs).sum()))
