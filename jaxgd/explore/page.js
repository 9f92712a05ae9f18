// jaxgd explore: draws precomputed runs (no network, no library). Data: the JSON in #jaxgd-data.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("jaxgd-data").textContent);
  const O = D.optimizers.length, B = D.batch_sizes.length, L = D.lrs.length, S = D.seeds.length;
  const K = D.samples.length, C = D.channels.length;

  function bytes(b64) {
    const bin = atob(b64), u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return u.buffer;
  }
  // float16 -> float32 through a table of all 65536 values
  const HALF = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
    HALF[h] = e === 0 ? s * Math.pow(2, -14) * (f / 1024)
      : e === 31 ? (f ? NaN : s * Infinity) : s * Math.pow(2, e - 15) * (1 + f / 1024);
  }
  const raw = new Uint16Array(bytes(D.trace));
  const TRACE = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) TRACE[i] = HALF[raw[i]];
  const FINAL = new Float32Array(bytes(D.final));       // (O, B, L, S, 3): loss, w, b
  const DIV = new Int16Array(bytes(D.diverged_epoch));   // (O, B, L, S), -1: never
  const XS = new Float32Array(bytes(D.data.x)), YS = new Float32Array(bytes(D.data.y));
  const OPT = D.optimum;

  const run = (o, b, l, s) => ((o * B + b) * L + l) * S + s;
  const channel = (r, c) => TRACE.subarray((r * C + c) * K, (r * C + c + 1) * K);
  const CH = Object.fromEntries(D.channels.map((c, i) => [c, i]));
  // the loss channels are stored as log10 of the loss above the optimum
  for (const name of ["excess", "val_excess"]) {
    if (CH[name] === undefined) continue;
    for (let r = 0; r < O * B * L * S; r++) {
      const ch = channel(r, CH[name]);
      for (let i = 0; i < K; i++) ch[i] = Math.pow(10, ch[i]);
    }
  }

  // ---- controls ----
  const $ = (id) => document.getElementById(id);
  const ctl = { optimizer: $("optimizer"), batch: $("batch"), lr: $("lr"), seed: $("seed"), at: $("at") };
  D.optimizers.forEach((name, i) => ctl.optimizer.add(new Option(name, i)));
  D.seeds.forEach((s, i) => ctl.seed.add(new Option(String(s), i)));
  ctl.batch.max = B - 1; ctl.lr.max = L - 1; ctl.at.max = K - 1;
  const def = D.defaults;
  ctl.optimizer.value = def.optimizer; ctl.batch.value = def.batch; ctl.lr.value = def.lr;
  ctl.seed.value = def.seed; ctl.at.value = K - 1;

  const fmt = (v, p = 4) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)) ? v.toExponential(p - 1) : v.toPrecision(p);
  const lrText = (v) => String(+v.toPrecision(3));
  const variant = (bs) => (bs === D.n ? "GD" : bs === 1 ? "SGD" : "mini-batch");
  const COLORS = { GD: "#1f77b4", "mini-batch": "#2ca02c", SGD: "#d62728" };
  const CURRENT = "#5b2a86";

  function state() {
    return { o: +ctl.optimizer.value, b: +ctl.batch.value, l: +ctl.lr.value, s: +ctl.seed.value, k: +ctl.at.value };
  }

  // ---- drawing ----
  const DPR = window.devicePixelRatio || 1;
  function surface(id) {
    const cv = $(id), w = cv.clientWidth || 430, h = cv.clientHeight || 320;
    cv.width = Math.round(w * DPR); cv.height = Math.round(h * DPR);
    const ctx = cv.getContext("2d");
    ctx.setTransform(DPR, 0, 0, DPR, 0, 0);
    return { ctx, w, h };
  }
  const SURF = {};
  ["fit", "path", "zoom", "loss-samples", "loss-updates"].forEach((id) => { SURF[id] = surface(id); });

  function ticks(lo, hi, log) {
    if (log) {
      const out = [];
      for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(Math.pow(10, e));
      return out.length > 7 ? out.filter((_, i) => i % 2 === 0) : out;
    }
    const span = hi - lo, raw = span / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= 6);
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }
  const tickText = (t, log) => log ? (t >= 1e-2 && t <= 1e4 ? String(t) : "1e" + Math.round(Math.log10(t))) : String(+t.toPrecision(6));

  // An axes on a surface: x, y ranges (log: positive), labels; returns the mapping and the context.
  function axes(id, opt) {
    const { ctx, w, h } = SURF[id];
    ctx.clearRect(0, 0, w, h);
    const m = { l: 58, r: 10, t: 24, b: 38 };
    const X0 = m.l, X1 = w - m.r, Y0 = h - m.b, Y1 = m.t;
    const f = (v, log) => (log ? Math.log10(v) : v);
    const [xa, xb] = opt.x.map((v) => f(v, opt.logx)), [ya, yb] = opt.y.map((v) => f(v, opt.logy));
    const px = (v) => X0 + (f(v, opt.logx) - xa) / (xb - xa) * (X1 - X0);
    const py = (v) => Y0 + (f(v, opt.logy) - ya) / (yb - ya) * (Y1 - Y0);
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#444"; ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1;
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of ticks(opt.x[0], opt.x[1], opt.logx)) {
      const x = px(t); ctx.beginPath(); ctx.moveTo(x, Y0); ctx.lineTo(x, Y1); ctx.stroke();
      ctx.fillText(opt.xticktext ? opt.xticktext(t) : tickText(t, opt.logx), x, Y0 + 3);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of ticks(opt.y[0], opt.y[1], opt.logy)) {
      const y = py(t); ctx.beginPath(); ctx.moveTo(X0, y); ctx.lineTo(X1, y); ctx.stroke();
      ctx.fillText(tickText(t, opt.logy), X0 - 4, y);
    }
    ctx.strokeStyle = "#888"; ctx.strokeRect(X0, Y1, X1 - X0, Y0 - Y1);
    ctx.fillStyle = "#222"; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(opt.xlabel, (X0 + X1) / 2, h - 3);
    ctx.fillText(opt.title, (X0 + X1) / 2, m.t - 5);
    ctx.save(); ctx.translate(13, (Y0 + Y1) / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle";
    ctx.fillText(opt.ylabel, 0, 0); ctx.restore();
    const clip = () => { ctx.save(); ctx.beginPath(); ctx.rect(X0, Y1, X1 - X0, Y0 - Y1); ctx.clip(); };
    return { ctx, px, py, clip, X0, X1, Y0, Y1 };
  }

  // A polyline through finite points (a gap at each non-finite one), up to index `upto`.
  function line(a, xs, ys, upto, color, width, alpha, dots) {
    const { ctx, px, py } = a;
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = width; ctx.globalAlpha = alpha;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i <= upto; i++) {
      const x = xs(i), y = ys(i);
      if (!isFinite(x) || !isFinite(y)) { pen = false; continue; }
      const X = Math.max(-1e4, Math.min(1e4, px(x))), Y = Math.max(-1e4, Math.min(1e4, py(y)));
      if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
      pen = true;
    }
    ctx.stroke();
    if (dots) {
      for (let i = 0; i <= upto; i++) {
        const x = xs(i), y = ys(i);
        if (isFinite(x) && isFinite(y)) ctx.fillRect(px(x) - 1.2, py(y) - 1.2, 2.4, 2.4);
      }
    }
    ctx.globalAlpha = 1;
  }

  function marker(a, x, y, shape, color, size) {
    if (!isFinite(x) || !isFinite(y)) return;
    const { ctx } = a, X = a.px(x), Y = a.py(y);
    ctx.fillStyle = color; ctx.strokeStyle = "#111"; ctx.lineWidth = 1; ctx.beginPath();
    if (shape === "star") {
      for (let i = 0; i < 10; i++) {
        const r = i % 2 ? size * 0.45 : size, t = -Math.PI / 2 + i * Math.PI / 5;
        ctx.lineTo(X + r * Math.cos(t), Y + r * Math.sin(t));
      }
      ctx.closePath(); ctx.fill(); ctx.stroke();
    } else if (shape === "ring") {
      ctx.arc(X, Y, size, 0, 2 * Math.PI); ctx.lineWidth = 2; ctx.stroke();
    } else {
      ctx.arc(X, Y, size, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
  }

  // top left, or (bottom) the bottom left, where the loss curves have not yet come down
  function legend(a, items, bottom) {
    const { ctx } = a;
    ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    ctx.fillStyle = "rgba(255,255,255,0.8)";
    const top = bottom ? a.Y0 - 8 - 14 * items.length : a.Y1 + 2;
    ctx.fillRect(a.X0 + 2, top, 190, 14 * items.length + 4);
    let y = top + 9;
    for (const [label, color, alpha, width] of items) {
      ctx.globalAlpha = alpha; ctx.strokeStyle = color; ctx.lineWidth = width;
      ctx.beginPath(); ctx.moveTo(a.X0 + 6, y); ctx.lineTo(a.X0 + 24, y); ctx.stroke();
      ctx.globalAlpha = 1; ctx.fillStyle = "#222"; ctx.fillText(label, a.X0 + 28, y);
      y += 14;
    }
  }

  // The references at the same optimizer, lr and seed: GD, the mini-batch reference and SGD.
  function references(st) {
    return D.references.filter((b) => b !== st.b).map((b) => {
      const bs = D.batch_sizes[b];
      return { b, label: `${variant(bs)} (batch ${bs})`, color: COLORS[variant(bs)] };
    });
  }

  // Contours of the full-data loss: for one feature an exact quadratic, L* + ½ Δᵀ H Δ: ellipses.
  function contours(a) {
    const { ctx } = a, E = D.ellipse;
    ctx.strokeStyle = "#9a9a9a"; ctx.lineWidth = 0.8;
    for (const c of E.levels) {
      const r1 = Math.sqrt(2 * c / E.l1), r2 = Math.sqrt(2 * c / E.l2);
      ctx.beginPath();
      for (let i = 0; i <= 96; i++) {
        const t = i / 96 * 2 * Math.PI, u = r1 * Math.cos(t), v = r2 * Math.sin(t);
        const X = a.px(OPT.w + u * E.v1[0] + v * E.v2[0]), Y = a.py(OPT.b + u * E.v1[1] + v * E.v2[1]);
        if (i) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
      }
      ctx.stroke();
    }
  }

  function drawPath(id, view, title, st, refs) {
    const a = axes(id, { x: [view[0], view[1]], y: [view[2], view[3]], xlabel: "w", ylabel: "b", title });
    a.clip();
    contours(a);
    const w = (r) => { const ch = channel(r, CH.dw); return (i) => OPT.w + ch[i]; };
    const bb = (r) => { const ch = channel(r, CH.db); return (i) => OPT.b + ch[i]; };
    for (const ref of refs) {
      const r = run(st.o, ref.b, st.l, st.s);
      line(a, w(r), bb(r), st.k, ref.color, 1, 0.6, false);
    }
    const r = run(st.o, st.b, st.l, st.s), wr = w(r), br = bb(r);
    line(a, wr, br, st.k, CURRENT, 1.6, 1, true);
    marker(a, wr(0), br(0), "ring", "#fff", 5);
    marker(a, OPT.w, OPT.b, "star", "#111", 8);
    marker(a, wr(st.k), br(st.k), "dot", CURRENT, 4.5);
    a.ctx.restore();
    return a;
  }

  function drawLoss(id, st, refs, byUpdates) {
    const xmax = byUpdates ? Math.max(1, ...D.updates.map((u) => u[K - 1])) : D.samples[K - 1];
    const ux = (b) => byUpdates ? (i) => Math.max(D.updates[b][i], 0.7) : (i) => D.samples[i];
    const a = axes(id, {
      x: byUpdates ? [0.7, xmax * 1.3] : [0, xmax], y: D.loss_range, logx: byUpdates, logy: true,
      xlabel: byUpdates ? "updates (log; 0 at the left edge)" : "samples processed",
      ylabel: "loss − least-squares optimum",
      xticktext: byUpdates ? (t) => tickText(t, true) : (t) => (t >= 1e3 ? (t / 1e3) + "k" : String(t)),
      title: byUpdates ? "full-data loss against updates" : "full-data loss against samples processed",
    });
    a.clip();
    const floor = D.loss_range[0];
    const excess = (r, c) => { const ch = channel(r, c); return (i) => Math.max(ch[i], floor); };
    for (const ref of refs) {
      const r = run(st.o, ref.b, st.l, st.s);
      line(a, ux(ref.b), excess(r, CH.excess), K - 1, ref.color, 1.1, 0.6, false);
    }
    const r = run(st.o, st.b, st.l, st.s);
    if (CH.val_excess !== undefined) line(a, ux(st.b), excess(r, CH.val_excess), K - 1, CURRENT, 1, 0.8, false);
    line(a, ux(st.b), excess(r, CH.excess), K - 1, CURRENT, 1.8, 1, false);
    const x = ux(st.b)(st.k), y = excess(r, CH.excess)(st.k);
    a.ctx.strokeStyle = "#999"; a.ctx.setLineDash([3, 3]); a.ctx.beginPath();
    a.ctx.moveTo(a.px(x), a.Y0); a.ctx.lineTo(a.px(x), a.Y1); a.ctx.stroke(); a.ctx.setLineDash([]);
    marker(a, x, y, "dot", CURRENT, 4);
    a.ctx.restore();
    const items = [[`${variant(D.batch_sizes[st.b])} (batch ${D.batch_sizes[st.b]}), this run`, CURRENT, 1, 1.8]];
    if (CH.val_excess !== undefined) items.push(["held-out, this run", CURRENT, 0.8, 1]);
    for (const ref of refs) items.push([ref.label, ref.color, 0.6, 1.1]);
    if (!byUpdates) legend(a, items, true);
  }

  function drawFit(st) {
    const a = axes("fit", { x: D.data.xrange, y: D.data.yrange, xlabel: "x", ylabel: "y",
      title: `the data and the fit after ${D.samples[st.k].toLocaleString("en")} samples` });
    a.clip();
    const { ctx } = a;
    ctx.fillStyle = "#7f8c8d"; ctx.globalAlpha = 0.35;
    for (let i = 0; i < XS.length; i++) ctx.fillRect(a.px(XS[i]) - 1.2, a.py(YS[i]) - 1.2, 2.4, 2.4);
    ctx.globalAlpha = 1;
    const seg = (w, b, color, width, dash) => {
      ctx.strokeStyle = color; ctx.lineWidth = width; ctx.setLineDash(dash); ctx.beginPath();
      const [x0, x1] = D.data.xrange;
      ctx.moveTo(a.px(x0), a.py(w * x0 + b)); ctx.lineTo(a.px(x1), a.py(w * x1 + b)); ctx.stroke();
      ctx.setLineDash([]);
    };
    seg(OPT.w, OPT.b, "#111", 1, [5, 4]);
    const r = run(st.o, st.b, st.l, st.s);
    const w = OPT.w + channel(r, CH.dw)[st.k], b = OPT.b + channel(r, CH.db)[st.k];
    if (isFinite(w) && isFinite(b)) seg(w, b, CURRENT, 2.2, []);
    ctx.restore();
    legend(a, [["fit of this run", CURRENT, 1, 2.2], ["least-squares optimum", "#111", 1, 1]]);
  }

  function current() {
    const st = state(), r = run(st.o, st.b, st.l, st.s), div = DIV[r];
    return {
      optimizer: D.optimizers[st.o], batch_size: D.batch_sizes[st.b], lr: D.lrs[st.l], seed: D.seeds[st.s],
      final_loss: FINAL[3 * r], w: FINAL[3 * r + 1], b: FINAL[3 * r + 2], diverged_at: div < 0 ? null : div,
      samples: D.samples[st.k], updates: D.updates[st.b][st.k],
      loss_at: OPT.loss + channel(r, CH.excess)[st.k],
      w_at: OPT.w + channel(r, CH.dw)[st.k], b_at: OPT.b + channel(r, CH.db)[st.k],
    };
  }

  function describe(st) {
    const c = current(), bs = c.batch_size, nb = Math.ceil(D.n / bs);
    const head = `${c.optimizer}, ${variant(bs)} (batch ${bs}: ${nb.toLocaleString("en")} update${nb > 1 ? "s" : ""} an epoch), lr ${lrText(c.lr)}, seed ${c.seed}`;
    let out = `<div>${head}</div>`;
    if (c.diverged_at !== null) {
      out += `<div class="big diverged">diverged at epoch ${c.diverged_at}</div>` +
        `<div>the loss became non-finite or above ${D.divergence_factor}× its initial loss; try a smaller learning rate</div>`;
    } else {
      out += `<div class="big">final loss ${c.final_loss.toPrecision(6)}</div>` +
        `<table><tr><td>after ${D.epochs} epochs</td><td>w ${c.w.toPrecision(6)}</td><td>b ${c.b.toPrecision(6)}</td></tr>` +
        `<tr><td>least-squares optimum</td><td>w ${OPT.w.toPrecision(6)}</td><td>b ${OPT.b.toPrecision(6)}</td></tr>` +
        `<tr><td>its loss</td><td colspan="2">${OPT.loss.toPrecision(6)}</td></tr></table>`;
    }
    const at = isFinite(c.loss_at) ? `loss ${fmt(c.loss_at, 5)}, w ${fmt(c.w_at)}, b ${fmt(c.b_at)}` : "off the chart (diverged)";
    out += `<div>after ${c.samples.toLocaleString("en")} samples (${c.updates.toLocaleString("en")} updates): ${at}</div>`;
    return out;
  }

  const api = { redrawTimes: [], current, controls: Object.keys(ctl) };
  function redraw() {
    const t0 = performance.now();
    const st = state(), refs = references(st);
    $("batch-out").textContent = `${D.batch_sizes[st.b]} (${variant(D.batch_sizes[st.b])})`;
    $("lr-out").textContent = lrText(D.lrs[st.l]);
    $("at-out").textContent = `${D.samples[st.k].toLocaleString("en")} (epoch ${+(D.samples[st.k] / D.n).toFixed(2)})`;
    drawFit(st);
    drawPath("path", D.views.full, "path of (w, b) over the loss contours", st, refs);
    drawPath("zoom", D.views.zoom, "zoom around the optimum (★)", st, refs);
    drawLoss("loss-samples", st, refs, false);
    drawLoss("loss-updates", st, refs, true);
    $("result").innerHTML = describe(st);
    api.redrawTimes.push(performance.now() - t0);
  }
  for (const el of Object.values(ctl)) el.addEventListener("input", redraw);

  let timer = null;
  $("play").addEventListener("click", () => {
    if (timer) { cancelAnimationFrame(timer); timer = null; $("play").textContent = "▶ play"; return; }
    $("play").textContent = "❚❚ pause";
    let k = +ctl.at.value >= K - 1 ? 0 : +ctl.at.value, last = 0;
    const step = (t) => {
      // the whole run in 5 s (less for a short trace)
      if (t - last > Math.min(5000, 120 * K) / K) { last = t; ctl.at.value = k; redraw(); k++; }
      if (k < K) timer = requestAnimationFrame(step); else { timer = null; $("play").textContent = "▶ play"; }
    };
    timer = requestAnimationFrame(step);
  });
  redraw();
  window.jaxgdExplore = api;
})();
