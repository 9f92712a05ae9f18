"""``SweepResult``: every run of a sweep as numpy arrays, its metrics and its CSV."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any, Iterator, Optional

import numpy as np

from jaxgd import analysis
from jaxgd.core._plan import variant_name


@dataclasses.dataclass(frozen=True, eq=False)
class SweepResult:
    """Every run of a sweep, as numpy arrays indexed (batch size, lr, seed, ...).

    ``epoch_loss[i, j, k, e]`` is the full-data loss 1/(2n) sum (y_hat - y)^2 of the run with
    ``batch_sizes[i]``, ``lrs[j]``, ``seeds[k]`` after ``e`` epochs (``e = 0``: at the initial
    parameters). A run is *diverged* (``analysis.divergence``) from the first epoch whose loss
    is non-finite or above ``divergence_factor`` times its initial loss; ``diverged_epoch`` is
    that epoch, -1 for runs that never diverged. Diverged runs keep whatever their arrays hold.
    With ``validation=``, ``val_loss`` is the held-out loss shaped like ``epoch_loss``; with
    ``record_every=``, ``trace_loss`` (and ``trace_val_loss``) are the losses on one grid of
    ``trace_samples`` shared by every batch size, ``trace_updates[i]`` the updates batch size
    ``i`` has done by each point and ``trace_w``, ``trace_b`` the parameters in force there
    (``jaxgd.Trace`` has the meaning of each point).
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
    optimum_loss: float  # least-squares optimum of the loss on the sweep's data
    divergence_factor: float
    step_loss_mode: str
    # step_loss="summary" (or "full"): mean and std of the update losses within each epoch.
    step_loss_mean: Optional[np.ndarray]  # (B, L, S, epochs)
    step_loss_std: Optional[np.ndarray]  # (B, L, S, epochs)
    # step_loss="full": per batch size, (L, S, updates) with updates = epochs * ceil(n / b).
    step_loss: Optional[tuple]
    compile_seconds: float  # compiling every program of the sweep (concurrently)
    draw_seconds: float  # drawing initial states and dispatching the epoch orders (their compute runs on into run_seconds)
    run_seconds: np.ndarray  # (B,) running each batch size's program, all chunks, host copies
    chunk_epochs: int  # epochs per compiled chunk
    optimizer: Any = None  # the jaxgd.optim spec every run used
    # validation=: the held-out loss at the start and after each epoch.
    val_loss: Optional[np.ndarray] = None  # (B, L, S, epochs + 1)
    # record_every=R: the trace, one grid of K points (samples processed) for every batch size.
    trace_samples: Optional[np.ndarray] = None  # (K,) int64: 0, R, 2R, .. (and epochs * n)
    trace_updates: Optional[np.ndarray] = None  # (B, K) int64: updates done by each point
    trace_loss: Optional[np.ndarray] = None  # (B, L, S, K) full-data loss there
    trace_val_loss: Optional[np.ndarray] = None  # (B, L, S, K) held-out loss there (validation=)
    trace_w: Optional[np.ndarray] = None  # (B, L, S, d, K) the weights in force there
    trace_b: Optional[np.ndarray] = None  # (B, L, S, K) the bias in force there

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
                        **({} if self.val_loss is None else {"final_val_loss": float(self.val_loss[i, j, k, -1])}),
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

    def to_csv(self, path=None, rel: float = analysis.DEFAULT_REL_TARGET):
        """``rows()`` as CSV, empty cells for "not reached" / "not diverged".

        With a ``path``, writes the file and returns the path; without, returns the CSV text.
        """
        rows = list(self.rows(rel))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        if path is None:
            return text.getvalue()
        with open(path, "w", newline="") as f:
            f.write(text.getvalue())
        return path
