"""The studies built on the drivers: the tutorial's five claims and the optimizer comparison."""
