"""Loading real data: CSV/TSV, .npz and .npy pairs, errors, standardization, alignment."""

import tracemalloc

import numpy as np
import pytest

import jaxgd
from jaxgd.data import _arrays, _csv
from jaxgd.data._files import LoadedData, load_dataset


def write_csv(path, header, rows, sep=","):
    lines = [sep.join(header)] + [sep.join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def float32_table(rng, n, d):
    # float32 values written with repr() of the float64 that equals them: parse back exactly.
    a = rng.normal(size=(n, d)).astype(np.float32)
    return a, [[repr(float(v)) for v in row] for row in a]


# ---------------------------------------------------------------------------------------------
# CSV


def test_csv_round_trip_default_target_is_last_column(tmp_path):
    rng = np.random.default_rng(0)
    a, text = float32_table(rng, 37, 4)
    path = write_csv(tmp_path / "d.csv", ["a", "b", "c", "t"], text)
    data = load_dataset(path)
    assert isinstance(data, LoadedData)
    assert data.X.dtype == np.float32 and data.y.dtype == np.float32
    assert data.X.shape == (37, 3) and data.y.shape == (37,)
    np.testing.assert_array_equal(data.X, a[:, :3])
    np.testing.assert_array_equal(data.y, a[:, 3])
    assert data.feature_names == ["a", "b", "c"] and data.target_name == "t"
    assert data.dropped_rows == 0 and data.mean is None and data.scale is None
    assert not data.standardized


def test_csv_target_by_name_keeps_the_other_columns_in_order(tmp_path):
    rng = np.random.default_rng(1)
    a, text = float32_table(rng, 20, 4)
    path = write_csv(tmp_path / "d.csv", ["a", "b", "c", "t"], text)
    data = load_dataset(path, target="b")
    np.testing.assert_array_equal(data.y, a[:, 1])
    np.testing.assert_array_equal(data.X, a[:, [0, 2, 3]])
    assert data.feature_names == ["a", "c", "t"] and data.target_name == "b"


def test_csv_many_blocks_whitespace_blank_lines_bom_and_quotes(tmp_path, monkeypatch):
    monkeypatch.setattr(_csv, "_CSV_BLOCK", 7)  # force several blocks and a short last one
    rng = np.random.default_rng(2)
    a, text = float32_table(rng, 30, 3)
    body = "\ufeff" + ' "x 1" , x2,y\n\n'  # BOM, quoted name, spaces, blank line
    body += "\n".join(" " + " , ".join(r) for r in text) + "\n\n\n"
    (tmp_path / "d.csv").write_text(body, encoding="utf-8")
    data = load_dataset(tmp_path / "d.csv")
    np.testing.assert_array_equal(data.X, a[:, :2])
    np.testing.assert_array_equal(data.y, a[:, 2])
    assert data.feature_names[1] == "x2" and data.target_name == "y"


def test_tsv(tmp_path):
    path = write_csv(tmp_path / "d.tsv", ["p", "q", "r"], [[1, 2, 3], [4, 5, 6]], sep="\t")
    data = load_dataset(path, target="p")
    np.testing.assert_array_equal(data.X, [[2, 3], [5, 6]])
    np.testing.assert_array_equal(data.y, [1, 4])


# ---------------------------------------------------------------------------------------------
# Errors


def test_missing_file(tmp_path):
    for name in ("nope.csv", "nope.npz", "X.npy,y.npy"):
        with pytest.raises(FileNotFoundError, match="data file not found: .*nope|X.npy"):
            load_dataset(str(tmp_path / name) if "," not in name else f"{tmp_path}/X.npy,{tmp_path}/y.npy")


def test_unknown_column_lists_available_ones(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "y"], [[1, 2, 3]])
    with pytest.raises(ValueError, match=r"d.csv has no column 'z'; available columns: 'x1', 'x2', 'y'"):
        load_dataset(path, target="z")


