"""The ``femkron`` command: every subcommand once, results checked, bad input refused."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from reference_fem import box_eigenvalues, galerkin_constant

from femkron.cli import build_parser, exact_eigenvalues, main

MESHES = pathlib.Path(__file__).resolve().parents[2] / "meshes"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_solve_default_prints_the_essentials(capsys):
    code, out, err = run(capsys, "solve")
    assert code == 0 and err == ""
    for word in ("dofs", "method", "time", "L2 error", "H1 error"):
        assert word in out
    l2 = float(out.split("L2 error:")[1].split()[0])
    assert 0 < l2 < 1e-4


def test_console_script_runs(tmp_path):
    exe = shutil.which("femkron")
    cmd = [exe] if exe else [sys.executable, "-m", "femkron.cli"]
    res = subprocess.run(
        cmd + ["solve", "--dim", "1", "--cells", "8"], capture_output=True, text=True, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "L2 error" in res.stdout


def test_solve_helmholtz_json_plot_vtk(capsys, tmp_path):
    pytest.importorskip("meshio")
    j, png, vtu = tmp_path / "r.json", tmp_path / "u.png", tmp_path / "u.vtu"
    code, out, _ = run(
        capsys, "solve", "helmholtz", "--dim", "2", "--cells", "8,6", "--order", "3",
        "--wavenumber", "4", "--kappa", "2", "--json", str(j), "--plot", str(png),
        "--vtk", str(vtu),
    )  # fmt: skip
    assert code == 0
    rec = json.loads(j.read_text())
    assert rec["problem"] == "helmholtz" and rec["shape"] == [25, 19] and rec["dofs"] == 475
    assert rec["wavenumber"] == 4.0 and rec["kappa"] == 2.0
    # u = sin(πx) sin(πy) is an eigenfunction, so u_h is, to leading order, its Ritz
    # projection: |e|_1 = c_p (Σ_d h_d^{2p} ‖∂_d^{p+1} u‖²)^{1/2} (1 + O((πh)²)), with
    # ‖∂_d^{p+1} u‖² = π^{2p+2}/4 and c_p analytic (tests/reference_fem.galerkin_constant);
    # the next term is below 0.1 (πh)² relative (tests/problems/test_eigen.py)
    h = np.array([1 / 8, 1 / 6])
    h1 = np.sqrt(galerkin_constant(3) * np.pi**8 / 4 * (h**6).sum())
    assert rec["errors"]["H1"] == pytest.approx(h1, rel=0.1 * (np.pi * h.max()) ** 2)
    # Poincaré: ‖e‖ <= |e|_1 / √λ1 with λ1 = 2π² (e = 0 on the boundary)
    assert 0 < rec["errors"]["L2"] <= rec["errors"]["H1"] / np.sqrt(2 * np.pi**2)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import meshio

    m = meshio.read(vtu)
    x, y = m.points[:, 0], m.points[:, 1]
    exact = np.sin(np.pi * x) * np.sin(np.pi * y)  # the analytic solution at the points
    np.testing.assert_allclose(m.point_data["exact"], exact, rtol=0, atol=4 * np.finfo(float).eps)
    # a loose bound on the nodal error (O(h^4): (1/6)^4 π⁴ / 4! = 3e-3 for interpolation;
    # measured 8e-7): it catches a wrong or misplaced field, not the rate
    np.testing.assert_allclose(m.point_data["u"], exact, rtol=0, atol=1e-4)
    assert sorted(os.listdir(tmp_path)) == ["r.json", "u.png", "u.vtu"]


def test_solve_heat_decays_like_the_exact_solution(capsys, tmp_path):
    code, out, _ = run(
        capsys, "solve", "heat", "--dim", "1", "--cells", "16", "--order", "2",
        "--t-end", "0.1", "--dt", "0.002", "--json", "-",
    )  # fmt: skip
    assert code == 0
    rec = json.loads(out)  # with --json - stdout is pure JSON
    assert rec["steps"] == 50 and rec["t_end"] == pytest.approx(0.1)
    # u(t) = e^{-π² t} sin(π x): the L2 error is small against ‖u(0.1)‖ ≈ 0.26
    assert rec["errors"]["L2"] < 1e-4


def test_solve_with_mesh_file(capsys):
    code, out, _ = run(capsys, "solve", "--mesh", str(MESHES / "boundary_layer.toml"))
    assert code == 0
    assert "12 × 26 cells" in out and "dofs    : 1325" in out


def test_convergence_measures_the_expected_rates(capsys, tmp_path):
    j = tmp_path / "c.json"
    code, out, _ = run(
        capsys, "convergence", "--dim", "1", "--order", "2", "--cells", "4,8,16,32",
        "--json", str(j), "--plot", str(tmp_path / "c.svg"),
    )  # fmt: skip
    assert code == 0
    rec = json.loads(j.read_text())
    assert len(rec["rows"]) == 4
    assert rec["fitted_rates"]["L2"] == pytest.approx(3.0, abs=0.15)
    assert rec["fitted_rates"]["H1"] == pytest.approx(2.0, abs=0.15)
    assert "fitted rates" in out
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")


def test_convergence_on_a_refined_mesh_file(capsys):
    code, out, _ = run(
        capsys, "convergence", "--mesh", str(MESHES / "layered_bar.toml"), "--order", "1",
        "--levels", "4", "--json", "-",
    )  # fmt: skip
    assert code == 0
    rec = json.loads(out)
    assert [r["cells"] for r in rec["rows"]] == [[8], [16], [32], [64]]
    assert rec["fitted_rates"]["L2"] == pytest.approx(2.0, abs=0.15)


def test_eig_matches_exact_and_bounds_from_above(capsys, tmp_path):
    code, out, _ = run(capsys, "eig", "--dim", "2", "--cells", "6", "--order", "3", "-k", "5",
                       "--json", "-")  # fmt: skip
    assert code == 0
    rec = json.loads(out)
    w, ex = np.array(rec["computed"]), np.array(rec["exact"])
    exact, k = box_eigenvalues([("DD", 1.0), ("DD", 1.0)], 5)  # independent of the CLI
    np.testing.assert_allclose(ex, exact, rtol=4 * np.finfo(float).eps)
    np.testing.assert_allclose(ex / np.pi**2, [2, 5, 5, 8, 10])
    # Galerkin error on a uniform mesh, Q3, h = 1/6 (tests/problems/test_eigen.py):
    # λ_h - λ = Σ_d c_p² k_d² (k_d h)^{2p} (1 + δ), |δ| <= 0.1 (kh)²; rounding is 1e-11 here
    model = galerkin_constant(3) * (k**2 * (k / 6) ** 6).sum(axis=1)
    kh = k.max(axis=1) / 6
    assert np.all(np.abs(w - exact - model) <= 0.1 * kh**2 * model + 1e-9), (w - exact, model)
    np.testing.assert_allclose(rec["relative_error"], np.abs(w - ex) / ex, rtol=1e-12)
    code, out, _ = run(capsys, "eig", "--dim", "1", "-k", "3", "--plot", str(tmp_path / "m.png"))
    assert code == 0 and (tmp_path / "m.png").exists()


def test_exact_eigenvalues_by_brute_force():
    bounds = [(0, 1), (0, 2), (1, 2.5)]
    brute = sorted(
        np.pi**2 * ((i / 1) ** 2 + (j / 2) ** 2 + (k / 1.5) ** 2)
        for i in range(1, 8) for j in range(1, 8) for k in range(1, 8)
    )  # fmt: skip
    np.testing.assert_allclose(exact_eigenvalues(bounds, 10), brute[:10])


def test_info(capsys):
    code, out, _ = run(capsys, "info", "--json", "-")
    assert code == 0
    rec = json.loads(out)
    assert rec["dependencies"]["numpy"] == np.__version__
    assert rec["cpu_count"] == os.cpu_count()
    code, out, _ = run(capsys, "info")
    assert "blas" in out and "threads" in out and "scipy" in out


@pytest.mark.parametrize("command", ["solve", "convergence", "eig", "info"])
def test_help_has_examples(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"femkron {command}" in capsys.readouterr().out.split("examples:")[1]


def test_every_subcommand_is_documented_in_the_top_help():
    text = build_parser().format_help()
    for command in ("solve", "convergence", "eig", "info"):
        assert command in text


BAD = [
    (["frobnicate"], "invalid choice"),
    (["solve", "--bogus"], "unrecognized arguments"),
    (["solve", "wave"], "invalid choice"),
    (["solve", "--cells", "x"], "--cells"),
    (["solve", "--cells", "0"], "--cells"),
    (["solve", "--order", "0"], "--order"),
    (["solve", "--kappa", "-1"], "--kappa"),
    (["solve", "--kappa", "nan"], "--kappa"),
    (["solve", "--method", "magic"], "--method"),
    (["solve", "heat", "--theta", "2"], "theta"),
    (["solve", "--t-end", "1"], "--t-end"),
    (["solve", "heat", "--wavenumber", "3"], "--wavenumber"),
    (["solve", "--mesh", "MESHES/unit_square.toml", "--cells", "4"], "--mesh"),
    (["solve", "--mesh", "TMP/none.toml"], "not found"),
    (["solve", "--mesh", "TMP/bad.toml"], "bad.toml: axis[0].cells, line 5"),
    (["solve", "--plot", "TMP/u.xyz"], "matplotlib cannot write"),
    (["solve", "--plot", "TMP/u"], "extension missing"),
    (["solve", "--plot", "TMP/missing/u.png"], "does not exist"),
    (["solve", "--vtk", "TMP/u.txt"], ".vtu"),
    (["solve", "--json", "TMP"], "is a folder"),
    (["convergence", "--cells", "8"], "at least two"),
    (["eig", "-k", "0"], "-k"),
    (["eig", "--cells", "2", "--order", "1", "-k", "5"], "k must be <= 1"),
]


@pytest.mark.parametrize("argv,what", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_status_2(capsys, tmp_path, argv, what):
    (tmp_path / "bad.toml").write_text('[[axis]]\nkind = "uniform"\na = 0\nb = 1\ncells = -2\n')
    argv = [a.replace("TMP", str(tmp_path)).replace("MESHES", str(MESHES)) for a in argv]
    # a valid --json next to the bad option must not be written either
    extra = ["--json", str(tmp_path / "out.json")] if argv[0] in ("solve", "eig") else []
    if "--json" in argv:
        extra = []
    code, out, err = run(capsys, *argv, *extra)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and what in lines[0], err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["bad.toml"]  # nothing half-written


def test_unwritable_folder_is_refused_before_work(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running with permissions that ignore read-only folders")
        code, out, err = run(capsys, "solve", "--json", str(ro / "r.json"))
        assert code == 2 and "not writable" in err and "L2 error" not in out
    finally:
        ro.chmod(0o700)
