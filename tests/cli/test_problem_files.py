"""Problem files: ``femkron solve PROBLEM.toml`` solves what the same Python script solves,
every sample in examples/problems runs, schema errors and unsafe expressions are one line
naming file, key and line, and future domain kinds are refused as not available yet."""

import json
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import femkron as fk
from femkron.cli import main
from femkron.cli.problemfile import (
    AVAILABLE_DOMAINS,
    DOMAIN_KINDS,
    ProblemFileError,
    read_problem,
)
from femkron.cli.solve_file import solve_problem

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "examples" / "problems").glob("*.toml"))

MIXED = """\
[domain]
kind = "box"
bounds = [[0.0, 1.0], [0.0, 2.0]]

[discretization]
cells = [6, 10]
order = 2

[equation]
kind = "poisson"
kappa = "1 + x*y"
f = "-x**3 - y*(2*x*y + cos(x)) - (2*y - sin(x))*(x*y + 1)"

[bc]
left = { dirichlet = "x**2*y + sin(x)" }
top = { dirichlet = "x**2*y + sin(x)" }
right = { neumann = "(x*y + 1)*(2*x*y + cos(x))" }
bottom = { robin = { alpha = 2.0, g = "2*x**2*y - x**2*(x*y + 1) + 2*sin(x)" } }

[exact]
u = "x**2*y + sin(x)"
"""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# ---- the same problem from a file and from Python ------------------------------------------
def python_mixed():
    """MIXED written as a Python script: u = x²y + sin x, κ = 1 + xy on [0,1]×[0,2]."""
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(6, 10), order=2)
    u = lambda x, y: x**2 * y + np.sin(x)
    ux = lambda x, y: 2 * x * y + np.cos(x)
    uy = lambda x, y: x**2 + 0 * y
    k = lambda x, y: 1 + x * y
    f = lambda x, y: -(y * ux(x, y) + k(x, y) * (2 * y - np.sin(x)) + x * uy(x, y))
    bc = {
        "left": fk.Dirichlet(u),
        "top": fk.Dirichlet(u),
        "right": fk.Neumann(lambda x, y: k(x, y) * ux(x, y)),
        "bottom": fk.Robin(2.0, lambda x, y: -k(x, y) * uy(x, y) + 2 * u(x, y)),
    }
    sol = fk.poisson(V, f, kappa=k, bc=bc)
    return sol, sol.error(u, "L2"), sol.error(u, "H1", grad=(ux, uy))


def test_box_with_variable_kappa_and_mixed_faces_matches_python(capsys, tmp_path):
    path = write(tmp_path, MIXED)
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "solve", path, "--json", out_json)
    assert code == 0 and err == "", err
    rec = json.loads(out_json.read_text())
    sol, l2, h1 = python_mixed()
    # the same discrete problem solved to rtol 1e-10 twice: errors agree far below their size
    assert rec["errors"]["L2"] == pytest.approx(l2, rel=1e-6)
    assert rec["errors"]["H1"] == pytest.approx(h1, rel=1e-6)
    assert rec["dofs"] == sol.V.ndofs == 13 * 21 and rec["equation"] == "poisson"
    assert "L2 error" in out and "Robin(2.0" in out and "Neumann(" in out
    # the dof values too, through the same reader and solver
    res = solve_problem(read_problem(path))
    scale = np.abs(sol.values).max()
    assert np.abs(res.sol.values - sol.values).max() < 1e-8 * scale
    # and the error is the discretisation error of Q2: small, not zero
    assert 1e-7 < l2 < 1e-3


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_every_sample_problem_runs(sample, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "solve", sample, "--json", out_json)
    assert code == 0 and err == "", err
    assert "warning" not in out
    rec = json.loads(out_json.read_text())
    if rec["equation"] == "eigen":
        # drum [0,1]×[0,1.5], Q3: computed λ are upper bounds, close to π²(m² + n²/1.5²)
        exact = sorted(np.pi**2 * (m**2 + n**2 / 2.25) for m in range(1, 5) for n in range(1, 5))
        w = np.array(rec["eigenvalues"])
        assert len(w) == 6 and np.all(w >= np.array(exact[:6]) * (1 - 1e-12))
        assert np.all(np.abs(w / exact[:6] - 1) < 1e-4)
    else:
        assert 0 < rec["errors"]["L2"] < 1e-3 and 0 < rec["errors"]["H1"] < 2e-2