def test_non_numeric_cell_names_line_and_column(tmp_path):
    rows = [[1, 2, 3]] * 15 + [[1, "abc", 3]]  # header is line 1, so the bad row is line 17
    path = write_csv(tmp_path / "data.csv", ["x1", "x2", "y"], rows)
    with pytest.raises(ValueError) as e:
        load_dataset(path)
    assert str(e.value) == "data.csv line 17, column 'x2': 'abc' is not a number"


def test_nonfinite_is_an_error_that_counts_rows(tmp_path):
    rows = [[1, 2, 3], [1, "nan", 3], [4, 5, 6], ["inf", 1, "-inf"], [7, "", 9]]
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "y"], rows)
    with pytest.raises(ValueError) as e:
        load_dataset(path)
    msg = str(e.value)
    assert "3 of 5 rows contain NaN, infinite or missing values" in msg
    assert "first: line 3, column 'x2'" in msg and "drop_nonfinite=True" in msg
    assert "\n" not in msg


def test_drop_nonfinite_drops_and_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(_csv, "_CSV_BLOCK", 2)  # bad rows in different blocks
    rows = [[1, 2, 3], [1, "nan", 3], [4, 5, 6], ["inf", 1, "-inf"], [7, "", 9], [10, 11, 12]]
    path = write_csv(tmp_path / "d.csv", ["x1", "x2", "y"], rows)
    data = load_dataset(path, drop_nonfinite=True)
    assert data.dropped_rows == 3
    np.testing.assert_array_equal(data.X, [[1, 2], [4, 5], [10, 11]])
    np.testing.assert_array_equal(data.y, [3, 6, 12])


def test_drop_nonfinite_with_nothing_left(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "y"], [["nan", 1], [2, "inf"]])
    with pytest.raises(ValueError, match="all 2 rows contain NaN"):
        load_dataset(path, drop_nonfinite=True)


