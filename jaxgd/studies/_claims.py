"""``jaxgd claims``: the tutorial's conclusions about GD, SGD and mini-batch SGD, checked over seeds.

The tutorial trains each variant once and concludes: (1) GD converges slowly, (2) SGD's loss
fluctuates, (3) mini-batch is fast and stable. Here each variant runs over S random seeds
(one sweep: one program per variant) and each claim is printed with the figures behind it
(median and 90% interval across seeds) and a verdict computed from them.

Three layers: ``evaluate`` turns a sweep into metrics and verdicts (data, no text);
``format_report`` writes them as text; ``plots.claims_figure`` draws them. ``check_claims``
runs the training and ties the three together.

A run that diverges (loss non-finite or above 1000x its initial loss, ``SweepResult.diverged``)
is a result: it is counted and reported as diverged, and left out of the medians and intervals.
A claim about a variant whose every run diverged cannot be judged.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Optional

import numpy as np

from jaxgd import analysis
from jaxgd._errors import InputError
from jaxgd.analysis import QS
from jaxgd.data._synthetic import synthetic_data
from jaxgd.drivers._runs import timed_train
from jaxgd.drivers._sweep import SweepResult, sweep
from jaxgd.studies._table import table

MUCH_MORE = 5.0  # "fluctuates much more": at least this ratio of medians
NAMES = ("GD", "mini-batch", "SGD")
G, M, S_ = 0, 1, 2  # row of each variant in the (3, seeds) metrics
SUPPORTED, WEAKLY, NOT_SUPPORTED, CANNOT_JUDGE = "SUPPORTED", "WEAKLY SUPPORTED", "NOT SUPPORTED", "CANNOT JUDGE"


@dataclasses.dataclass(frozen=True)
class Claim:
    number: int
    text: str
    verdict: str  # SUPPORTED, WEAKLY SUPPORTED, NOT SUPPORTED or CANNOT JUDGE
    reason: str

    @property
    def supported(self) -> bool:
        return self.verdict == SUPPORTED


@dataclasses.dataclass(frozen=True, eq=False)
class Evaluation:
    """The metrics and verdicts of one claims check, as data.

    ``metrics`` maps a name to a (3, seeds) array (rows GD, mini-batch, SGD), NaN for diverged
    runs; counts "not reached" are +inf.
    """

    lr: float
    n: int
    epochs: int
    seeds: int
    rel: float
    tail: int
    batch_sizes: np.ndarray  # (3,)
    updates_per_epoch: np.ndarray  # (3,)
    seconds_per_epoch: np.ndarray  # (3,) one training run of each variant, measured
    optimum_loss: float
    metrics: dict
    diverged: np.ndarray  # (3, seeds) bool
    diverged_epoch: np.ndarray  # (3, seeds) int, -1 where not diverged
    claims: list[Claim]

    def all_diverged(self, i) -> bool:
        return bool(self.diverged[i].all())


@dataclasses.dataclass(frozen=True, eq=False)
class ClaimsReport:
    result: SweepResult
    evaluation: Evaluation
    text: str
    figure: Optional[str]
    seconds: float  # the whole check, compilation included

    @property
    def claims(self) -> list[Claim]:
        return self.evaluation.claims

    @property
    def metrics(self) -> dict:
        return self.evaluation.metrics

    @property
    def seconds_per_epoch(self) -> np.ndarray:
        return self.evaluation.seconds_per_epoch


# --- training -----------------------------------------------------------------------------


def seconds_per_epoch(X, y, batch_size, lr, epochs, repeats=5):
    """Seconds per epoch of one training run (``train``): median of ``repeats`` warm runs.

    A sweep's vmapped time per run is not what one training run costs, and one run is what
    the tutorial's wall-time reasoning is about.
    """
    # A diverging run is timed all the same; the report says it diverged.
    return timed_train(X, y, repeats, batch_size=batch_size, lr=lr, epochs=epochs)[1] / epochs


# --- evaluation (data in, data out) ---------------------------------------------------------


def _above(a, b):
    """a > b: SUPPORTED when a's 90% interval lies wholly above b's, WEAKLY SUPPORTED when
    only the medians are ordered, else NOT SUPPORTED."""
    a_lo, a_mid, _ = analysis.describe(a, QS)
    _, b_mid, b_hi = analysis.describe(b, QS)
    if a_lo > b_hi:
        return SUPPORTED
    if a_mid > b_mid:
        return WEAKLY
    return NOT_SUPPORTED


def _combine(*verdicts):
    order = [NOT_SUPPORTED, WEAKLY, SUPPORTED]
    return min(verdicts, key=order.index)


def _cannot_judge(ev_diverged, lr, variants):
    """A CANNOT JUDGE claim's reason, or None when every variant has runs left to judge on."""
    gone = [NAMES[i] for i in variants if ev_diverged[i].all()]
    if not gone:
        return None
    who = gone[0] if len(gone) == 1 else ", ".join(gone[:-1]) + " and " + gone[-1]
    return f"every {who} run diverged at lr={lr:g}"