def test_at_least_three_samples_cover_the_equations():
    kinds = {read_problem(s).equation for s in SAMPLES}
    assert len(SAMPLES) >= 3 and {"poisson", "heat", "eigen"} <= kinds


def test_outputs_from_the_file_and_plot_error(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, MIXED + '\n[output]\nplot = "u.png"\njson = "r.json"\n')
    code, out, err = run(capsys, "solve", path, "--plot-error", "err.png")
    assert code == 0, err
    for name in ("u.png", "r.json", "err.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_plot_error_of_the_built_in_problem(capsys, tmp_path):
    code, _, err = run(capsys, "solve", "--cells", "4", "--plot-error", tmp_path / "e.png")
    assert code == 0 and err == "" and (tmp_path / "e.png").exists()


def test_plot_error_needs_an_exact_solution(capsys, tmp_path):
    path = write(tmp_path, MIXED.split("[exact]")[0])
    code, _, err = run(capsys, "solve", path, "--plot-error", tmp_path / "e.png")
    assert code == 2 and "--plot-error needs an exact solution" in err
    assert not (tmp_path / "e.png").exists()


# ---- kappa as an expression on the built-in problem -----------------------------------------
def test_builtin_solve_takes_kappa_as_an_expression(capsys, tmp_path):
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "solve", "--cells", "8", "--kappa", "1 + x*y", "--json", out_json)
    assert code == 0 and err == ""
    rec = json.loads(out_json.read_text())
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    f = lambda x, y: (
        (1 + x * y) * 2 * np.pi**2 * ex(x, y)
        - np.pi
        * (y * np.cos(np.pi * x) * np.sin(np.pi * y) + x * np.sin(np.pi * x) * np.cos(np.pi * y))
    )
    sol = fk.poisson(V, f, kappa=lambda x, y: 1 + x * y)
    assert rec["errors"]["L2"] == pytest.approx(sol.error(ex), rel=1e-6)
    assert rec["kappa"] == "1 + x*y" and "κ = 1 + x*y" in out


@pytest.mark.parametrize(
    "argv, what",
    [
        (["--kappa", "z"], "--kappa: 'z' is not a coordinate"),
        (["--dim", "1", "--kappa", "1 + y"], "--kappa: 'y' is not a coordinate"),
        (["--kappa", "x - 0.5"], "> 0"),
        (["--kappa", ""], "--kappa must be"),
        (["heat", "--kappa", "1 + x"], "constant κ"),
    ],
)
def test_builtin_kappa_expression_errors(capsys, argv, what):
    code, out, err = run(capsys, "solve", "--cells", "4", *argv)
    assert code == 2 and what in err and len(err.splitlines()) == 1


