"""The tutorial's five conclusions, each checked by measurement (``jaxgd claims`` prints them).

1-3 (``check_claims``): GD converges slowly per epoch; SGD's loss fluctuates; mini-batch is
fast and stable: GD, mini-batch and SGD at the tutorial's settings over many random seeds.

4 (``check_overfitting``): "GD ... easily over-fits": the generalisation gap of the three
variants on held-out data, at equal epochs and at equal training loss, in the tutorial's regime
and an over-parameterised one.

5 (``batch_size_study``): "the right batch size": updates and samples to a target against the
batch size at tuned learning rates, fitted with McCandlish et al.'s model (critical batch size
B_crit) beside the gradient noise scale; the verdict rests on B_crit alone (deterministic at
fixed seeds), the batch size fastest in wall time on this machine is reported beside it.

Each returns its verdict as a ``Claim(number, text, verdict, reason)``; ``check_all`` runs the
five.
"""

from __future__ import annotations

from typing import Optional

from jaxgd.studies._batch_size import run_study as batch_size_study
from jaxgd.studies._claims import CANNOT_JUDGE, NOT_SUPPORTED, SUPPORTED, WEAKLY, Claim, check_claims
from jaxgd.studies._overfit import check_overfitting

__all__ = ["CANNOT_JUDGE", "NOT_SUPPORTED", "SUPPORTED", "WEAKLY", "Claim", "batch_size_study", "check_all",
           "check_claims", "check_overfitting"]


def check_all(seeds: int = 20, out: Optional[str] = None) -> list[Claim]:
    """The five claims at their defaults (claims 1-3 and 4 over ``seeds`` seeds; the batch-size
    study over its own 4 seeds). ``out``: the figure of claims 1-3 (None: none)."""
    claims = list(check_claims(seeds=seeds, out=out).claims)
    claims.append(check_overfitting(seeds=seeds).claim)
    study, _ = batch_size_study(out=None)
    claims.append(study.claim)
    return claims