def _left_out(diverged, variants, seeds):
    parts = [f"{int(diverged[i].sum())} of {seeds} {NAMES[i]} runs" for i in variants if diverged[i].any()]
    return f" Diverged runs left out: {', '.join(parts)}." if parts else ""


def evaluate(result: SweepResult, sec_per_epoch, *, rel: float, tail: int) -> Evaluation:
    """Metrics and verdicts of the three claims from a sweep over (n, batch, 1) x [lr] x seeds."""
    loss = result.epoch_loss[:, 0]  # (3, S, E + 1)
    opt = result.optimum_loss
    upe = result.updates_per_epoch
    n, epochs = int(result.n), int(result.epochs)
    diverged, diverged_epoch = result.diverged[:, 0], result.diverged_epoch[:, 0]
    seeds = diverged.shape[1]
    lr = float(result.lrs[0])
    with np.errstate(invalid="ignore", over="ignore"):  # diverged runs: inf - inf; masked below
        e_to = analysis.epochs_to_target(loss, opt, rel=rel)
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
    metrics = {k: np.where(diverged, np.nan, v) for k, v in metrics.items()}
    ok = ~diverged

    def m(key, i):  # the runs of variant i that did not diverge
        return metrics[key][i][ok[i]]

    # Claim 1: GD needs more epochs to the target than mini-batch and SGD.
    text1 = "GD converges slowly: more epochs to the target than mini-batch and SGD."
    why = _cannot_judge(diverged, lr, (G, M, S_))
    if why:
        c1 = Claim(1, text1, CANNOT_JUDGE, why + ".")
    else:
        v1 = _combine(_above(m("epochs", G), m("epochs", M)), _above(m("epochs", G), m("epochs", S_)))
        gd_never = int(np.sum(~np.isfinite(m("epochs", G))))
        reason = {
            SUPPORTED: "GD's 90% interval lies above both others'.",
            WEAKLY: "GD's median is higher but the intervals overlap.",
            NOT_SUPPORTED: "GD does not need more epochs than both others.",
        }[v1]
        if gd_never:
            reason += f" GD does not reach the target within {epochs} epochs in {gd_never} of {int(ok[G].sum())} seeds."
        c1 = Claim(1, text1, v1, reason + _left_out(diverged, (G, M, S_), seeds))

    # Claim 2: SGD's loss fluctuates much more than mini-batch's, around the optimum.
    text2 = "At the same learning rate SGD's loss fluctuates much more than mini-batch's, around the optimum."
    why = _cannot_judge(diverged, lr, (M, S_))
    if why:
        c2 = Claim(2, text2, CANNOT_JUDGE, why + ".")
    else:
        much = _above(m("tail_spread", S_), MUCH_MORE * m("tail_spread", M))
        around = np.median(m("tail_excess", S_)) <= rel * np.median(m("initial_excess", S_))
        v2 = _combine(much, SUPPORTED if around else NOT_SUPPORTED)
        reason = (
            {SUPPORTED: f"SGD's spread exceeds {MUCH_MORE:g}x mini-batch's in the 90% intervals",
             WEAKLY: f"SGD's median spread exceeds {MUCH_MORE:g}x mini-batch's but the intervals overlap",
             NOT_SUPPORTED: f"SGD's spread is not {MUCH_MORE:g}x mini-batch's"}[much]
            + ("; SGD hovers within the target band above the optimum." if around else
               "; SGD does not settle near the optimum (mean tail excess above the target).")
        )
        c2 = Claim(2, text2, v2, reason + _left_out(diverged, (M, S_), seeds))

    # Claim 3: mini-batch needs fewer epochs than GD and fluctuates less than SGD.
    text3 = "Mini-batch converges in fewer epochs than GD and fluctuates less than SGD."
    why = _cannot_judge(diverged, lr, (G, M, S_))
    if why:
        c3 = Claim(3, text3, CANNOT_JUDGE, why + ".")
    else:
        v3 = _combine(_above(m("epochs", G), m("epochs", M)), _above(m("tail_spread", S_), m("tail_spread", M)))
        reason = {
            SUPPORTED: "both comparisons hold with non-overlapping 90% intervals.",
            WEAKLY: "both hold for the medians, but at least one pair of intervals overlaps.",
            NOT_SUPPORTED: "at least one of the two comparisons fails.",
        }[v3]
        c3 = Claim(3, text3, v3, reason + _left_out(diverged, (G, M, S_), seeds))

    return Evaluation(
        lr, n, epochs, seeds, rel, tail, np.asarray(result.batch_sizes), np.asarray(upe),
        np.asarray(sec_per_epoch, np.float64), float(opt), metrics, diverged, diverged_epoch, [c1, c2, c3],
    )


