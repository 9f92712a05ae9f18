"""The fast part of the suite (the README's test command, -m 'not slow'): the covering diagonal
that ``@pytest.mark.diagonal`` keeps of a parameter product (conftest.py's ``on_diagonal``)."""

import importlib.util
import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

pytest_plugins = ["pytester"]

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"
_spec = importlib.util.spec_from_file_location("jaxgd_root_conftest", ROOT_CONFTEST)
root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root_conftest)
on_diagonal = root_conftest.on_diagonal


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=4))
def test_the_diagonal_tries_every_value_of_every_list_and_is_as_short_as_can_be(lengths):
    sizes = {f"list{i}": n for i, n in enumerate(lengths)}
    kept = [dict(zip(sizes, idx)) for idx in itertools.product(*(range(n) for n in lengths))
            if on_diagonal(dict(zip(sizes, idx)), sizes)]
    # One case per value of the longest list: the fewest that can try every value of it ...
    assert len(kept) == max(lengths)
    # ... and every value of every other list is among them.
    for name, n in sizes.items():
        assert {case[name] for case in kept} == set(range(n))


def test_a_single_list_is_kept_whole():
    assert all(on_diagonal({"a": i}, {"a": 5}) for i in range(5))
    assert on_diagonal({}, {})


def test_the_fast_part_of_a_marked_product_is_its_diagonal(pytester):
    pytester.makeconftest(f"""
        import importlib.util
        spec = importlib.util.spec_from_file_location("jaxgd_root_conftest", {str(ROOT_CONFTEST)!r})
        root = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(root)
        pytest_collection_modifyitems = root.pytest_collection_modifyitems  # the hook under test
        def pytest_configure(config):
            config.addinivalue_line("markers", "diagonal: as in the repository")
            config.addinivalue_line("markers", "slow: as in the repository")
    """)
    pytester.makepyfile(test_product="""
        import pytest

        @pytest.mark.diagonal
        @pytest.mark.parametrize("b", [1, 2])
        @pytest.mark.parametrize("a,c", [(0, "x"), (1, "y"), (2, "z")])
        def test_case(a, c, b):
            pass

        @pytest.mark.parametrize("b", [1, 2])
        @pytest.mark.parametrize("a", [0, 1, 2])
        def test_unmarked(a, b):
            pass
    """)
    fast = pytester.runpytest("-m", "not slow", "-p", "no:cacheprovider", "-q")
    fast.assert_outcomes(passed=3 + 6, deselected=3)
    slow = pytester.runpytest("-m", "slow", "-p", "no:cacheprovider", "-q")
    slow.assert_outcomes(passed=3, deselected=3 + 6)
