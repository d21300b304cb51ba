"""``femkron bench --kind coordinates``: disk, annulus and the 3D cylinder rows, tiny sizes."""

import json

import numpy as np
import scipy.sparse.linalg as spla

from femkron.bench.coordinates import coordinates_case
from femkron.cli import main


def test_bench_coordinates_cli_tiny(tmp_path, capsys):
    out_json = tmp_path / "c.json"
    argv = ["bench", "--kind", "coordinates", "--sizes", "1500", "--repeats", "1"]
    assert main([*argv, "--no-progress", "--json", str(out_json)]) == 0
    assert "coordinates" in capsys.readouterr().out
    rows = [r for r in json.loads(out_json.read_text())["rows"] if r["kind"] == "coordinates"]
    domains = {(r["note"].split(",")[0], r["dim"]) for r in rows}
    assert domains == {("disk", 2), ("annulus", 2), ("cylinder", 3)}
    for r in rows:
        assert r["method"] in ("nested", "fdm-sq", "amg") and len(r["times"]) == 1
        # CG stops at a relative residual of 1e-8; the solution's relative error is at most
        # the condition number (< 1e3 at these sizes: ~ (cells)² ) times that
        if r["method"] == "amg":
            assert r["max_diff"] < 1e-5 and "CG iterations" in r["note"]
        if r["method"] == "nested":
            assert r["max_diff"] == 0.0 and r["ratio"] == 1.0


def test_bench_coordinates_domains_option(tmp_path, capsys):
    out_json = tmp_path / "c.json"
    argv = ["bench", "--kind", "coordinates", "--domains", "cylinder", "--sizes", "800"]
    assert main([*argv, "--repeats", "2", "--no-progress", "--json", str(out_json)]) == 0
    rows = json.loads(out_json.read_text())["rows"]
    assert {r["note"].split(",")[0] for r in rows} == {"cylinder"}
    assert [r["method"] for r in rows] == ["nested", "fdm-sq", "amg"]
    assert all(len(r["times"]) == 2 and r["best"] == min(r["times"]) for r in rows)


def test_the_cylinder_row_solves_the_same_system_as_sparse_lu(monkeypatch):
    # the nested solve of the bench's cylinder system against scipy's sparse LU of it
    import femkron.bench.coordinates as bc

    seen = {}
    real = bc.make_solver

    def spy(op, method, **kw):
        s = real(op, method, **kw)
        if method == "nested":
            seen["A"], seen["solver"] = op, s
        return s

    monkeypatch.setattr(bc, "make_solver", spy)
    rows = coordinates_case("cylinder", order=2, dofs=3000, repeats=1)
    assert [r["dim"] for r in rows] == [3, 3, 3]
    A = seen["A"].tocsr()
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    x = seen["solver"].solve(b)
    ref = spla.spsolve(A.tocsc(), b)
    # both exact solvers: differences at rounding × condition (~1e3 here)
    assert np.abs(x - ref).max() <= 1e-9 * np.abs(ref).max()
