"""The page: the runs encoded compactly (float16 offsets, base64) in one HTML file with its
drawing code (``page.js``, plain canvas) and style inline: no server, no network."""

from __future__ import annotations

import base64
import datetime
import html
import json
from importlib import resources
from typing import Optional

import numpy as np

from jaxgd.explore._grid import Runs
from jaxgd.explore._parity import CHECK_COMMAND, MAX_UPDATES, SETTLED, Parity

MAX_DRAWN_ROWS = 2000  # the data panel draws at most this many rows (a seeded sample)
TUTORIAL_BATCH, TUTORIAL_LR = 50, 0.02
_TINY = 1e-12  # excess losses are stored as log10(max(excess, _TINY))


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _nearest(values, target) -> int:
    values = np.asarray(values, np.float64)
    return int(np.argmin(np.abs(np.log(values) - np.log(target))))


def _trace_channels(runs: Runs, optimum, val_optimum_loss):
    """(names, float16 array (O, B, L, S, C, K)): w - w*, b - b*, log10 of the loss above the
    optimum (and of the held-out loss above the optimum's); NaN after a run's diverged epoch."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        excess = runs.loss.astype(np.float64) - optimum.loss
        channels = {"dw": runs.w - float(optimum.w[0, 0]), "db": runs.b - float(optimum.b[0]),
                    "excess": np.log10(np.where(np.isnan(excess), np.nan, np.maximum(excess, _TINY)))}
        if runs.val_loss is not None:
            val = runs.val_loss.astype(np.float64) - val_optimum_loss
            channels["val_excess"] = np.log10(np.where(np.isnan(val), np.nan, np.maximum(val, _TINY)))
        # points after the diverged epoch are not drawn (the one at it shows the jump)
        after = (runs.diverged_epoch[..., None] >= 0) & (runs.samples > runs.diverged_epoch[..., None] * runs.n)
        stacked = np.stack([np.where(after, np.nan, v) for v in channels.values()], axis=-2)
        return list(channels), stacked.astype(np.float16)


def _views(runs: Runs, optimum):
    """The path panel's box (every seed's start and the optimum, 15% margin) and the zoom's
    (around the optimum, 6% of the distance from seed 0's start)."""
    w0, b0 = runs.w[0, 0, 0, :, 0], runs.b[0, 0, 0, :, 0]
    ws, bs = np.append(w0, optimum.w[0, 0]), np.append(b0, optimum.b[0])
    span = max(np.ptp(ws), np.ptp(bs), 1e-6)
    full = [ws.min() - 0.15 * span, ws.max() + 0.15 * span, bs.min() - 0.15 * span, bs.max() + 0.15 * span]
    r = 0.06 * max(float(np.hypot(w0[0] - optimum.w[0, 0], b0[0] - optimum.b[0])), 1e-6)
    zoom = [optimum.w[0, 0] - r, optimum.w[0, 0] + r, optimum.b[0] - r, optimum.b[0] + r]
    return {"full": [float(v) for v in full], "zoom": [float(v) for v in zoom]}


def _ellipse(X, runs: Runs, optimum):
    """The loss contours: for one feature the loss is L* + ½ Δᵀ H Δ with H = [x 1]ᵀ[x 1] / n, so
    its level sets are ellipses (H's eigenvalues and vectors), levels from the start down by 4x."""
    x = np.asarray(X, np.float64).reshape(-1)
    H = np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    lam, vec = np.linalg.eigh(H)
    start = float(runs.loss[0, 0, 0, 0, 0]) - optimum.loss
    top = max(start, 1e-12) * 4
    return {"l1": float(lam[0]), "l2": float(lam[1]), "v1": vec[:, 0].tolist(), "v2": vec[:, 1].tolist(),
            "levels": [top * 4.0 ** -k for k in range(24)]}


def _loss_range(runs: Runs, optimum):
    with np.errstate(invalid="ignore", over="ignore"):
        start = float(np.nanmax(runs.loss[..., 0])) - optimum.loss
        finals = runs.final_loss.astype(np.float64) - optimum.loss
    finals = finals[np.isfinite(finals) & (finals > 0)]
    low = float(np.quantile(finals, 0.01)) / 3 if finals.size else start * 1e-6
    top = max(start, 1e-12) * 30
    return [max(low, top * 1e-12), top]


def _drawn_rows(X, y):
    x, t = np.asarray(X, np.float32).reshape(-1), np.asarray(y, np.float32).reshape(-1)
    if x.size > MAX_DRAWN_ROWS:
        keep = np.sort(np.random.default_rng(0).choice(x.size, MAX_DRAWN_ROWS, replace=False))
        x, t = x[keep], t[keep]
    pad = lambda a: [float(a.min() - 0.05 * np.ptp(a)), float(a.max() + 0.05 * np.ptp(a)) + 1e-9]  # noqa: E731
    return {"x": _b64(x), "y": _b64(t), "xrange": pad(x), "yrange": pad(t), "drawn": int(x.size)}


def verified_html(parity: Parity, runs: Runs, command: str) -> str:
    """What the page says was verified (HTML)."""
    if not parity.checked:
        again = html.escape(f"{CHECK_COMMAND}{command[len('jaxgd explore'):]}" if command.startswith("jaxgd explore")
                            else CHECK_COMMAND)
        return (f"<b>Parity with PyTorch: not checked</b> ({html.escape(parity.reason)}). "
                f"One command checks it when the page is made: <code>{again}</code>")
    pts = parity.points
    head = ("<b>Parity with PyTorch: checked</b>" if parity.ok else '<b class="fail">Parity with PyTorch: BROKEN</b>')
    rows = "".join(
        f"<tr><td>{html.escape(p.optimizer)}</td><td>{p.batch_size}</td><td>{p.lr:g}</td><td>{p.seed}</td>"
        f"<td>{p.max_diff:.1e}</td><td>{p.ratio:.2g}</td><td>{'ok' if p.ok else '<b class=fail>FAIL</b>'}</td></tr>"
        for p in pts)
    verdict = "agree" if parity.ok else "do <b>not</b> all agree"
    return (f"{head} when this page was made: {len(pts)} of its {runs.num_runs:,} runs, drawn at random among the "
            f"{parity.pool:,} of at most {MAX_UPDATES:,} updates (to keep the build short) whose loss settles (its "
            f"last epoch at most {SETTLED:g}× its lowest, no divergence), replayed in PyTorch from the same start "
            f"and sample orders (<code>jaxgd.parity</code>: the tutorial's loop, or it driven by "
            f"<code>torch.optim</code>). Every epoch's loss and the w, b drawn at every epoch end {verdict}: "
            f"worst |page − torch| <b>{parity.worst_diff:.1e}</b>, worst / tolerance <b>{parity.worst_ratio:.2g}</b> "
            f"(≤ 1 passes; {html.escape(parity.tolerance)}). The tolerance rests on runs that contract: in one that "
            f"keeps bouncing (NAdam at lr 5, say) or grows toward divergence, float32 rounding grows until jaxgd "
            f"differs from itself under another summation order about as much as from torch. SGD itself (batch 1) "
            f"is replayed by <code>jaxgd parity --optimizer all --batch-sizes 1</code>."
            f'<details><summary>the {len(pts)} runs</summary><table><tr><th>optimizer</th><th>batch</th><th>lr</th>'
            f"<th>seed</th><th>max |Δ|</th><th>/ tol</th><th></th></tr>{rows}</table></details>")


def render(X, y, runs: Runs, parity: Parity, *, source: str, command: str, validation=None,
           true_params: Optional[tuple] = None) -> str:
    """The page as one HTML string.

    Args:
      X: the training features (n, 1) the runs were trained on.
      y: the targets (n, 1).
      runs: ``run_grid``'s result.
      parity: ``check``'s result.
      source: what the data are, in words (the page's title says "GD ... on <source>").
      command: the command line that made the page (shown on it).
      validation: the held-out ``(X_val, y_val)`` the runs were traced on, or None.
      true_params: the data's true ``(w, b)`` where known (synthetic data), or None.
    """
    from jaxgd import analysis

    optimum = analysis.optimum(X, y)
    val_opt = None
    if validation is not None:
        Xv, yv = (np.asarray(v, np.float64) for v in validation)
        val_opt = float(analysis.data_loss(Xv, yv.reshape(-1), optimum.w, optimum.b))
    names, trace = _trace_channels(runs, optimum, val_opt)
    final = np.stack([runs.final_loss, runs.final_w, runs.final_b], axis=-1).astype(np.float32)
    bs = [int(b) for b in runs.batch_sizes]
    refs = list(dict.fromkeys(i for i in (bs.index(runs.n) if runs.n in bs else None,
                                          _nearest(bs, TUTORIAL_BATCH) if len(bs) > 2 else None,
                                          bs.index(1) if 1 in bs else None) if i is not None))
    data = {
        "optimizers": list(runs.optimizers), "batch_sizes": bs, "lrs": [float(v) for v in runs.lrs],
        "seeds": [int(s) for s in runs.seeds], "n": runs.n, "epochs": runs.epochs,
        "samples": runs.samples.tolist(), "updates": runs.updates.tolist(), "channels": names,
        "trace": _b64(trace), "final": _b64(final), "diverged_epoch": _b64(runs.diverged_epoch.astype(np.int16)),
        "optimum": {"w": float(optimum.w[0, 0]), "b": float(optimum.b[0]), "loss": float(optimum.loss)},
        "ellipse": _ellipse(X, runs, optimum), "views": _views(runs, optimum),
        "loss_range": _loss_range(runs, optimum), "data": _drawn_rows(X, y),
        "divergence_factor": int(analysis.DIVERGENCE_FACTOR), "references": refs,
        "defaults": {"optimizer": runs.optimizers.index("sgd") if "sgd" in runs.optimizers else 0,
                     "batch": _nearest(bs, TUTORIAL_BATCH), "lr": _nearest(runs.lrs, TUTORIAL_LR), "seed": 0},
    }
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    O, B, L, S = runs.diverged_epoch.shape
    step = int(runs.samples[1] - runs.samples[0]) if len(runs.samples) > 1 else runs.n
    subtitle = (f"{runs.num_runs:,} real runs ({O} optimizer{'s' * (O != 1)} × {B} batch sizes × {L} learning rates × "
                f"{S} seed{'s' * (S != 1)}, {runs.epochs} epochs each), every one traced every {step:,} samples; "
                f"one vmapped <code>jaxgd.sweep</code> per optimizer, {runs.seconds:.0f} s in all. Each optimizer "
                f"at torch's defaults with a constant learning rate.")
    true = ("" if true_params is None else
            f" The data were drawn from y = {true_params[0]:g}x + {true_params[1]:g} + noise.")
    drawn = data["data"]["drawn"]
    footer = (f"Made by <code>{html.escape(command)}</code> (jaxgd) on "
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC. Loss: the full-data loss "
              f"1/(2n) Σ (xw + b − y)², drawn as its excess over the least-squares optimum ({optimum.loss:.6g}, ★) "
              f"on a log scale"
              + (", the held-out loss (thin) as its excess over the optimum's held-out loss, clipped at the bottom"
                 if validation is not None else "")
              + f"; traces stored as float16 (3 digits), final values at full float32 precision. Faint: GD, "
                f"mini-batch and SGD at the same optimizer, lr and seed. Contours: the loss minus its optimum, each "
                f"level 4× the next.{true}"
              + (f" The data panel draws {drawn:,} of the {runs.n:,} rows." if drawn < runs.n else ""))
    resource = resources.files("jaxgd.explore")
    page = resource.joinpath("page.html").read_text(encoding="utf-8")
    for key, value in (("{{CSS}}", resource.joinpath("page.css").read_text(encoding="utf-8")),
                       ("{{JS}}", resource.joinpath("page.js").read_text(encoding="utf-8")),
                       ("{{SOURCE}}", html.escape(source)), ("{{SUBTITLE}}", subtitle),
                       ("{{VERIFIED}}", verified_html(parity, runs, command)), ("{{FOOTER}}", footer),
                       ("{{DATA}}", text)):
        page = page.replace(key, value)
    return page
