"""What XLA compiled for ``jaxgd.train``: op counts of the optimised HLO of the training program (``jaxgd.core``'s draw and run).

    python -m benchmarks.hlo [--dump DIR]      # seed variants + large variants, a summary each

Used by ``report.py`` to explain missed targets. Built from the documented ``jaxgd.core`` (``Plan``, ``draw``, ``init_state``, ``run``);
returns None where they changed.
"""

from __future__ import annotations

import collections
import re
import sys

_COMP = re.compile(r"^(ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$")
_INST = re.compile(r"^\s*(ROOT\s+)?%?[\w.\-]+\s*=\s*.*?\s([a-z][\w\-]*)\(")
_CALLS = re.compile(r"(?:calls|to_apply|body|condition|branch_computations)=\{?%?([\w.\-, %]+)\}?")


def parse(text):
    """{computation: Counter(opcode)}, {computation: [called computations]}, entry name."""
    comps, calls, cur, entry = {}, {}, None, None
    for line in text.splitlines():
        m = _COMP.match(line)
        if m and "=" not in line.split("{")[0].split("(")[0]:
            cur = m.group(2)
            comps[cur], calls[cur] = collections.Counter(), []
            if m.group(1):
                entry = cur
            continue
        if cur is None:
            continue
        m = _INST.match(line)
        if m:
            comps[cur][m.group(2)] += 1
            for c in _CALLS.findall(line):
                calls[cur] += [x.strip().lstrip("%") for x in c.split(",") if x.strip()]
    return comps, calls, entry


def _closure(name, calls, seen=None):
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    for c in calls.get(name, []):
        _closure(c, calls, seen)
    return seen


def summarize(text):
    comps, calls, entry = parse(text)
    loops = []
    # while loops: find the instructions with body=
    for line in text.splitlines():
        if " while(" in line:
            body = re.search(r"body=%?([\w.\-]+)", line).group(1)
            inner = collections.Counter()
            for c in _closure(body, calls):
                inner.update(comps.get(c, {}))
            top = comps.get(body, collections.Counter())
            loops.append(dict(
                body=body,
                top_level_ops=sum(v for k, v in top.items() if k not in ("parameter", "get-tuple-element", "tuple", "constant")),
                fusions=top.get("fusion", 0),
                nested_whiles=top.get("while", 0),
                all_ops_incl_fused=sum(inner.values()),
                gathers=inner.get("gather", 0),
                dynamic_slices=inner.get("dynamic-slice", 0),
                dynamic_update_slices=inner.get("dynamic-update-slice", 0),
                copies=inner.get("copy", 0),
                dots=inner.get("dot", 0),
                reduces=inner.get("reduce", 0),
                custom_calls=inner.get("custom-call", 0),
            ))
    total = collections.Counter()
    for ctr in comps.values():
        total.update(ctr)
    return dict(
        computations=len(comps), total_ops=sum(total.values()), gathers=total.get("gather", 0),
        copies=total.get("copy", 0), whiles=total.get("while", 0), sorts=total.get("sort", 0),
        entry_ops=sum(comps.get(entry, {}).values()), loops=loops,
    )


def compiled_text(n, d, batch_size, epochs, order_given=False, dtype="float32"):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxgd import core, optim

    plan = core.Plan(n, batch_size, epochs, dtype)

    def program(X, y, seed, lr, init, order):  # what train compiles: the documented core recipe
        params, keys = core.draw(seed, plan, d=d)
        state = core.init_state(core.Params(*init), optim.sgd(), lr, dtype=plan.dtype)
        return core.run(state, X, y, plan, orders=order, order_keys=keys if order is None else None)

    X = jax.ShapeDtypeStruct((n, d), jnp.dtype(dtype))
    y = jax.ShapeDtypeStruct((n, 1), jnp.dtype(dtype))
    order = jax.ShapeDtypeStruct((epochs, n), jnp.int32) if order_given else None
    init = (jax.ShapeDtypeStruct((d, 1), jnp.dtype(dtype)), jax.ShapeDtypeStruct((1,), jnp.dtype(dtype)))
    return jax.jit(program).lower(X, y, 0, np.float32(0.1), init, order).compile().as_text()


def stats(n, d, batch_size, epochs, order_given=False):
    try:
        return summarize(compiled_text(n, d, batch_size, epochs, order_given))
    except Exception as e:  # internals changed
        return {"error": f"{type(e).__name__}: {e}"}


CASES = {
    "seed GD": (1000, 1, 1000, 50), "seed mini-batch": (1000, 1, 50, 50), "seed SGD": (1000, 1, 1, 50),
    "large GD": (1_000_000, 64, 1_000_000, 10), "large mini-batch": (1_000_000, 64, 1024, 2),
}


def main(argv):
    import json

    dump = argv[argv.index("--dump") + 1] if "--dump" in argv else None
    for name, (n, d, bs, ep) in CASES.items():
        for og in (False, True):
            if dump:
                import pathlib

                pathlib.Path(dump).mkdir(parents=True, exist_ok=True)
                pathlib.Path(dump, f"{name.replace(' ', '_')}{'_order' if og else ''}.hlo.txt").write_text(
                    compiled_text(n, d, bs, ep, og))
            print(name, "order=" if og else "default", json.dumps(stats(n, d, bs, ep, og)))


if __name__ == "__main__":
    main(sys.argv[1:])
