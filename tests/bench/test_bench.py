"""`femkron bench` smoke run at tiny sizes (correctness of the harness, no timing asserted)."""

import json

import numpy as np
import pytest

from femkron import bench
from femkron.cli import main


def test_bench_cli_tiny(tmp_path, capsys):
    out_json = tmp_path / "b.json"
    out_png = tmp_path / "b.png"
    code = main(
        [
            "bench",
            "--sizes",
            "300",
            "--dims",
            "2",
            "3",
            "--repeats",
            "1",
            "--no-progress",
            "--json",
            str(out_json),
            "--plot",
            str(out_png),
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "tocsr" in text and "fdm" in text and "targets" in text
    data = json.loads(out_json.read_text())
    rows = data["rows"]
    assert {r["method"] for r in rows} >= {
        "tocsr",
        "copy",
        "kron",
        "ebe",
        "apply",
        "spmv",
        "fdm",
        "amg",
        "cg",
        "direct",
    }
    for r in rows:
        if r["seconds"] is not None and r["max_diff"] is not None:
            assert r["max_diff"] < 1e-8, r  # every method gives the same matrix / solution
        if r["kind"] == "solve" and r["seconds"] is not None:
            assert r["residual"] <= 1e-10
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cpus" in data["machine"]


def test_bench_scale_small():
    r = bench.scale_run(300_000, progress=False)
    # Q1 on a uniform cube, u = Π sin(π x_i): the 1D sine modes diagonalise K and M, so with
    # θ = πh: K and M eigenvalues k = 2(1 - cos θ)/h, m = h(2 + cos θ)/3, κ(A) = λmax/λmin
    # of k m m + m k m + m m k, and the load ∫ f φ_i = 3π² c³ Π sin(π x_i) with
    # c = 2h(1 - cos θ)/θ²: the discrete solution is α × (u at the nodes), α = π² c³/(k m²).
    cells = r["cells"]
    h = 1.0 / cells
    th = np.pi * np.arange(1, cells) * h
    k, m = 2 * (1 - np.cos(th)) / h, h * (2 + np.cos(th)) / 3
    lam = np.einsum("i,j,k->ijk", k, m, m) + np.einsum("i,j,k->ijk", m, k, m)
    lam += np.einsum("i,j,k->ijk", m, m, k)
    # a backward-stable solve leaves a relative residual c·ε·κ(A); c = 20 for the sine
    # transforms (O(log n) rounding each) and the product A x (measured c = 1.4)
    assert r["residual"] < 20 * np.finfo(float).eps * lam.max() / lam.min()
    c = 2 * h * (1 - np.cos(th[0])) / th[0] ** 2
    umax = np.sin(np.pi * (cells // 2) * h) ** 3  # the largest nodal value of u
    nodal = abs(np.pi**2 * c**3 / (k[0] * m[0] ** 2) - 1) * umax
    # the load's Gauss rule changes α by O((πh)^4) relative (measured 2e-5 of the error)
    assert r["max_error"] == pytest.approx(nodal, rel=0.02)
    assert r["transforms"] == ["dst", "dst", "dst"]
    assert r["peak_bytes"] > 0


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--dims", "4"], "--dims"),
        (["--sizes", "0"], "--sizes"),
        (["--methods", "magic"], "magic"),
        (["--json", "/nonexistent-folder/x.json"], "--json"),
    ],
)
def test_bench_bad_arguments(argv, match, capsys):
    assert main(["bench", "--no-progress", *argv]) == 2
    assert match in capsys.readouterr().err


def test_bench_kappa_cli_tiny(tmp_path, capsys):
    out_json = tmp_path / "k.json"
    out_png = tmp_path / "k.png"
    argv = ["bench", "--kind", "kappa", "--orders", "1", "2", "--sizes", "500", "--repeats", "1"]
    code = main([*argv, "--no-progress", "--json", str(out_json), "--plot", str(out_png)])
    assert code == 0
    text = capsys.readouterr().out
    assert "femkron" in text and "iteration spread" in text
    data = json.loads(out_json.read_text())
    rows = [r for r in data["rows"] if r["kind"] == "kappa"]
    # the default --dims 2 3: 2D and 3D, each order with both methods
    assert {(r["dim"], r["order"], r["method"]) for r in rows} == {
        (d, p, m) for d in (2, 3) for p in (1, 2) for m in ("femkron", "amg")
    }
    for r in rows:
        assert r["residual"] <= 1e-8 and r["max_diff"] < 1e-6
        assert len(r["times"]) == 1 and r["best"] == min(r["times"])
    names = {g["target"] for g in data["targets"]}
    assert "2D Q2 variable κ: pyamg SA-CG / femkron" in names
    assert "3D Q1 variable κ: pyamg SA-CG / femkron" in names
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
