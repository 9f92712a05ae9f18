import jax
import pytest

# As equinox does: make silent broadcasting between arrays of different rank an error in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def compile_counter():
    """Counts XLA backend compilations while the test runs: ``compile_counter()`` reads it."""
    events = []

    def listener(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            events.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield lambda: len(events)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
