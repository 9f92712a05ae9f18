import os

import jax
import pytest

# The command line caches compiled programs on disk; tests (and the CLI processes they start)
# must not share programs through a user's cache, nor count compilations a cache would skip.
# tests/test_cache.py turns it on explicitly, in its own directories.
os.environ["JAXGD_NO_CACHE"] = "1"

# As equinox does: make silent broadcasting between arrays of different rank an error in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")


class CompileCounter:
    """Counts XLA backend compilations between enter and exit (``.count``)."""

    EVENT = "/jax/core/compile/backend_compile_duration"

    def __enter__(self):
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._listen)
        return self

    def _listen(self, event, duration, **kwargs):
        if event == self.EVENT:
            self.count += 1

    def __exit__(self, *exc):
        jax.monitoring.unregister_event_duration_listener(self._listen)


@pytest.fixture(scope="session")
def counting_compiles():
    """The ``CompileCounter`` class, for fixtures of any scope: ``with counting_compiles() as c:``."""
    return CompileCounter


@pytest.fixture
def compile_counter():
    """Counts XLA backend compilations while the test runs: ``compile_counter()`` reads it."""
    with CompileCounter() as counter:
        yield lambda: counter.count