def test_ragged_row(tmp_path):
    (tmp_path / "d.csv").write_text("x1,x2,y\n1,2,3\n4,5\n")
    with pytest.raises(ValueError, match=r"^d.csv line 3: expected 3 fields as in the header, got 2$"):
        load_dataset(tmp_path / "d.csv")
    (tmp_path / "e.csv").write_text("x1,x2,y\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"e.csv line 2: expected 3 fields .* got 4"):
        load_dataset(tmp_path / "e.csv")


def test_empty_file_and_no_data_rows(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        load_dataset(tmp_path / "empty.csv")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(ValueError, match="blank.csv is empty"):
        load_dataset(tmp_path / "blank.csv")
    (tmp_path / "header.csv").write_text("x1,y\n\n")
    with pytest.raises(ValueError, match="header.csv has a header but no data rows"):
        load_dataset(tmp_path / "header.csv")


def test_header_problems(tmp_path):
    (tmp_path / "a.csv").write_text("1.5,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="a.csv line 1: the first row must be a header .* '1.5'"):
        load_dataset(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("x,x,y\n4,5,6\n")
    with pytest.raises(ValueError, match="b.csv line 1: the header names column 'x' twice"):
        load_dataset(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("y\n4\n")
    with pytest.raises(ValueError, match="c.csv has 1 column .*need at least one feature"):
        load_dataset(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("x,,y\n4,5,6\n")
    with pytest.raises(ValueError, match="d.csv line 1: column 2 of the header has no name"):
        load_dataset(tmp_path / "d.csv")


def test_value_too_large_for_float32(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "y"], [[1, 2], [1e39, 3]])
    with pytest.raises(ValueError, match=r"d.csv line 3, column 'x1': 1e\+39 is too large for float32"):
        load_dataset(path)


def test_constant_column_cannot_be_standardized(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["x1", "k", "y"], [[1, 0.1, 2], [2, 0.1, 3], [3, 0.1, 5]])
    with pytest.raises(ValueError, match=r"d.csv: feature column 'k' is constant \(value 0.1\); cannot standardize"):
        load_dataset(path, standardize=True)
    assert load_dataset(path).X.shape == (3, 2)  # fine without standardize


def test_unknown_format_single_npy_and_target_on_arrays(tmp_path):
    with pytest.raises(ValueError, match="unknown data format"):
        load_dataset(tmp_path / "d.parquet")
    np.save(tmp_path / "X.npy", np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"a .npy file holds one array; pass .*'X.npy,y.npy'"):
        load_dataset(tmp_path / "X.npy")
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.ones(3))
    with pytest.raises(ValueError, match="target applies to CSV files only"):
        load_dataset(tmp_path / "d.npz", target="y")


def test_npz(tmp_path):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 1))
    np.savez(tmp_path / "d.npz", X=X, y=y)
    data = load_dataset(tmp_path / "d.npz")
    assert data.X.dtype == np.float32 and data.y.shape == (50,)
    np.testing.assert_array_equal(data.X, X.astype(np.float32))
    np.testing.assert_array_equal(data.y, y.ravel().astype(np.float32))
    assert data.feature_names == ["x0", "x1", "x2"] and data.target_name == "y"
    np.savez(tmp_path / "n.npz", X=X, y=y, feature_names=np.array(["a", "b", "c"]))
    assert load_dataset(tmp_path / "n.npz").feature_names == ["a", "b", "c"]
    np.savez(tmp_path / "one.npz", X=X[:, 0], y=y)  # 1-D X is one feature
    assert load_dataset(tmp_path / "one.npz").X.shape == (50, 1)


def test_npz_missing_array_and_length_mismatch(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.ones((3, 2)), target=np.ones(3))
    with pytest.raises(ValueError, match=r"a.npz has no array 'y' \(arrays found: 'X', 'target'\)"):
        load_dataset(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", features=np.ones((3, 2)), y=np.ones(3))
    with pytest.raises(ValueError, match="b.npz has no array 'X'"):
        load_dataset(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", X=np.ones((3, 2)), y=np.ones(4))
    with pytest.raises(ValueError, match=r"length mismatch: c.npz array 'X' has 3 rows but c.npz array 'y' has 4"):
        load_dataset(tmp_path / "c.npz")
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"array 'y' must have shape \(n,\) or \(n, 1\), got \(3, 2\)"):
        load_dataset(tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", X=np.array([["a", "b"]]), y=np.ones(1))
    with pytest.raises(ValueError, match="array 'X' must hold real numbers, got dtype <U1"):
        load_dataset(tmp_path / "e.npz")


def test_npz_nonfinite(tmp_path):
    X = np.ones((5, 2))
    X[1, 0] = np.nan
    y = np.arange(5.0)
    y[3] = np.inf
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with pytest.raises(ValueError, match=r"d.npz: 2 of 5 rows contain NaN or infinite values \(first: row 1"):
        load_dataset(tmp_path / "d.npz")
    data = load_dataset(tmp_path / "d.npz", drop_nonfinite=True)
    assert data.dropped_rows == 2
    np.testing.assert_array_equal(data.y, [0, 2, 4])


def test_npy_pair_float32_is_kept_as_memmap(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(1000, 3)).astype(np.float32)
    y = rng.normal(size=1000)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    data = load_dataset(f"{tmp_path}/X.npy,{tmp_path}/y.npy")
    assert isinstance(data.X, np.memmap)  # no copy of a float32 C-contiguous file
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, y.astype(np.float32))
    assert data.y.dtype == np.float32


def test_npy_pair_converts_other_dtypes_block_by_block(tmp_path, monkeypatch):
    monkeypatch.setattr(_arrays, "_ARRAY_BLOCK", 64)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1000, 3))  # float64
    Xi = rng.integers(-5, 5, size=(1000, 2)).astype(np.int16)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Xi.npy", Xi)
    np.save(tmp_path / "y.npy", np.ones(1000))
    data = load_dataset(f"{tmp_path}/X.npy, {tmp_path}/y.npy")
    assert not isinstance(data.X, np.memmap) and data.X.dtype == np.float32
    np.testing.assert_array_equal(data.X, X.astype(np.float32))
    np.testing.assert_array_equal(load_dataset(f"{tmp_path}/Xi.npy,{tmp_path}/y.npy").X, Xi)
    np.save(tmp_path / "big.npy", np.array([[1.0], [1e300]]))
    np.save(tmp_path / "y2.npy", np.ones(2))
    with pytest.raises(ValueError, match=r"big.npy row 1, column 0: .* is too large for float32"):
        load_dataset(f"{tmp_path}/big.npy,{tmp_path}/y2.npy")
    with pytest.raises(ValueError, match="length mismatch: X.npy has 1000 rows but y2.npy has 2"):
        load_dataset(f"{tmp_path}/X.npy,{tmp_path}/y2.npy")


def test_standardize_memmap_leaves_file_alone(tmp_path):
    rng = np.random.default_rng(6)
    X = (rng.normal(size=(500, 2)) * [3, 0.5] + [10, -2]).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", np.ones(500))
    data = load_dataset(f"{tmp_path}/X.npy,{tmp_path}/y.npy", standardize=True)
    np.testing.assert_allclose(data.X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.X.std(axis=0), 1, rtol=1e-5)
    np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), X)


