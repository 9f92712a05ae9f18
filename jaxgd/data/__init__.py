"""Data: the tutorial's synthetic data, the per-epoch orders, data files and their row sharding."""