# ---- bad input: one line naming file, key and line ------------------------------------------
SCHEMA = [
    ("unknown section", MIXED + "[solver]\nx = 1\n", "p.toml: solver, line 22: unknown section"),
    (
        "unknown face",
        MIXED.replace("left =", "outer ="),
        "p.toml: bc.outer, line 15: unknown face 'outer'",
    ),
    (
        "missing f",
        MIXED.replace('f = "-x**3', '# f = "-x**3'),
        "p.toml: equation, line 9: kind 'poisson' needs key 'f'",
    ),
    (
        "cells text",
        MIXED.replace("cells = [6, 10]", 'cells = "8"'),
        "p.toml: discretization.cells, line 6: cells must be an integer",
    ),
    (
        "order float",
        MIXED.replace("order = 2", "order = 2.5"),
        "p.toml: discretization.order, line 7: order must be an integer",
    ),
    (
        "kappa bool",
        MIXED.replace('kappa = "1 + x*y"', "kappa = true"),
        "p.toml: equation.kappa, line 11: must be a number or an expression",
    ),
    (
        "bounds",
        MIXED.replace("[0.0, 2.0]]", "[2.0, 0.0]]"),
        "p.toml: domain.bounds, line 3: each pair needs finite a < b",
    ),
    (
        "alpha text",
        MIXED.replace("alpha = 2.0", 'alpha = "two"'),
        "p.toml: bc.bottom.robin.alpha, line 18: alpha must be a number",
    ),
    (
        "two conditions",
        MIXED.replace(
            'left = { dirichlet = "x**2*y + sin(x)" }', "left = { dirichlet = 0, neumann = 1 }"
        ),
        "p.toml: bc.left, line 15: left must be one condition",
    ),
    (
        "unknown condition",
        MIXED.replace("neumann =", "flux ="),
        "p.toml: bc.right.flux, line 17: unknown condition 'flux'",
    ),
    (
        "unknown key",
        MIXED.replace('kind = "poisson"', 'kind = "poisson"\nwavenumber = 3'),
        "p.toml: equation.wavenumber, line 11: unknown key 'wavenumber' for kind 'poisson'",
    ),
    (
        "unknown kind",
        MIXED.replace('kind = "poisson"', 'kind = "wave"'),
        "p.toml: equation.kind, line 10: kind must be one of",
    ),
    (
        "nonlinear kappa of x",  # κ(u) of the solution only
        MIXED.replace('kind = "poisson"', 'kind = "nonlinear_poisson"'),
        "p.toml: equation.kappa, line 11: 'x' is not a coordinate",
    ),
    ("no domain", MIXED.replace("[domain]", "[domian]"), "p.toml: domian, line 1: unknown section"),
    (
        "time for poisson",
        MIXED + "[time]\nt_end = 1.0\n",
        "p.toml: time, line 22: [time] is for kind 'heat'",
    ),
    (
        "netcdf extension",
        MIXED + '[output]\nnetcdf = "u.txt"\n',
        "p.toml: output.netcdf, line 23: netcdf must name a .nc file",
    ),
    (
        "periodic face",
        MIXED.replace('left = { dirichlet = "x**2*y + sin(x)" }', "left = { periodic = true }"),
        "p.toml: bc.left, line 15: periodic is set on an axis",
    ),
    (
        "z in 2D",
        MIXED.replace('kappa = "1 + x*y"', 'kappa = "1 + z"'),
        "p.toml: equation.kappa, line 11: 'z' is not a coordinate",
    ),
    (
        "t in poisson",
        MIXED.replace('top = { dirichlet = "x**2*y + sin(x)" }', 'top = { dirichlet = "t" }'),
        "p.toml: bc.top.dirichlet, line 16: 't' is not a coordinate",
    ),
    ("not toml", "[domain\n", "p.toml: not valid TOML"),
    (
        "mesh cells",
        MIXED.replace('kind = "box"\nbounds = [[0.0, 1.0], [0.0, 2.0]]', 'mesh = "m.toml"'),
        "p.toml: discretization.cells, line 5: the mesh file sets the cells",
    ),
    (
        "mesh missing",
        MIXED.replace(
            'kind = "box"\nbounds = [[0.0, 1.0], [0.0, 2.0]]', 'mesh = "none.toml"'
        ).replace("cells = [6, 10]\n", ""),
        "p.toml: domain.mesh, line 2: ",
    ),
]


@pytest.mark.parametrize("text, message", [s[1:] for s in SCHEMA], ids=[s[0] for s in SCHEMA])
def test_schema_errors_name_file_key_and_line(capsys, tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"femkron: error: {message}"), err


@pytest.mark.parametrize("kind", [k for k in DOMAIN_KINDS if k not in AVAILABLE_DOMAINS])
def test_future_domain_kinds_are_refused_as_not_available_yet(capsys, tmp_path, kind):
    path = write(tmp_path, MIXED.replace('kind = "box"', f'kind = "{kind}"'))
    code, _, err = run(capsys, "solve", path)
    assert code == 2 and len(err.splitlines()) == 1
    assert f"domain.kind, line 2: the domain kind '{kind}' is not available yet" in err


def test_options_the_file_sets_are_refused(capsys, tmp_path):
    path = write(tmp_path, MIXED)
    code, _, err = run(capsys, "solve", path, "--cells", "4", "--order", "3")
    assert code == 2 and "--cells, --order: the problem file sets these" in err