# ---------------------------------------------------------------------------------------------
# Standardization and original units


def test_to_original_units_matches_lstsq_on_raw_data(tmp_path):
    rng = np.random.default_rng(7)
    n = 400
    raw = np.column_stack([rng.normal(50, 10, n), rng.uniform(-0.01, 0.01, n), rng.normal(-3, 2, n)])
    y = raw @ [0.3, 120.0, -2.0] + 7.5 + rng.normal(0, 0.1, n)
    path = write_csv(tmp_path / "d.csv", ["a", "b", "c", "y"],
                     [[repr(float(np.float32(v))) for v in row] for row in np.column_stack([raw, y])])
    data = load_dataset(path, standardize=True)
    np.testing.assert_allclose(data.X.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.X.std(axis=0), 1, rtol=1e-4)

    # Least squares on the standardized features, mapped back ...
    Z = np.column_stack([data.X.astype(np.float64), np.ones(n)])
    coef_z = np.linalg.lstsq(Z, data.y.astype(np.float64), rcond=None)[0]
    w_orig, b_orig = data.to_original_units(coef_z[:3].reshape(3, 1), coef_z[3:])
    assert w_orig.shape == (3, 1) and b_orig.shape == (1,)
    # ... equals least squares on the raw (float32-parsed) data directly.
    raw32 = load_dataset(path)
    A = np.column_stack([raw32.X.astype(np.float64), np.ones(n)])
    coef = np.linalg.lstsq(A, raw32.y.astype(np.float64), rcond=None)[0]
    # Tolerance: the standardized X is rounded to float32 (relative error ~6e-8 per entry);
    # the fit's conditioning amplifies that by a few hundred at most here, so rtol 1e-4
    # (about 1000 float32 ulps) holds with margin while any wrong formula (e.g. w*scale, or a
    # missing mean term in b) is off by orders of magnitude.
    np.testing.assert_allclose(w_orig.ravel(), coef[:3], rtol=1e-4)
    np.testing.assert_allclose(b_orig, coef[3:], rtol=1e-4)


def test_to_original_units_without_standardize_is_identity_and_checks_shapes(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["a", "b", "y"], [[1, 2, 3], [2, 5, 1]])
    data = load_dataset(path)
    w, b = data.to_original_units([1.0, 2.0], 3.0)
    np.testing.assert_array_equal(w, [1.0, 2.0])
    assert float(b) == 3.0
    with pytest.raises(ValueError, match="w has 3 entries but the data has 2 features"):
        data.to_original_units([1.0, 2.0, 3.0], 0.0)