# --- text -----------------------------------------------------------------------------------


def _fmt(x, unit="", digits=3):
    if unit == "s":
        return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:.{digits}g}"


def _describe(values, diverged, unit="", not_reached="never"):
    """'median [5%, 95%]' over the runs that did not diverge, with how many diverged."""
    k, total = int(diverged.sum()), diverged.size
    if k == total:
        return f"diverged ({k}/{total})"
    lo, mid, hi = analysis.describe(values[~diverged], QS)
    fmt = lambda v: not_reached if np.isinf(v) and v > 0 else _fmt(v, unit)
    return f"{fmt(mid)} [{fmt(lo)}, {fmt(hi)}]" + (f" ({k}/{total} diverged)" if k else "")


def _first(ev, key):
    """The variant(s) with the smallest median among those that reach the target."""
    med = np.array([np.median(ev.metrics[key][i][~ev.diverged[i]]) if not ev.all_diverged(i) else np.inf
                    for i in range(3)])
    if not np.isfinite(med).any():
        return "none reaches it"
    best = np.flatnonzero(med == med.min())
    return " = ".join(NAMES[i] for i in best)


def _diverged_cell(ev, i):
    k = int(ev.diverged[i].sum())
    if not k:
        return f"0/{ev.seeds}"
    at = ev.diverged_epoch[i][ev.diverged[i]]
    lo, hi = int(at.min()), int(at.max())
    return f"{k}/{ev.seeds} at epoch {lo}" + (f"-{hi}" if hi > lo else "")


def format_report(ev: Evaluation, figure: Optional[str] = None, total: Optional[float] = None) -> str:
    """The report as text: settings, the tutorial's reasoning in numbers, each claim and its verdict."""
    never = f">{ev.epochs}"
    d = ev.diverged
    lines = [
        f"jaxgd claims: the tutorial's conclusions checked over {ev.seeds} random seeds "
        f"(median [5%, 95%] across seeds)",
        f"data: n={ev.n}, y = 3.5 x + 4 + N(0, 0.5^2); lr={ev.lr:g}, {ev.epochs} epochs; "
        f"least-squares optimum loss {ev.optimum_loss:.5f}",
        f"target: excess loss over the optimum <= {ev.rel:.0%} of the initial excess "
        f"(measured at epoch ends)",
    ]
    if d.any():
        lines.append(f"diverged: the loss is non-finite or above 1000x the initial loss; {int(d.sum())} of "
                     f"{d.size} runs diverged and are left out of the medians and intervals")
    lines += [
        "",
        "The tutorial's reasoning: updates per epoch and the cost of reaching the target",
        table(
            ["variant", "batch", "updates/epoch", f"updates in {ev.epochs} ep.", "ms/epoch (1 run)",
             "epochs to target", "updates to target", "samples to target", "time to target"],
            [
                [NAMES[i], int(ev.batch_sizes[i]), _fmt(ev.updates_per_epoch[i]),
                 _fmt(ev.updates_per_epoch[i] * ev.epochs), f"{ev.seconds_per_epoch[i] * 1e3:.3g}",
                 _describe(ev.metrics["epochs"][i], d[i], not_reached=never),
                 _describe(ev.metrics["updates"][i], d[i]),
                 _describe(ev.metrics["samples"][i], d[i]),
                 _describe(ev.metrics["seconds"][i], d[i], "s")]
                for i in range(3)
            ],
        ),
        "first to the target (median): " + "; ".join(
            f"by {axis}: {_first(ev, key)}"
            for axis, key in (("epochs", "epochs"), ("updates", "updates"), ("samples", "samples"),
                              ("wall time", "seconds"))
        ),
        "",
        f"Where the runs end up (fluctuation over the last {ev.tail} epochs)",
        table(
            ["variant", "final excess loss", "epoch-loss spread (std)", "mean excess", "per-update loss std",
             "diverged"],
            [
                [NAMES[i], _describe(ev.metrics["final_excess"][i], d[i]),
                 _describe(ev.metrics["tail_spread"][i], d[i]), _describe(ev.metrics["tail_excess"][i], d[i]),
                 _describe(ev.metrics["step_spread"][i], d[i]), _diverged_cell(ev, i)]
                for i in range(3)
            ],
        ),
        "",
    ]
    ep, sp, tx = ev.metrics["epochs"], ev.metrics["tail_spread"], ev.metrics["tail_excess"]
    evidence = {
        1: ["epochs to target: " + ", ".join(f"{NAMES[i]} {_describe(ep[i], d[i], not_reached=never)}"
                                              for i in range(3))],
        2: [
            f"spread (std) of the epoch loss over the last {ev.tail} epochs: SGD {_describe(sp[S_], d[S_])}, "
            f"mini-batch {_describe(sp[M], d[M])}"
            + ("" if d[S_].all() or d[M].all() else
               f"; ratio of medians {np.median(sp[S_][~d[S_]]) / np.median(sp[M][~d[M]]):.3g} "
               f"(\"much more\": >= {MUCH_MORE:g}x)"),
            f"mean excess loss over the last {ev.tail} epochs: SGD {_describe(tx[S_], d[S_])}, "
            f"mini-batch {_describe(tx[M], d[M])}"
            + ("" if d[S_].all() else
               f" (target {_fmt(ev.rel * np.median(ev.metrics['initial_excess'][S_][~d[S_]]))})"),
            f"std of the per-update batch loss within an epoch (last {ev.tail} epochs): "
            f"SGD {_describe(ev.metrics['step_spread'][S_], d[S_])}, "
            f"mini-batch {_describe(ev.metrics['step_spread'][M], d[M])}",
        ],
        3: [
            f"epochs to target: mini-batch {_describe(ep[M], d[M], not_reached=never)}, "
            f"GD {_describe(ep[G], d[G], not_reached=never)}",
            f"epoch-loss spread over the last {ev.tail} epochs: mini-batch {_describe(sp[M], d[M])}, "
            f"SGD {_describe(sp[S_], d[S_])}",
        ],
    }
    for c in ev.claims:
        lines.append(f"Claim {c.number}: {c.text}")
        lines += [f"  {e}" for e in evidence[c.number]]
        lines.append(f"  -> {c.verdict}: {c.reason}")
        lines.append("")
    lines += [
        f"epoch-loss spread: std of the full-data loss over the last {ev.tail} epochs; a run still "
        "descending there counts its trend as spread.",
        "per-update loss std: the spread of the batch losses of one epoch's updates; for SGD it is "
        "mostly the spread of single-sample losses, not parameter movement.",
        f"ms/epoch: one training run (jaxgd.train, compiled, median of 5, timed after the sweep) / "
        f"{ev.epochs} epochs; time to target = epochs to target x ms/epoch.",
    ]
    if figure:
        lines.append(f"figure: {figure}")
    if total is not None:
        lines.append(f"total time {total:.1f} s (compilation included)")
    return "\n".join(lines)


