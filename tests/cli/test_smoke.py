"""Smoke tests: the installed ``femkron`` command run as a newcomer runs it (a subprocess, as
in the README's Quickstart), and a 2D Poisson solve end to end."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from reference_fem import galerkin_constant, ritz_l2_constant

import femkron as fk
from femkron.cli import main


def femkron_command():
    """The console script installed with the package (next to this Python, or on PATH)."""
    here = Path(sys.executable).parent
    for name in ("femkron", "femkron.exe", "Scripts/femkron.exe"):
        if (here / name).exists():
            return str(here / name)
    found = shutil.which("femkron")
    if found is None:
        pytest.fail("the `femkron` command is not installed: run `pip install -e .[test]`")
    return found


def run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="2")
    return subprocess.run(
        [femkron_command(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def number(label, text):
    m = re.search(rf"{label}\s*:\s*([0-9.eE+-]+)", text)
    assert m, f"no {label!r} line in:\n{text}"
    return float(m.group(1))


def ritz_h1_error(p, h):
    """|u - u_h|_1 of the built-in problem u = sin(πx) sin(πy) on the unit square, Q_p on a
    uniform mesh: f = 2π² u, so u_h is the Ritz projection of u, whose seminorm error is
    c_p h^p (Σ_d ‖∂_d^{p+1} u‖²)^{1/2} (1 + O((πh)²)), ‖∂_d^{p+1} u‖² = π^{2p+2}/4 and
    c_p = p! / ((2p)! √(2p + 1)) (the 1D L2 projection of u^{(p)} onto degree p - 1;
    tests/reference_fem.galerkin_constant)."""
    return np.sqrt(galerkin_constant(p) * np.pi ** (2 * p + 2) / 2) * h**p


def test_femkron_solve_as_in_the_quickstart(tmp_path, capsys):
    # from an unrelated directory, exactly the README's command
    out = run("solve", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    text = out.stdout
    assert number("dofs", text) == 65 * 65  # Q2 on 32 × 32 cells
    assert re.search(r"method\s*:\s*(fdm|direct|cg|amg)", text)
    assert number("time", text) >= 0
    l2, h1 = number("L2 error", text), number("H1 error", text)
    # the H1 seminorm error against its analytic asymptotics: the next term is below
    # 0.1 (πh)² relative (tests/problems/test_eigen.py), the print rounds to 4 digits (1e-3)
    h = 1 / 32
    assert h1 == pytest.approx(ritz_h1_error(2, h), rel=0.1 * (np.pi * h) ** 2 + 1e-3)
    # the L2 error against its analytic asymptotics C_p h^{p+1} (Σ_d ‖∂_d^{p+1} u‖²)^{1/2}
    # (tests/reference_fem.ritz_l2_constant), the same next-term and print allowances
    l2_model = ritz_l2_constant(2) * h**3 * np.sqrt(2 * np.pi**6 / 4)
    assert l2 == pytest.approx(l2_model, rel=0.1 * (np.pi * h) ** 2 + 1e-3)
    # and measured rates: halving h from 16 cells divides them by 2³ and 2² (the O(h²) next
    # term moves a measured rate by < 0.1)
    assert main(["solve", "--cells", "16", "--json", "-"]) == 0
    coarse = json.loads(capsys.readouterr().out)["errors"]
    assert abs(np.log2(coarse["L2"] / l2) - 3) < 0.1, (coarse, l2)
    assert abs(np.log2(coarse["H1"] / h1) - 2) < 0.1, (coarse, h1)


def test_femkron_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"femkron {fk.__version__}"


def test_femkron_bad_argument_is_one_line_and_status_2():
    out = run("solve", "--order", "0")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "order" in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_poisson_2d_runs_and_converges():
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)  # noqa: E731
    errs = []
    for n in (4, 8, 16):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        errs.append(fk.poisson(V, lambda x, y: 2 * np.pi**2 * ex(x, y)).error(ex))
    assert abs(fk.convergence_rate([1 / 4, 1 / 8, 1 / 16], errs) - 3) < 0.2


def test_cli_solve_in_process(capsys):
    assert main(["solve", "--cells", "8"]) == 0
    out = capsys.readouterr().out
    assert "L2 error" in out and "H1 error" in out and "dofs" in out
