"""Data-parallel training on a jax.sharding.Mesh equals single-device training.

JAX fixes the number of CPU devices when it starts, so the check runs in its own process with
XLA_FLAGS=--xla_force_host_platform_device_count=4 (tests/sharded_check.py).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# One fresh process with 4 host devices runs every sharded case (about 50 s on the 2-core machine).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sharded_results():
    script = Path(__file__).with_name("sharded_check.py")
    root = str(script.parent.parent)  # import this checkout's jaxgd, installed or not
    path = os.pathsep.join([root, os.environ["PYTHONPATH"]]) if os.environ.get("PYTHONPATH") else root
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": path}
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)


def test_four_devices_are_used(sharded_results):
    assert sharded_results["devices"] == 4


def test_sharded_training_equals_single_device(sharded_results):
    # Only the summation order differs (per-device partial sums, then an all-reduce), so the
    # float32 parity tolerance applies: |diff| <= 1e-6 + 1e-5 |single| on every epoch's w, b,
    # epoch loss and every update's loss. Cases: GD with n divisible and not divisible by the
    # devices (padded with weight-0 rows), mini-batch, SGD, 2 of 4 devices, a 1-device mesh.
    cases = {k: v for k, v in sharded_results.items() if k.startswith("n=")}
    assert len(cases) == 6
    for name, r in cases.items():
        assert r["worst_over_tolerance"] <= 1.0, (name, r)


def test_padding_does_not_change_the_update_count(sharded_results):
    r = sharded_results["n=1001,d=3,batch=1001,devices=4"]
    assert r["updates"] == 4  # GD: one update per epoch, padding rows are not a batch
    assert sharded_results["n=1001,d=2,batch=50,devices=4"]["updates"] == 4 * 21


def test_a_bad_mesh_is_a_value_error(sharded_results):
    assert "mesh must be a jax.sharding.Mesh" in sharded_results["bad_mesh_error"]


def test_sharded_sweep_equals_unsharded_sweep(sharded_results):
    # jaxgd.sweep(mesh=...) splits the seed axis over the devices; every run (GD, padded
    # mini-batch, SGD; 3 seeds padded to 4 lanes; a 1-D and a 2 x 2 mesh) equals the unsharded
    # sweep within test_sweep.py's tolerances (rtol 1e-6 on losses, atol 1e-6 on parameters).
    cases = {k: v for k, v in sharded_results.items() if k.startswith("sweep ")}
    assert len(cases) == 2
    for name, r in cases.items():
        assert r["worst_over_tolerance"] <= 1.0, (name, r)
        assert r["shape"][2] == 3, (name, r)  # the padding seed is dropped
        assert r["partitions"] and all(p == 4 for p in r["partitions"]), (name, r)  # GSPMD, 4 devices
        assert r["run_collectives"] == 0, (name, r)  # runs never communicate


def test_a_bad_sweep_mesh_is_a_value_error(sharded_results):
    assert "mesh must be a jax.sharding.Mesh" in sharded_results["sweep_bad_mesh_error"]


def test_held_out_loss_and_trace_under_a_mesh(sharded_results):
    # train(mesh=, validation=, record_every=) (rows sharded, held-out set replicated; GD and
    # padded mini-batch, n = 41 on 4 devices) and sweep(mesh=, ...) equal the runs without a
    # mesh: val_loss and every trace field within the float32 parity tolerance above.
    assert sharded_results["record validation+trace mesh=4"]["worst_over_tolerance"] <= 1.0
    # sweep(fast_compile=True) under the mesh (XLA:CPU's loop emitters): plain SGD, so bit for bit.
    assert sharded_results["record validation+trace mesh=4"]["fast_compile_same_bits"]


def test_an_update_moves_its_gradient_not_its_rows(sharded_results):
    # Read off the compiled sharded programs (n = 1001 over 4 devices, d = 3): every update
    # is one all-reduce of d + 2 = 5 float32 (the gradient of w and b, and the batch loss);
    # the full-data losses are scalar all-reduces (one before the run and one per epoch for
    # mini-batch, the last one for GD, whose updates' losses are its epoch losses). No batch
    # row is gathered from another device. A loop body appears once in the text: unroll 4
    # shows 4 updates, plus 1 for the remainder of 21 batches = 5 x 4 + 1.
    hlo = {k: v for k, v in sharded_results.items() if k.startswith("hlo ")}
    expected = {"hlo batch=50,unroll=1,sgd": 1, "hlo batch=50,unroll=4,sgd": 5, "hlo batch=1,unroll=1,adam": 1,
                "hlo batch=1001,unroll=1,sgd": 1}
    assert set(hlo) == set(expected)
    for name, r in hlo.items():
        assert r["other_collectives"] == 0, name
        assert sorted(r["all_reduce"]) == sorted(["f32[5]"] * expected[name] + ["f32[]"] * (1 if "1001" in name else 2)), (name, r)


def test_each_device_computes_only_its_batch_indices(sharded_results):
    # Batch indices are computed a batch at a time from the order keys, so no array of the
    # program has n = 1001 integers (a whole epoch's order): the largest is the device's own
    # row numbers, ceil(1001 / 4) = 251.
    for name, r in sharded_results.items():
        if name.startswith("hlo "):
            assert r["largest_int_array"] == 251, (name, r)
