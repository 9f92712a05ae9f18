"""The runs tests/test_distributed.py checks across 2 processes (shared with distributed_check.py)."""

N, D = 1001, 3  # odd: the loader pads the rows to a multiple of the 2 devices

TRAIN_CASES = {
    "GD": dict(batch_size=None, lr=0.05, epochs=4, seed=3),
    "mini-batch": dict(batch_size=50, lr=0.02, epochs=4, seed=3),
    "SGD": dict(batch_size=1, lr=0.01, epochs=2, seed=3),
}

SWEEP = dict(batch_sizes=[N, 7, 1], lrs=[0.05, 0.2], seeds=[0, 5, 9], epochs=3, step_loss="full")
