"""`femkron bench` smoke run at tiny sizes (correctness of the harness, no timing asserted)."""

import json

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
    assert r["residual"] < 1e-12
    assert r["max_error"] < 5e-3  # Q1 nodal error ~ h²
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
    assert "fdm-cg" in text and "iteration spread" in text
    data = json.loads(out_json.read_text())
    rows = [r for r in data["rows"] if r["kind"] == "kappa"]
    assert {(r["order"], r["method"]) for r in rows} == {
        (p, m) for p in (1, 2) for m in ("fdm-cg", "amg")
    }
    for r in rows:
        assert r["residual"] <= 1e-8 and r["max_diff"] < 1e-6
    names = {g["target"] for g in data["targets"]}
    assert "2D Q2 variable κ: pyamg SA-CG / fdm-CG" in names
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
