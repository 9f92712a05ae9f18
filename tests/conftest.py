import atexit
import os
import shutil
import tempfile

import jax
import pytest

import jaxgd

# A compilation cache fresh for each test run, never the user's: this process (after the
# per-file jax.clear_caches() in the root conftest) and the CLI processes the tests start read
# back the programs an earlier test compiled, instead of compiling them again. Compilation counts
# are unaffected: JAX's compile event wraps the cache lookup, so a hit counts as a compile
# (CompileCounter). The cache only ever holds programs; a cached program's results are
# bit-identical to a fresh compile's (tests/test_cache.py). JAXGD_TEST_CACHE=off compiles
# everything afresh, with the cache off in the CLI processes too.
if os.environ.get("JAXGD_TEST_CACHE") == "off":
    os.environ["JAXGD_NO_CACHE"] = "1"
else:
    if not os.environ.get("JAXGD_TEST_CACHE_DIR"):
        os.environ["JAXGD_TEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxgd-test-cache-")
        atexit.register(shutil.rmtree, os.environ["JAXGD_TEST_CACHE_DIR"], True)
    os.environ["JAXGD_CACHE_DIR"] = os.environ["JAXGD_TEST_CACHE_DIR"]
    os.environ.pop("JAXGD_NO_CACHE", None)
    jaxgd.enable_compilation_cache(os.environ["JAXGD_TEST_CACHE_DIR"])

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
