"""Op counts of the program ``jaxgd.train`` compiles, for a checkout (this one or an older one).

    python benchmarks/hlo_train.py CHECKOUT [dump]

Prints, for plain SGD, Adam at batch 1 and Adam at batch 50 on the tutorial's workload, the
optimised HLO's total op count and (top-level ops, ops including fused ones) per while loop
(``benchmarks.hlo.summarize``). Works on checkouts from before the specs became pytrees
(``jaxgd._train``) and after (``jaxgd.drivers._train``), so two can be compared side by side.
"""
import sys
repo = sys.argv[1]; sys.path.insert(0, repo)
import numpy as np, jaxgd
from jaxgd import optim
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from benchmarks import hlo
try:
    from jaxgd.drivers import _train as T
    new = True
except ImportError:
    from jaxgd import _train as T
    new = False
d = jaxgd.synthetic_data()
X, y = np.asarray(d.X), np.asarray(d.y).reshape(-1, 1)
for name, bs, opt in (("SGD adam", 1, optim.adam()), ("mini adam", 50, optim.adam()), ("SGD plain", 1, optim.sgd())):
    if new:
        plan = T._plan(1000, bs, 50, "float32", 0, 1000, 0)
        args = (X, y, 0, 0.01, opt, optim.constant(), None, None, None)
    else:
        plan = T._plan(1000, bs, 50, "float32", 0, 1000, opt, optim.constant(), 0)
        args = (X, y, 0, 0.01, dict(opt.hyperparams), {}, None, None, None)
    text = T._program.lower(*args, plan=plan).compile().as_text()
    s = hlo.summarize(text)
    print(name, s["total_ops"], [(l["top_level_ops"], l["all_ops_incl_fused"]) for l in s["loops"]])
    if len(sys.argv) > 2:
        open(f"/tmp/hlo_{'new' if new else 'old'}_{name.replace(' ', '_')}.txt", "w").write(text)