# --- the check --------------------------------------------------------------------------------


def check_claims(
    *,
    seeds: int = 20,
    epochs: int = 50,
    lr: float = 0.02,
    n: int = 1000,
    batch_size: int = 50,
    out: Optional[str] = "jaxgd_claims.png",
    rel: float = analysis.DEFAULT_REL_TARGET,
    tail: Optional[int] = None,
    data_seed: int = 0,
) -> ClaimsReport:
    """Runs GD (batch n), mini-batch (``batch_size``) and SGD (batch 1) at the tutorial's
    settings over ``seeds`` random seeds and checks the tutorial's three claims. Writes the
    2x2 figure to ``out`` (None: no figure). ``tail``: epochs the fluctuation is measured over
    (default: the last 10, or all when there are fewer). Raises ValueError for bad arguments."""
    start = time.perf_counter()
    for name, v in (("seeds", seeds), ("epochs", epochs), ("n", n), ("batch_size", batch_size)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    if seeds < 2:
        raise InputError(f"seeds must be at least 2 to give an interval across seeds, got {seeds}")
    if not 1 < batch_size < n:  # a mini-batch variant distinct from SGD (1) and GD (n); so n >= 3
        raise InputError(f"batch_size must be between 2 and n - 1 for a mini-batch variant, got {batch_size} "
                         f"with n={n}")
    tail = min(10, epochs) if tail is None else tail
    if not 1 <= tail <= epochs:
        raise InputError(f"tail must be between 1 and epochs={epochs}, got {tail}")
    data = synthetic_data(num_examples=n, seed=data_seed)
    X, y = np.asarray(data.X), np.asarray(data.y)
    batch_sizes = [n, batch_size, 1]

    result = sweep(X, y, batch_sizes=batch_sizes, lrs=[lr], seeds=seeds, epochs=epochs, step_loss="summary",
                   fast_compile=True)  # runs once a command: its compile outweighs its run
    # Timed after the sweep, one at a time: nothing else competes for the cores.
    sec_per_epoch = np.asarray([seconds_per_epoch(X, y, bs, lr, epochs) for bs in batch_sizes])

    ev = evaluate(result, sec_per_epoch, rel=rel, tail=tail)
    if out:
        from jaxgd.plots import claims_figure

        figure = claims_figure(result, sec_per_epoch, rel, out)
    else:
        figure = None
    total = time.perf_counter() - start
    return ClaimsReport(result, ev, format_report(ev, figure, total), figure, total)