def test_train_end_to_end_on_a_csv(tmp_path):
    rng = np.random.default_rng(8)
    n = 2000
    x1 = rng.normal(4.0, 3.0, n)
    x2 = rng.uniform(-20.0, 10.0, n)
    y = 2 * x1 - 3 * x2 + 1 + rng.normal(0, 0.05, n)
    path = write_csv(tmp_path / "lin.csv", ["x1", "x2", "y"],
                     [[f"{a:.6f}", f"{b:.6f}", f"{c:.6f}"] for a, b, c in zip(x1, x2, y)])
    data = load_dataset(path, standardize=True)
    result = jaxgd.train(data.X, data.y, batch_size=50, lr=0.05, epochs=30)
    w, b = data.to_original_units(result.w, result.b)
    np.testing.assert_allclose(w.ravel(), [2.0, -3.0], atol=0.05)
    np.testing.assert_allclose(b, [1.0], atol=0.05)


# ---------------------------------------------------------------------------------------------
# Memory


def test_csv_peak_memory_is_about_two_copies(tmp_path, monkeypatch):
    monkeypatch.setattr(_csv, "_CSV_BLOCK", 1024)  # small blocks: the scratch term stays small
    n, d = 20000, 7
    rng = np.random.default_rng(9)
    a = rng.normal(size=(n, d + 1)).astype(np.float32)
    np.savetxt(tmp_path / "big.csv", a, delimiter=",", fmt="%.4f",
               header=",".join([f"x{i}" for i in range(d)] + ["y"]), comments="")
    final = n * (d + 1) * 4  # bytes of the float32 result
    tracemalloc.start()
    try:
        data = load_dataset(tmp_path / "big.csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.X.shape == (n, d)
    block = _csv._CSV_BLOCK * (d + 1) * 8 * 4  # float64 block buffer and its per-block temporaries
    # Two float32 copies (the blocks and the concatenated result; measured ~2.05x with the
    # scratch) plus block-sized scratch, with a little slack. A full float64 copy (>= 2x final on
    # its own, ~3x with the result) or Python lists of floats (~6x) would exceed it.
    assert peak < 2.25 * final + block, (peak, final, block)


def test_loaded_features_are_64_byte_aligned(tmp_path):
    # JAX's CPU client uses a 64-byte-aligned numpy buffer in place; anything else is copied on
    # every train call, doubling peak memory for large data (see jaxgd.data._files._aligned_empty).
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{2 * i},{i % 7}\n" for i in range(100)))
    for kwargs in ({}, {"standardize": True}):
        X = load_dataset(str(path), **kwargs).X
        assert X.ctypes.data % 64 == 0 and X.flags.c_contiguous and X.dtype == np.float32
    npz = tmp_path / "d.npz"
    np.savez(npz, X=np.arange(30.0).reshape(10, 3), y=np.arange(10.0))
    assert load_dataset(str(npz)).X.ctypes.data % 64 == 0


@pytest.mark.parametrize("kind", ["npz", "npy-float32", "npy-float64"])
@pytest.mark.parametrize("standardize", [False, True])
def test_arrays_with_dropped_rows_are_64_byte_aligned(tmp_path, kind, standardize):
    # Dropping rows used to return X32[good], a fresh numpy array that is only 16-byte aligned.
    X = np.arange(3000.0).reshape(1000, 3) % 17
    X[[3, 500, 999], 1] = np.nan
    y = np.arange(1000.0)
    if kind == "npz":
        np.savez(tmp_path / "d.npz", X=X, y=y)
        path = str(tmp_path / "d.npz")
    else:
        np.save(tmp_path / "X.npy", X.astype(np.float32) if kind == "npy-float32" else X)
        np.save(tmp_path / "y.npy", y)
        path = f"{tmp_path}/X.npy,{tmp_path}/y.npy"
    data = load_dataset(path, drop_nonfinite=True, standardize=standardize)
    assert data.dropped_rows == 3 and data.X.shape == (997, 3)
    assert data.X.ctypes.data % 64 == 0 and data.X.flags.c_contiguous and data.X.dtype == np.float32
    keep = np.isfinite(X).all(axis=1)
    expected = X[keep].astype(np.float32)
    if standardize:
        expected = (X[keep] - X[keep].mean(axis=0)) / X[keep].std(axis=0)
    # float32 rounding of values up to ~17 (and of standardized values): 1e-5 relative is ~100 ulps.
    np.testing.assert_allclose(data.X, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(data.y, y[keep].astype(np.float32))


# ---------------------------------------------------------------------------------------------
# One standardiser for the plain and the mesh loader

_MESH_LOAD = """
import sys, numpy as np, jax
import jaxgd
files, out = sys.argv[1], sys.argv[2]
mesh = jax.make_mesh((jax.device_count(),), ("data",))
data = jaxgd.load_dataset(files, mesh=mesh, standardize=True)
np.savez(out, X=np.asarray(data.X), mean=data.mean, scale=data.scale, devices=jax.device_count())
"""


def _far_from_zero(tmp_path, n):
    # Column 1 has mean / std = 2e4: standardizing it cancels 4 of float32's 7 digits, so
    # float32 statistics (or a float32 copy of the mean) show at 1e-4..1e-3 in the result.
    rng = np.random.default_rng(11)
    X = np.c_[rng.normal(size=n), 2e4 + rng.normal(size=n)].astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", rng.normal(size=n).astype(np.float32))
    X64 = X.astype(np.float64)  # the reference: float64 statistics of the float32 values
    mean, scale = X64.mean(0), X64.std(0)
    return f"{tmp_path}/X.npy,{tmp_path}/y.npy", mean, scale, (X64 - mean) / scale


def _check_standardized(X, mean, scale, ref_mean, ref_scale, ref_X, n):
    # Statistics: float64 sums in another order than numpy's, rtol 1e-12. Values: the float32
    # rounding of the float64 result (half an ulp, 2**-24 relative), plus the statistics'
    # round-off amplified by mean / std = 2e4 (~1e-11 absolute): 2**-24 |ref| + 1e-10.
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12)
    np.testing.assert_allclose(scale, ref_scale, rtol=1e-12)
    X = np.asarray(X, np.float64)
    assert np.all(np.abs(X[:n] - ref_X) <= 2.0**-24 * np.abs(ref_X) + 1e-10), np.max(np.abs(X[:n] - ref_X))
    assert np.all(X[n:] == 0)  # a mesh's padding rows stay zero


def test_plain_and_one_device_mesh_loaders_standardize_alike(tmp_path):
    import jax

    n = 4000
    files, ref_mean, ref_scale, ref_X = _far_from_zero(tmp_path, n)
    plain = load_dataset(files, standardize=True)
    mesh = load_dataset(files, standardize=True, mesh=jax.make_mesh((1,), ("data",)))
    for data in (plain, mesh):
        _check_standardized(data.X, data.mean, data.scale, ref_mean, ref_scale, ref_X, n)
    # Both paths round the same float64 values: within one float32 ulp of each other.
    assert np.all(np.abs(np.asarray(mesh.X, np.float64) - plain.X) <= 2.0**-23 * np.abs(ref_X) + 1e-10)


def test_four_device_mesh_loader_standardizes_like_the_plain_loader(tmp_path):
    # n = 4001 on 4 devices: shards of 1001 rows, the last with 3 padding rows. JAX fixes the
    # device count when it starts, so the mesh load runs in its own process.
    import os
    import subprocess
    import sys
    from pathlib import Path

    n = 4001
    files, ref_mean, ref_scale, ref_X = _far_from_zero(tmp_path, n)
    root = str(Path(__file__).parent.parent)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    out = tmp_path / "mesh.npz"
    p = subprocess.run([sys.executable, "-c", _MESH_LOAD, files, str(out)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    got = np.load(out)
    assert int(got["devices"]) == 4 and got["X"].shape == (4004, 2)
    _check_standardized(got["X"], got["mean"], got["scale"], ref_mean, ref_scale, ref_X, n)
    plain = load_dataset(files, standardize=True)
    assert np.all(np.abs(got["X"][:n].astype(np.float64) - plain.X) <= 2.0**-23 * np.abs(ref_X) + 1e-10)
