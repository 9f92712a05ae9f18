"""jaxgd.train with every optimizer and schedule against torch.optim driving the tutorial's loop.

The same data, initial parameters and per-epoch orders go to ``jaxgd.train(optimizer=,
schedule=)`` and to ``torchref.optim.train`` (the tutorial's loop with a real ``torch.optim``
optimizer and ``lr_scheduler``); every epoch's parameters and loss and every update's loss must
agree, in GD, mini-batch with a short last batch, and SGD, with d = 3.

Tolerances (jaxgd.parity's): each recorded field within a fraction of its scale (its largest
magnitude): float64 1e-10 (the frameworks round in different orders, ~1e-16 per operation;
element-wise relative error would judge single-sample losses passing within 1e-12 of 0, see
parity.OPTIM_F64_RTOL). float32: each recorded field (every epoch's w, b and loss, every
update's loss) within 1e-5 of that field's scale (its largest magnitude). The frameworks differ
by a few roundings per update (6e-8 each); torch computes scalars such as 1 - beta2^t in double
while jaxgd holds the hyperparameters in float32, and adaptive methods divide by sqrt(v) + eps,
which amplifies small differences once v is small. Measured worst (GD / mini-batch / SGD):
plain SGD 1.6e-7, SGD with momentum 5.7e-7, Adam(W) 1.2e-6, Adagrad 1.6e-7, RMSprop 7.3e-7,
Adadelta 2.3e-7, NAdam 5.9e-7, Adamax 1.6e-7, ASGD 2.5e-7, Rprop 2.3e-7: 1e-5 is 8x the worst;
RAdam with torch's beta2 = 0.999 reaches 7.0e-6 in SGD (1.4x under): float32 holds beta2 as
0.99900001, and rho_inf = 2 / (1 - beta2) - 1 turns that into a rectification 6.4e-6 smaller
(documented in ``optim.radam``); with beta2 = 0.99, 3.3e-7. Element-wise relative error is
the wrong yardstick here: single-sample step losses and parameters pass near 0, where any
rounding is "large".
"""

import numpy as np
import pytest
import torch

import jaxgd
import torchref.optim
from jaxgd import optim
from jaxgd import parity
from jaxgd.parity import to_torch, x64_enabled

