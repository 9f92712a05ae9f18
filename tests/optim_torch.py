"""Map jaxgd.optim specs onto torch.optim / torch.optim.lr_scheduler (tests only: jaxgd never imports torch)."""

from __future__ import annotations

import torch


def make_optimizer(spec):
    """``(params, lr) -> torch.optim.Optimizer`` for a jaxgd ``optim.Optimizer`` (torch's default ``foreach``)."""
    h, o = dict(spec.hyperparams), dict(spec.options)
    if spec.name == "sgd":
        return lambda params, lr: torch.optim.SGD(
            params, lr=lr, momentum=h["momentum"], dampening=h["dampening"],
            weight_decay=h["weight_decay"], nesterov=o["nesterov"],
        )
    if spec.name in ("adam", "adamw"):
        cls = torch.optim.Adam if spec.name == "adam" else torch.optim.AdamW
        return lambda params, lr: cls(
            params, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["eps"],
            weight_decay=h["weight_decay"], amsgrad=o["amsgrad"],
        )
    if spec.name == "adagrad":
        return lambda params, lr: torch.optim.Adagrad(params, lr=lr, **h)
    if spec.name == "rmsprop":
        return lambda params, lr: torch.optim.RMSprop(params, lr=lr, **h, centered=o["centered"])
    if spec.name == "adadelta":
        return lambda params, lr: torch.optim.Adadelta(params, lr=lr, **h)
    raise ValueError(spec.name)


def make_scheduler(schedule):
    """``optimizer -> torch LRScheduler`` for a jaxgd ``optim.Schedule``; None for ``constant``."""
    p = dict(schedule.params)
    S = torch.optim.lr_scheduler
    if schedule.name == "constant":
        return None
    if schedule.name == "step_lr":
        return lambda opt: S.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"])
    if schedule.name == "multistep_lr":
        milestones = [v for k, v in schedule.params if k.startswith("milestone_")]
        return lambda opt: S.MultiStepLR(opt, milestones=milestones, gamma=p["gamma"])
    if schedule.name == "exponential_lr":
        return lambda opt: S.ExponentialLR(opt, gamma=p["gamma"])
    if schedule.name == "cosine_annealing_lr":
        return lambda opt: S.CosineAnnealingLR(opt, T_max=p["T_max"], eta_min=p["eta_min"])
    if schedule.name == "linear_lr":
        return lambda opt: S.LinearLR(
            opt, start_factor=p["start_factor"], end_factor=p["end_factor"], total_iters=p["total_iters"]
        )
    raise ValueError(schedule.name)


def to_torch(optimizer_spec, schedule_spec=None):
    """``(make_optimizer, make_scheduler)`` for ``torchref.optim.train``."""
    return make_optimizer(optimizer_spec), None if schedule_spec is None else make_scheduler(schedule_spec)
