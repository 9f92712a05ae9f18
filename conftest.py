"""Shared by tests/ and benchmarks/ (one pytest process runs both)."""

import gc

import jax
import pytest


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_programs():
    """After each module, drop the compiled programs (JAX's caches and the sweep's own): every
    XLA:CPU executable holds memory maps, and one process running the whole suite would pass
    the kernel's limit of 65,530 (vm.max_map_count) and crash inside a later compile."""
    yield
    from jaxgd.drivers import _sweep_programs

    _sweep_programs.programs.cache_clear()
    jax.clear_caches()
    gc.collect()
