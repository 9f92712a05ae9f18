"""torch.optim's optimizers and per-epoch LR schedules as pytree specs that build optax.

An ``Optimizer`` is a pytree: its name and structure (torch's booleans, and whether a momentum
buffer exists) are static, its float hyperparameters are leaves. Pass it through ``jit`` as an
ordinary argument and ``jit`` does the split: a new hyperparameter value reuses the compiled
program, a new structure compiles a new one::

    spec = optim.adam(betas=(0.9, 0.99))
    tx = spec.transformation(0.01)                      # an optax transformation at lr 0.01
    state = tx.init(params)
    updates, state = tx.update(grads, state, params, step=1)   # step: the 1-based update count
    params = optax.apply_updates(params, updates)

(``optim.as_optax(spec, lr)`` is the same with its own counter, for a plain optax loop.)

Exactness. Each update follows torch's single-tensor CPU kernels (``foreach=None`` resolves
to the single-tensor path for CPU tensors) operation by operation (``_math``). The one
structural difference: torch changes the parameter in place, optax returns an update ``u``
applied as ``p + u``; only the steps that change ``p`` in place twice (a decoupled decay:
AdamW, NAdam and RAdam's ``decoupled_weight_decay``, ASGD's decay) differ from torch by more
than nothing because of it, by one rounding of a quantity much smaller than ``p`` (XLA:CPU
fuses the decay's product into the next add; torch rounds it first). XLA:CPU flushes
subnormal floats to zero, torch does not: a subnormal hyperparameter acts as 0 here.

torch's keywords. Every factory takes torch's keywords with torch's defaults and checks, plus
``maximize`` (the gradient negated first, as in torch). ``foreach``, ``fused``, ``capturable``
and ``differentiable`` are accepted at the values of torch's single-tensor CPU path (None or
False), where they change no arithmetic; another value, or a keyword torch's optimizer does
not take, is a ``ValueError`` naming it.

One place per optimizer. ``register`` (in ``_spec``) records each optimizer's factory,
transformation, torch class, colour and keyword help; ``REGISTRY`` is read by the CLI, the
figures and ``jaxgd.parity``. Adding an optimizer is one module here (docs/architecture.md).

Schedules (``Schedule``) give the learning rate in force during each epoch as a closed form
of traced values; see ``constant`` and the other schedule factories.
"""

# Registration order is NAMES: the six of the tutorial's comparison first, then torch.optim's others.
from jaxgd.optim import _sgd, _adam, _adagrad, _rmsprop, _adadelta  # noqa: F401, I001
from jaxgd.optim import _nadam, _radam, _adamax, _asgd, _rprop  # noqa: F401, I001
from jaxgd.optim._adadelta import adadelta
from jaxgd.optim._adagrad import adagrad
from jaxgd.optim._adam import adam, adamw
from jaxgd.optim._adamax import adamax
from jaxgd.optim._asgd import asgd
from jaxgd.optim._nadam import nadam
from jaxgd.optim._radam import radam
from jaxgd.optim._rmsprop import rmsprop
from jaxgd.optim._rprop import rprop
from jaxgd.optim._schedules import (
    SCHEDULE_NAMES,
    Schedule,
    constant,
    cosine_annealing_lr,
    exponential_lr,
    get_schedule,
    linear_lr,
    multistep_lr,
    step_lr,
)
from jaxgd.optim._sgd import sgd
from jaxgd.optim._spec import REGISTRY, TORCH_ONLY, Definition, Optimizer, as_optax, cast, get, names, register

NAMES = names()

__all__ = [
    "Definition",
    "NAMES",
    "Optimizer",
    "REGISTRY",
    "SCHEDULE_NAMES",
    "Schedule",
    "TORCH_ONLY",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "as_optax",
    "asgd",
    "cast",
    "constant",
    "cosine_annealing_lr",
    "exponential_lr",
    "get",
    "get_schedule",
    "linear_lr",
    "multistep_lr",
    "nadam",
    "radam",
    "register",
    "rmsprop",
    "rprop",
    "sgd",
    "step_lr",
]