# tests/test_cli_optim.py runs `jaxgd parity --optimizer all` at these n, d, epochs and batch
# sizes, so that the two share their compiled programs: change them together.
N, D, EPOCHS, LR = 23, 3, 5, 0.05
OPTIMIZERS = {
    "sgd": optim.sgd(),
    "sgd-momentum-dampening": optim.sgd(momentum=0.9, dampening=0.1),
    "sgd-nesterov-wd": optim.sgd(momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": optim.adam(),
    "adam-amsgrad-wd": optim.adam(amsgrad=True, weight_decay=0.01),
    "adamw": optim.adamw(),
    "adagrad-decay-acc": optim.adagrad(lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": optim.rmsprop(),
    "rmsprop-centered-momentum": optim.rmsprop(momentum=0.9, centered=True),
    "adadelta": optim.adadelta(),
    "nadam": optim.nadam(),
    "nadam-decoupled-momentum_decay": optim.nadam(betas=(0.8, 0.99), weight_decay=0.01, momentum_decay=0.01,
                                                  decoupled_weight_decay=True),
    "radam-wd": optim.radam(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
    "radam-decoupled": optim.radam(weight_decay=0.1, decoupled_weight_decay=True),
    "adamax": optim.adamax(),
    "adamax-wd": optim.adamax(betas=(0.5, 0.99), eps=1e-6, weight_decay=0.01),
    "asgd": optim.asgd(),
    "asgd-averaging-wd": optim.asgd(lambd=0.01, alpha=0.5, t0=3, weight_decay=0.01),
    "rprop": optim.rprop(),
    "rprop-etas-step_sizes": optim.rprop(etas=(0.3, 1.5), step_sizes=(1e-4, 0.5)),
}
NEW = [k for k in OPTIMIZERS if OPTIMIZERS[k].name in ("nadam", "radam", "adamax", "asgd", "rprop")]
SCHEDULES = {
    "step_lr": optim.step_lr(2, 0.5),
    "multistep_lr": optim.multistep_lr([1, 3], 0.3),
    "exponential_lr": optim.exponential_lr(0.8),
    "cosine_annealing_lr": optim.cosine_annealing_lr(4, 0.001),
    "linear_lr": optim.linear_lr(),
}
F32_SCALE_RTOL = 1e-5  # of each field's largest magnitude; see the measured worst in the docstring


def problem(dtype):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, D)).astype(dtype)
    y = (X @ np.array([3.5, -2.0, 1.0]) + 4.0 + 0.5 * rng.normal(size=N)).astype(dtype)[:, None]
    init = (rng.normal(0, 0.01, (D, 1)).astype(dtype), np.zeros(1, dtype))
    order = np.stack([rng.permutation(N) for _ in range(EPOCHS)])
    return X, y, init, order


def both(opt, schedule, batch_size, dtype):
    X, y, init, order = problem(dtype)
    with x64_enabled(dtype == "float64"):
        r = jaxgd.train(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, optimizer=opt, schedule=schedule,
                        init=init, order=order)
        got = [np.asarray(a, np.float64) for a in (r.w_history, r.b_history, r.epoch_loss, r.step_loss)]
    make_opt, make_sched = to_torch(opt, schedule)
    ref = torchref.optim.train(torch.tensor(X), torch.tensor(y), batch_size, LR, EPOCHS, make_optimizer=make_opt,
                               make_scheduler=make_sched, w=torch.tensor(init[0]), b=torch.tensor(init[1]),
                               orders=order)
    want = [ref[k].numpy().astype(np.float64) for k in ("w_history", "b_history", "epoch_loss", "step_loss")]
    return got, want


def worst(got, want):
    """Largest |jax - torch| over each field's scale (max |torch|)."""
    return max(float(np.max(np.abs(g - w)) / np.max(np.abs(w))) for g, w in zip(got, want))


@pytest.mark.diagonal  # the fast part: a covering diagonal of the product (conftest.py)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [N, 5, 1], ids=["GD", "mini-batch", "SGD"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_matches_torch_optim(name, batch_size, dtype):
    got, want = both(OPTIMIZERS[name], None, batch_size, dtype)
    if dtype == "float64":
        assert worst(got, want) < 1e-10
    else:
        for g, w in zip(got, want):
            assert np.max(np.abs(g - w)) <= F32_SCALE_RTOL * np.max(np.abs(w)), (name, np.max(np.abs(g - w)))


@pytest.mark.diagonal  # the fast part: a covering diagonal of the product (conftest.py)
@pytest.mark.parametrize("batch_size", [N, 5, 1], ids=["GD", "mini-batch", "SGD"])
@pytest.mark.parametrize("opt_name", ["sgd-momentum-dampening", "adam"])
@pytest.mark.parametrize("sched_name", list(SCHEDULES))
def test_every_schedule_matches_torch_lr_scheduler(sched_name, opt_name, batch_size):
    # The schedule is stepped after each epoch's updates, as scheduler.step() in the loop.
    got, want = both(OPTIMIZERS[opt_name], SCHEDULES[sched_name], batch_size, "float64")
    assert worst(got, want) < 1e-10


@pytest.mark.slow  # over ~5 s on the 2-core machine (benchmarks/suite-times); .ci/run runs it
def test_a_wrong_schedule_step_would_be_caught():
    # Stepping per update instead of per epoch (or not at all) trains a different model: the
    # comparison above would fail. Constant vs step_lr(1, 0.5) differ far beyond 1e-10.
    got, want = both(optim.adam(), optim.step_lr(1, 0.5), 5, "float64")
    other, _ = both(optim.adam(), None, 5, "float64")
    assert worst(other, want) > 1e-4 and worst(got, want) < 1e-10


def test_no_hyperparameter_or_schedule_value_recompiles(compile_counter):
    # Every float hyperparameter and schedule parameter is a runtime value of the program.
    X, y, _, _ = problem("float32")
    kw = dict(batch_size=5, epochs=3)
    jaxgd.train(X, y, lr=0.01, optimizer=optim.adam(), schedule=optim.step_lr(2, 0.5), **kw)
    before = compile_counter()
    runs = [jaxgd.train(X, y, lr=lr, optimizer=optim.adam(betas=b, eps=e, weight_decay=wd),
                        schedule=optim.step_lr(s, g), **kw)
            for lr, b, e, wd, s, g in ((0.02, (0.8, 0.99), 1e-6, 0.1, 1, 0.3), (0.03, (0.5, 0.9), 1e-4, 0.0, 3, 0.9))]
    assert compile_counter() == before
    assert float(runs[0].epoch_loss[-1]) != float(runs[1].epoch_loss[-1])


@pytest.mark.slow  # the same optimizers' parity is in the fast part (test_every_optimizer_matches_torch_optim), parity.compare's machinery too (test_parity.py); .ci/run runs it
@pytest.mark.diagonal  # the fast part: a covering diagonal of the product (conftest.py)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [N, 5, 1], ids=["GD", "mini-batch", "SGD"])
@pytest.mark.parametrize("name", NEW)
def test_parity_compare_of_torch_optims_other_optimizers(name, batch_size, dtype):
    # The project's parity machinery (jaxgd.parity.compare: the same init and orders replayed
    # in torch through torchref.optim.train), at its tolerances: each field within
    # OPTIM_F64_RTOL (1e-10) / OPTIM_F32_SCALE_RTOL (1e-5) of its scale, and neither run diverged.
    X, y, init, order = problem(dtype)
    report = parity.compare(X, y, batch_size=batch_size, lr=LR, epochs=EPOCHS, init=init, order=order, dtype=dtype,
                            optimizer=OPTIMIZERS[name])
    assert report.optimizer == OPTIMIZERS[name].name and report.compared_epochs == EPOCHS + 1
    assert report.ok and not report.diverged, report


@pytest.mark.diagonal  # the fast part: a covering diagonal of the product (conftest.py)
@pytest.mark.filterwarnings("ignore:training diverged")  # an ascent may pass 1000x the initial loss
@pytest.mark.parametrize("batch_size", [N, 1], ids=["GD", "SGD"])
# The fast part: SGD and Adam (maximize is one wrapper around every optimizer: optim._spec).
@pytest.mark.parametrize("name", [n if n in ("sgd", "adam") else pytest.param(n, marks=pytest.mark.slow)
                                  for n in optim.NAMES])
def test_maximize_matches_torch_optim(name, batch_size):
    # Gradient ascent (torch negates the gradient first) through a whole run, float64, every
    # optimizer at torch's defaults: within 1e-10 of each field's scale, as above.
    opt = optim.get(name).replace(maximize=True)
    got, want = both(opt, None, batch_size, "float64")
    assert worst(got, want) < 1e-10
    assert want[2][-1] > want[2][0]  # the loss went up: it did maximize
