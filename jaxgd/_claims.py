"""``jaxgd claims``: the tutorial's conclusions about GD, SGD and mini-batch SGD, checked over seeds.

The tutorial trains each variant once and concludes: (1) GD converges slowly, (2) SGD's loss
fluctuates, (3) mini-batch is fast and stable. Here each variant runs over S seeds (one sweep:
one program per variant) and each claim is printed with the figures behind it (median and 90%
interval across seeds) and a verdict computed from them.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import jax
import numpy as np

from . import analysis
from ._data import synthetic_data
from ._sweep import SweepResult, sweep
from ._train import train

COLORS = {"GD": "tab:blue", "mini-batch": "tab:green", "SGD": "tab:red"}
QS = (0.05, 0.5, 0.95)  # 90% interval and median across seeds
MUCH_MORE = 5.0  # "fluctuates much more": at least this ratio of medians


@dataclasses.dataclass(frozen=True)
class Claim:
    number: int
    text: str
    evidence: list[str]
    verdict: str  # "SUPPORTED", "WEAKLY SUPPORTED" or "NOT SUPPORTED"
    reason: str

    @property
    def supported(self) -> bool:
        return self.verdict == "SUPPORTED"


@dataclasses.dataclass(frozen=True, eq=False)
class ClaimsReport:
    result: SweepResult
    seconds_per_epoch: np.ndarray  # (3,) one training run of each variant, measured
    metrics: dict  # name -> (3, S) per variant and seed
    claims: list[Claim]
    text: str
    figure: Optional[str]
    seconds: float  # the whole check, compilation included


# --- formatting ---------------------------------------------------------------------------


def _fmt(x, unit="", digits=3):
    if not np.isfinite(x):
        return "never" if x > 0 else "nan"
    if unit == "s":
        return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:.{digits}g}"


def _describe(values, unit="", not_reached=None):
    lo, mid, hi = analysis.describe(values, QS)
    fmt = lambda v: (not_reached if not_reached and not np.isfinite(v) else _fmt(v, unit))
    return f"{fmt(mid)} [{fmt(lo)}, {fmt(hi)}]"


def _table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(f"{str(c):<{w}}" if i == 0 else f"{str(c):>{w}}" for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), "-" * len(line(header)), *map(line, rows)])


# --- the check ----------------------------------------------------------------------------


def seconds_per_epoch(X, y, batch_size, lr, epochs, repeats=5):
    """Seconds per epoch of one training run (``jaxgd.train``): median of ``repeats`` warm runs.

    A sweep's vmapped time per run is not what one training run costs, and one run is what
    the tutorial's wall-time reasoning is about.
    """
    jax.block_until_ready(train(X, y, batch_size=batch_size, lr=lr, epochs=epochs))  # compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(train(X, y, batch_size=batch_size, lr=lr, epochs=epochs))
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) / epochs


def _interval(values):
    lo, mid, hi = analysis.describe(values, QS)
    return lo, mid, hi


def _above(a, b):
    """a > b: "SUPPORTED" when a's 90% interval lies wholly above b's, "WEAKLY SUPPORTED" when
    only the medians are ordered, else "NOT SUPPORTED"."""
    a_lo, a_mid, _ = _interval(a)
    _, b_mid, b_hi = _interval(b)
    if a_lo > b_hi:
        return "SUPPORTED"
    if a_mid > b_mid:
        return "WEAKLY SUPPORTED"
    return "NOT SUPPORTED"


def _combine(*verdicts):
    order = ["NOT SUPPORTED", "WEAKLY SUPPORTED", "SUPPORTED"]
    return min(verdicts, key=order.index)


def check_claims(
    *,
    seeds: int = 20,
    epochs: int = 50,
    lr: float = 0.02,
    n: int = 1000,
    batch_size: int = 50,
    out: Optional[str] = "jaxgd_claims.png",
    rel: float = analysis.DEFAULT_REL_TARGET,
    tail: int = 10,
    data_seed: int = 0,
) -> ClaimsReport:
    """Runs GD (batch n), mini-batch (``batch_size``) and SGD (batch 1) at the tutorial's settings
    over ``seeds`` seeds and checks the tutorial's three claims. Writes the 2x2 figure to ``out``
    (None: no figure). Raises ValueError for bad arguments."""
    start = time.perf_counter()
    for name, v in (("seeds", seeds), ("epochs", epochs), ("n", n), ("batch_size", batch_size)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not 1 < batch_size < n:
        raise ValueError(f"batch_size must be between 2 and n - 1 = {n - 1} for a mini-batch variant, got {batch_size}")
    if n < 2:
        raise ValueError(f"n must be >= 3, got {n}")
    if not 1 <= tail <= epochs:
        raise ValueError(f"tail must be between 1 and epochs={epochs}, got {tail}")
    if seeds < 2:
        raise ValueError(f"seeds must be >= 2 to give an interval across seeds, got {seeds}")
    data = synthetic_data(num_examples=n, seed=data_seed)
    X, y = np.asarray(data.X), np.asarray(data.y)
    batch_sizes = [n, batch_size, 1]
    names = ["GD", "mini-batch", "SGD"]

    # Time single runs in a worker thread while the sweep compiles and runs (2 cores).
    with ThreadPoolExecutor(max_workers=1) as pool:
        timing = pool.submit(lambda: [seconds_per_epoch(X, y, bs, lr, epochs) for bs in batch_sizes])
        result = sweep(X, y, batch_sizes=batch_sizes, lrs=[lr], seeds=seeds, epochs=epochs, step_loss="summary")
        sec_per_epoch = np.asarray(timing.result())

    loss = result.epoch_loss[:, 0]  # (3, S, E + 1)
    opt = result.optimum_loss
    upe = result.updates_per_epoch
    e_to = analysis.epochs_to_target(loss, opt, rel=rel)  # (3, S)
    metrics = {
        "epochs": analysis.as_float_counts(e_to),
        "updates": analysis.as_float_counts(analysis.updates_to_target(e_to, upe[:, None])),
        "samples": analysis.as_float_counts(analysis.samples_to_target(e_to, n)),
        "seconds": np.where(analysis.reached(e_to), e_to * sec_per_epoch[:, None], np.inf),
        "final_excess": analysis.excess_loss(loss[..., -1], opt),
        "tail_spread": analysis.tail_spread(loss, tail),
        "tail_excess": analysis.tail_excess(loss, opt, tail),
        "step_spread": result.step_loss_std[:, 0, :, -tail:].mean(axis=-1),
        "initial_excess": analysis.excess_loss(loss[..., 0], opt),
    }
    diverged = result.diverged[:, 0]  # (3, S)
    G, M, S_ = 0, 1, 2

    # Claim 1: GD needs more epochs to the target than mini-batch and SGD.
    ep = metrics["epochs"]
    v1 = _combine(_above(ep[G], ep[M]), _above(ep[G], ep[S_]))
    not_reached = f">{epochs}"
    c1 = Claim(
        1,
        "GD converges slowly: more epochs to the target than mini-batch and SGD.",
        [f"epochs to target: " + ", ".join(f"{names[i]} {_describe(ep[i], not_reached=not_reached)}" for i in range(3))],
        v1,
        {
            "SUPPORTED": "GD's 90% interval lies above both others'.",
            "WEAKLY SUPPORTED": "GD's median is higher but the intervals overlap.",
            "NOT SUPPORTED": "GD does not need more epochs than both others.",
        }[v1]
        + (f" GD does not reach the target within {epochs} epochs in "
           f"{int(np.sum(~np.isfinite(ep[G])))} of {seeds} seeds." if np.any(~np.isfinite(ep[G])) else ""),
    )

    # Claim 2: SGD's loss fluctuates much more than mini-batch's, around the optimum.
    sp, tx = metrics["tail_spread"], metrics["tail_excess"]
    ratio = np.median(sp[S_]) / np.median(sp[M])
    much = _above(sp[S_], MUCH_MORE * sp[M])
    around = np.median(tx[S_]) <= rel * np.median(metrics["initial_excess"][S_])
    v2 = _combine(much, "SUPPORTED" if around else "NOT SUPPORTED")
    c2 = Claim(
        2,
        "At the same learning rate SGD's loss fluctuates much more than mini-batch's, around the optimum.",
        [
            f"spread (std) of the epoch loss over the last {tail} epochs: SGD {_describe(sp[S_])}, "
            f"mini-batch {_describe(sp[M])}; ratio of medians {ratio:.3g} (\"much more\": >= {MUCH_MORE:g}x)",
            f"mean excess loss over the last {tail} epochs: SGD {_describe(tx[S_])}, mini-batch {_describe(tx[M])} "
            f"(target {_fmt(rel * np.median(metrics['initial_excess'][S_]))})",
            f"std of the per-update batch loss within an epoch (last {tail} epochs): "
            f"SGD {_describe(metrics['step_spread'][S_])}, mini-batch {_describe(metrics['step_spread'][M])}",
        ],
        v2,
        (
            ("SGD's spread exceeds 5x mini-batch's in the 90% intervals" if much == "SUPPORTED" else
             "SGD's median spread exceeds 5x mini-batch's but the intervals overlap" if much == "WEAKLY SUPPORTED" else
             "SGD's spread is not 5x mini-batch's")
            + ("; SGD hovers within the target band above the optimum." if around else
               "; SGD does not settle near the optimum (mean tail excess above the target).")
        ),
    )

    # Claim 3: mini-batch needs fewer epochs than GD and fluctuates less than SGD.
    v3 = _combine(_above(ep[G], ep[M]), _above(sp[S_], sp[M]))
    c3 = Claim(
        3,
        "Mini-batch converges in fewer epochs than GD and fluctuates less than SGD.",
        [
            f"epochs to target: mini-batch {_describe(ep[M], not_reached=not_reached)}, GD {_describe(ep[G], not_reached=not_reached)}",
            f"epoch-loss spread over the last {tail} epochs: mini-batch {_describe(sp[M])}, SGD {_describe(sp[S_])}",
        ],
        v3,
        {
            "SUPPORTED": "both comparisons hold with non-overlapping 90% intervals.",
            "WEAKLY SUPPORTED": "both hold for the medians, but at least one pair of intervals overlaps.",
            "NOT SUPPORTED": "at least one of the two comparisons fails.",
        }[v3],
    )
    claims = [c1, c2, c3]

    figure = claims_figure(result, sec_per_epoch, rel, out) if out else None
    total = time.perf_counter() - start
    text = _report_text(result, names, sec_per_epoch, metrics, claims, diverged, rel, tail, lr, seeds,
                        epochs, n, figure, total)
    return ClaimsReport(result, sec_per_epoch, metrics, claims, text, figure, total)


def _first(values, names):
    med = np.median(values, axis=1)
    if not np.isfinite(med).any():
        return "none reaches it"
    best = np.flatnonzero(med == med.min())
    return " = ".join(names[i] for i in best)


def _report_text(result, names, sec_per_epoch, metrics, claims, diverged, rel, tail, lr, seeds, epochs,
                 n, figure, total):
    upe = result.updates_per_epoch
    never = f">{epochs}"
    lines = [
        f"jaxgd claims: the tutorial's conclusions checked over {seeds} seeds "
        f"(median [5%, 95%] across seeds)",
        f"data: n={n}, y = 3.5 x + 4 + N(0, 0.5^2); lr={lr:g}, {epochs} epochs; "
        f"least-squares optimum loss {result.optimum_loss:.5f}",
        f"target: excess loss over the optimum <= {rel:.0%} of the initial excess "
        f"(measured at epoch ends)",
        "",
        "The tutorial's reasoning: updates per epoch and the cost of reaching the target",
        _table(
            ["variant", "batch", "updates/epoch", f"updates in {epochs} ep.", "ms/epoch (1 run)",
             "epochs to target", "updates to target", "samples to target", "time to target"],
            [
                [names[i], int(result.batch_sizes[i]), _fmt(upe[i]), _fmt(upe[i] * epochs),
                 f"{sec_per_epoch[i] * 1e3:.3g}",
                 _describe(metrics["epochs"][i], not_reached=never),
                 _describe(metrics["updates"][i], not_reached="never"),
                 _describe(metrics["samples"][i], not_reached="never"),
                 _describe(metrics["seconds"][i], "s", not_reached="never")]
                for i in range(3)
            ],
        ),
        "first to the target (median): " + "; ".join(
            f"by {axis}: {_first(metrics[key], names)}"
            for axis, key in (("epochs", "epochs"), ("updates", "updates"), ("samples", "samples"),
                              ("wall time", "seconds"))
        ),
        "",
        f"Where the runs end up (fluctuation over the last {tail} epochs)",
        _table(
            ["variant", "final excess loss", "epoch-loss spread (std)", "mean excess", "per-update loss std",
             "diverged"],
            [
                [names[i], _describe(metrics["final_excess"][i]), _describe(metrics["tail_spread"][i]),
                 _describe(metrics["tail_excess"][i]), _describe(metrics["step_spread"][i]),
                 f"{int(diverged[i].sum())}/{seeds}"]
                for i in range(3)
            ],
        ),
        "",
    ]
    for c in claims:
        lines.append(f"Claim {c.number}: {c.text}")
        lines += [f"  {e}" for e in c.evidence]
        lines.append(f"  -> {c.verdict}: {c.reason}")
        lines.append("")
    lines.append(
        f"epoch-loss spread: std of the full-data loss over the last {tail} epochs; a run still "
        "descending there counts its trend as spread."
    )
    lines.append(
        "per-update loss std: the spread of the batch losses of one epoch's updates; for SGD it is "
        "mostly the spread of single-sample losses, not parameter movement."
    )
    lines.append(
        f"ms/epoch: one training run (jaxgd.train, compiled, median of 5) / {epochs} epochs; "
        "time to target = epochs to target x ms/epoch."
    )
    if figure:
        lines.append(f"figure: {figure}")
    lines.append(f"total time {total:.1f} s (compilation included)")
    return "\n".join(lines)


def claims_figure(result: SweepResult, sec_per_epoch, rel, path):
    """2x2: excess loss against epochs, parameter updates, samples processed and wall time;
    median line and interquartile band across seeds, per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    E = result.epochs
    e = np.arange(E + 1)
    excess = result.excess_loss[:, 0]  # (3, S, E + 1)
    target = rel * np.median(excess[..., 0])
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5), constrained_layout=True)
    panels = [
        ("epochs", "epochs", lambda i: e, "linear"),
        ("parameter updates", "parameter updates (log)", lambda i: e * result.updates_per_epoch[i], "log"),
        ("samples processed", "samples processed (gradients of one sample)", lambda i: e * result.n, "linear"),
        ("wall time", "wall time of one run, s (log)", lambda i: e * sec_per_epoch[i], "log"),
    ]
    floor = 1e-8  # excess losses are positive; clip float32 rounding below the optimum
    for ax, (title, xlabel, xs, xscale) in zip(axes.ravel(), panels):
        for i, variant in enumerate(result.variants):
            ok = ~result.diverged[i, 0]
            if not ok.any():
                continue
            curves = np.clip(excess[i, ok], floor, None)
            q25, med, q75 = np.percentile(curves, [25, 50, 75], axis=0)
            x = xs(i).astype(float)
            sl = slice(1, None) if xscale == "log" else slice(None)  # log x: from epoch 1
            label = f"{variant} (batch {int(result.batch_sizes[i])})"
            if (~ok).any():
                label += f", {int((~ok).sum())} diverged runs left out"
            # GD is dashed and drawn on top: per update it coincides with mini-batch.
            style = dict(ls="--", lw=2.5, zorder=3) if variant == "GD" else dict(ls="-", lw=2)
            ax.plot(x[sl], med[sl], color=COLORS[variant], label=label, **style)
            ax.fill_between(x[sl], q25[sl], q75[sl], color=COLORS[variant], alpha=0.25, lw=0)
        ax.axhline(target, color="k", ls=":", lw=1, label=f"target: {rel:.0%} of initial excess")
        ax.set(xscale=xscale, yscale="log", xlabel=xlabel, ylabel="excess loss over least-squares optimum",
               title=f"Excess loss against {title}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=9, title=f"median, IQR band over {excess.shape[1]} seeds", title_fontsize=9,
                      loc="center right")
    axes[0, 1].text(0.02, 0.04, "measured at epoch ends;\nper update, GD and mini-batch coincide",
                    transform=axes[0, 1].transAxes, fontsize=9, color="0.3")
    fig.suptitle(
        f"GD vs mini-batch vs SGD, lr={float(result.lrs[0]):g}, n={result.n}: excess loss 1/(2n)Σ(ŷ−y)² − optimum",
        fontsize=12,
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)