def test_missing_problem_file(capsys, tmp_path):
    code, _, err = run(capsys, "solve", tmp_path / "none.toml")
    assert code == 2 and "none.toml: problem file not found" in err


def test_exact_solution_against_the_dirichlet_data_warns_with_the_largest_mismatch(
    capsys, tmp_path
):
    text = MIXED.replace('top = { dirichlet = "x**2*y + sin(x)" }', 'top = { dirichlet = "0" }')
    path = write(tmp_path, text)
    code, out, err = run(capsys, "solve", path)
    assert code == 0 and err == ""
    warnings = [line for line in out.splitlines() if "warning" in line]
    # u = x²y + sin x on y = 2: largest at x = 1, 2 + sin 1
    assert len(warnings) == 1
    assert "exact.u, line 21" in warnings[0] and "face 'top'" in warnings[0]
    assert f"largest mismatch {2 + np.sin(1.0):.3g} at x=1, y=2" in warnings[0]


def test_a_face_left_to_the_default_is_checked_too(capsys, tmp_path):
    text = MIXED.replace('left = { dirichlet = "x**2*y + sin(x)" }\n', "")
    path = write(tmp_path, text.replace('u = "x**2*y + sin(x)"', 'u = "x**2*y + sin(x) + 1"'))
    code, out, _ = run(capsys, "solve", path)
    assert code == 0
    assert "face 'left' (not in [bc]: u = 0 there): largest mismatch" in out


def test_non_finite_data_are_reported_with_the_point(capsys, tmp_path):
    path = write(tmp_path, MIXED.replace('kappa = "1 + x*y"', 'kappa = "log(x - 0.5)"'))
    code, _, err = run(capsys, "solve", path)
    assert code == 2 and len(err.splitlines()) == 1
    assert "equation.kappa, line 11: 'log(x - 0.5)' is not finite (nan) at x=" in err


# ---- the injection suite --------------------------------------------------------------------
INJECTIONS = [
    "__import__('os').system('touch PWNED')",
    "open('PWNED', 'w').write('x')",
    "().__class__.__base__.__subclasses__()",
    "x.__class__",
    "lambda: open('PWNED', 'w')",
    "10**10**10",
    "9**9**9**9",
    "x[0]",
    "__builtins__",
    "[open('PWNED', 'w') for _ in 'a']",
    "getattr(x, '__class__')",
    "eval(\\\"open('PWNED', 'w')\\\")",
]


@pytest.mark.parametrize("expr", INJECTIONS)
@pytest.mark.parametrize("key", ["f", "kappa"])
def test_injections_in_a_problem_file_are_refused_without_side_effect(
    capsys, tmp_path, monkeypatch, expr, key
):
    monkeypatch.chdir(tmp_path)
    line = {"f": 12, "kappa": 11}[key]
    text = MIXED.replace(f'{key} = "', f'{key} = "{expr} + ', 1)
    write(tmp_path, text)
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"femkron: error: p.toml: equation.{key}, line {line}: "), err
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("expr", INJECTIONS[:6])
def test_injections_on_the_command_line_are_refused_without_side_effect(
    capsys, tmp_path, monkeypatch, expr
):
    monkeypatch.chdir(tmp_path)
    expr = expr.replace("\\", "")
    for argv in (
        ["solve", "--cells", "4", "--kappa", expr],
        ["mms", "--exact", expr],
        ["mms", "--exact", "x", "--kappa", expr],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and len(err.splitlines()) == 1, (argv, err)
        assert not (tmp_path / "PWNED").exists()


def test_an_injection_in_a_separate_process(tmp_path):
    write(tmp_path, MIXED.replace('f = "', "f = \"__import__('os').system('touch PWNED') + ", 1))
    res = subprocess.run(
        [sys.executable, "-m", "femkron.cli", "solve", "p.toml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "'.system'" in res.stderr
    assert not (tmp_path / "PWNED").exists()


def test_read_problem_error_is_a_value_error():
    with pytest.raises(ValueError):
        read_problem(ROOT / "no-such-file.toml")
    assert issubclass(ProblemFileError, fk.FemkronValueError)
