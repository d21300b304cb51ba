"""Problem files of kind ``nonlinear_poisson`` and netCDF output.

Truth: the file's run must equal the same problem solved from Python with numpy callables
(same Newton method on the same discrete equations; both stop at ‖F‖ ≤ 1e-10 ‖F0‖, so they
differ by at most ‖J⁻¹‖ times that residual — 1e-8 of the solution's size is a safe bound),
and the manufactured solution ``u = sin πx sin πy`` of ``-∇·((1+u²)∇u) + u³ = f`` must be
approached at the rate p + 1 = 3 in L2 for Q2 (the measured rate lies in [2.8, 3.3]).  A
netCDF file written by the run is read back bit for bit.
"""

import textwrap

import numpy as np
import pytest

import femkron as fk
from femkron.cli import main
from femkron.cli.problemfile import ProblemFileError, read_problem_text
from femkron.cli.solve_file import solve_problem

xr = pytest.importorskip("xarray")

U = "sin(pi*x)*sin(pi*y)"
F = (
    f"(1 + ({U})**2)*2*pi**2*{U}"
    " - 2*pi**2*sin(pi*x)*sin(pi*y)*((cos(pi*x)*sin(pi*y))**2 + (sin(pi*x)*cos(pi*y))**2)"
    f" + ({U})**3"
)
FILE = f"""\
[domain]
kind = "box"
bounds = [[0.0, 1.0], [0.0, 1.0]]
cells = CELLS
order = 2

[equation]
kind = "nonlinear_poisson"
kappa = "1 + u**2"
reaction = "u**3"
f = "{F}"

[exact]
u = "{U}"
"""


def exact(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y)


def load(x, y):
    u = exact(x, y)
    ux = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y)
    uy = np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
    # -∇·((1+u²)∇u) = (1+u²)(-Δu) - 2u|∇u|², -Δu = 2π²u
    return (1 + u**2) * 2 * np.pi**2 * u - 2 * u * (ux**2 + uy**2) + u**3


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_nonlinear_file_matches_python_and_converges_at_rate_p_plus_1():
    errors, hs = [], []
    for n in (6, 12):
        problem = read_problem_text(FILE.replace("CELLS", str(n)), name="p.toml")
        res = solve_problem(problem)
        ref = fk.nonlinear_poisson(
            problem.V,
            load,
            kappa=lambda u: 1 + u**2,
            reaction=lambda u: u**3,
            dkappa=lambda u: 2 * u,
            dreaction=lambda u: 3 * u**2,
        )
        scale = np.abs(ref.values).max()
        np.testing.assert_allclose(res.sol.values, ref.values, rtol=0, atol=1e-8 * scale)
        assert res.sol.info.iterations == ref.info.iterations
        assert res.sol.info.derivatives == "given"  # dκ/du and dg/du by sympy
        errors.append(res.sol.error(exact, "L2"))
        hs.append(1.0 / n)
    rate = fk.convergence_rate(hs, errors)
    assert 2.8 < rate < 3.3, (errors, rate)


def test_cli_reports_newton_and_writes_netcdf_bitwise(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, FILE.replace("CELLS", "6") + '[output]\nnetcdf = "u.nc"\n')
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 0 and err == "", err
    assert "newton  :" in out and "netcdf  : u.nc" in out
    back = fk.load_solution(tmp_path / "u.nc")
    again = solve_problem(read_problem_text(FILE.replace("CELLS", "6"), name="p.toml"))
    assert back.problem == "nonlinear-poisson"
    assert back.values.tobytes() == again.sol.values.tobytes()  # deterministic, stored exactly


def test_heat_file_writes_its_snapshots_with_a_time_dimension(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    heat = """\
    [domain]
    kind = "box"
    bounds = [[0.0, 1.0]]
    cells = 4
    order = 2
    [equation]
    kind = "heat"
    f = "exp(-t)"
    [time]
    t_end = 0.5
    dt = 0.1
    u0 = "sin(pi*x)"
    [output]
    netcdf = "heat.nc"
    """
    write(tmp_path, heat)
    code, _, err = run(capsys, "solve", "p.toml")
    assert code == 0 and err == "", err
    back = fk.load_solution(tmp_path / "heat.nc")
    ref = solve_problem(read_problem_text(textwrap.dedent(heat), name="p.toml")).heat
    assert isinstance(back, fk.HeatSolution) and back.t.tobytes() == ref.t.tobytes()
    assert back.values.tobytes() == np.asarray(ref.values, dtype=float).tobytes()


BAD = [
    (
        "constant reaction",
        FILE.replace('reaction = "u**3"', 'reaction = "2"'),
        "p.toml: equation.reaction, line 10: reaction must be an expression of u",
    ),
    (
        "kappa not positive",
        FILE.replace('kappa = "1 + u**2"', "kappa = -1"),
        "p.toml: equation.kappa, line 9: kappa must be > 0",
    ),
    (
        "reaction of x",
        FILE.replace('reaction = "u**3"', 'reaction = "x*u"'),
        "p.toml: equation.reaction, line 10: 'x' is not a coordinate",
    ),
    (
        "theta",
        FILE.replace("[exact]", "[time]\ntheta = 1\n[exact]"),
        "p.toml: time, line 13: [time] is for kind 'heat'",
    ),
]


@pytest.mark.parametrize("text, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_nonlinear_files_name_file_key_and_line(capsys, tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text.replace("CELLS", "4"))
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith(f"femkron: error: {message}"), err


def test_kappa_not_finite_at_an_iterate_is_named(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # κ = 1/u is infinite at the first guess u = 0: the expression and its key are named
    write(tmp_path, FILE.replace("CELLS", "4").replace('"1 + u**2"', '"1/u"'))
    code, _, err = run(capsys, "solve", "p.toml", "--json", "r.json")
    assert code == 2 and "equation.kappa, line 9" in err and "not finite" in err, err
    assert not (tmp_path / "r.json").exists()  # nothing written


def test_outputs_refused_before_any_work(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, FILE.replace("CELLS", "4") + '[output]\nnetcdf = "missing/u.nc"\n')
    code, _, err = run(capsys, "solve", "p.toml")
    assert code == 2 and "output.netcdf" in err and "does not exist" in err, err
    write(tmp_path, FILE.replace("CELLS", "4"))
    code, _, err = run(capsys, "solve", "p.toml", "--method", "amg")
    assert code == 2 and "does not apply to kind 'nonlinear_poisson'" in err, err
    eig = """\
    [domain]
    kind = "box"
    bounds = [[0.0, 1.0]]
    cells = 4
    [equation]
    kind = "eigen"
    [output]
    netcdf = "modes.nc"
    """
    with pytest.raises(ProblemFileError, match="not kind 'eigen'"):
        read_problem_text(textwrap.dedent(eig), name="e.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


# ---- reaction–diffusion (one species) -------------------------------------------------------
UE = "(1 + 0.5*cos(pi*x)*cos(pi*y))*exp(-t)"
RD_FILE = f"""\
[domain]
kind = "box"
bounds = [[0.0, 1.0], [0.0, 1.0]]
cells = 4
order = 6

[equation]
kind = "reaction_diffusion"
diffusion = 0.1
reaction = "-u**2 - {UE} + 0.1*pi**2*cos(pi*x)*cos(pi*y)*exp(-t) + ({UE})**2"
scheme = "SCHEME"

[time]
t_end = 1.0
dt = DT
u0 = "1 + 0.5*cos(pi*x)*cos(pi*y)"

[exact]
u = "{UE}"
"""


def rd_exact(x, y, t):
    return (1 + 0.5 * np.cos(np.pi * x) * np.cos(np.pi * y)) * np.exp(-t)


def rd_reaction(u, x, y, t):
    # R = -u² + s, s = u_t - D Δu + u² of the exact solution, which has zero flux on every
    # face (the file names Neumann 0 on each: faces not named would mean u = 0)
    ue = rd_exact(x, y, t)
    lap = -(np.pi**2) * np.cos(np.pi * x) * np.cos(np.pi * y) * np.exp(-t)
    return -(u**2) - ue - 0.1 * lap + ue**2


NEUMANN = "".join(f"{face} = {{ neumann = 0 }}\n" for face in ("left", "right", "bottom", "top"))


@pytest.mark.parametrize("scheme, order", [("imex-euler", 1), ("sbdf2", 2)])
def test_reaction_diffusion_file_matches_python_and_measures_the_order(scheme, order):
    # spatial error of Q6 on 4 cells ~1e-8 ≪ the time errors ≥ 1e-6: each halving shows the
    # scheme's order within 0.2 (the next term O(dt^{p+1}) moves the measured rate by O(dt))
    errors = []
    for dt in (0.025, 0.0125):
        text = RD_FILE.replace("SCHEME", scheme).replace("DT", repr(dt)) + "[bc]\n" + NEUMANN
        problem = read_problem_text(text, name="rd.toml")
        res = solve_problem(problem)
        ref = fk.reaction_diffusion(
            problem.V,
            lambda x, y: rd_exact(x, y, 0.0),
            0.1,
            rd_reaction,
            t_end=1.0,
            dt=dt,
            scheme=scheme,
            bc=fk.Neumann(0.0),
            snapshots=6,
        )
        # the same steps on the same data: equal to rounding of the expressions (1e-13)
        np.testing.assert_allclose(res.heat.values, ref.values, rtol=0, atol=1e-12)
        errors.append(np.abs(res.sol.values - problem.V.interpolate(res.exact)).max())
    rate = np.log2(errors[0] / errors[1])
    assert abs(rate - order) < 0.2, (errors, rate)


def test_reaction_diffusion_cli_writes_netcdf(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = RD_FILE.replace("SCHEME", "sbdf2").replace("DT", "0.1").replace("order = 6", "order = 2")
    write(tmp_path, text + "[bc]\n" + NEUMANN + '[output]\nnetcdf = "rd.nc"\n')
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 0 and err == "", err
    assert "10 of dt = 0.1, sbdf2" in out
    back = fk.load_solution(tmp_path / "rd.nc")
    assert type(back).__name__ == "ReactionDiffusionSolution" and back.scheme == "sbdf2"
    ref = solve_problem(read_problem_text(text + "[bc]\n" + NEUMANN, name="p.toml")).heat
    assert back.values.tobytes() == np.asarray(ref.values, dtype=float).tobytes()


def test_reaction_diffusion_file_errors():
    base = RD_FILE.replace("SCHEME", "sbdf2").replace("DT", "0.1")
    with pytest.raises(ProblemFileError, match=r"time\.theta, line \d+: unknown key 'theta'"):
        read_problem_text(base.replace("dt = 0.1", "dt = 0.1\ntheta = 1"), name="p.toml")
    with pytest.raises(ProblemFileError, match=r"equation\.scheme.*'sbdf2', 'imex-euler'"):
        read_problem_text(base.replace('"sbdf2"', '"rk4"'), name="p.toml")
    with pytest.raises(ProblemFileError, match=r"needs key 'reaction'"):
        read_problem_text(base.replace("reaction = ", "# "), name="p.toml")
    with pytest.raises(ProblemFileError, match=r"needs a \[time\] section"):
        read_problem_text(base.split("[time]")[0], name="p.toml")


def test_newton_without_a_root_fails_with_its_history_and_writes_nothing(
    capsys, tmp_path, monkeypatch
):
    # Bratu -Δu = 10 eᵘ has no solution (λ_c ≈ 6.81): trial steps overflow exp(u), which the
    # line search must shorten (as for a numpy function), ending in ConvergenceError with the
    # residual history; below the fold (λ = 6) the same file converges
    monkeypatch.chdir(tmp_path)
    text = """\
    [domain]
    kind = "box"
    bounds = [[0.0, 1.0], [0.0, 1.0]]
    cells = 8
    [equation]
    kind = "nonlinear_poisson"
    reaction = "-10*exp(u)"
    [output]
    netcdf = "u.nc"
    """
    write(tmp_path, text)
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 2 and out == "" and "Newton" in err and "last ‖F‖" in err, err
    assert "not finite" not in err  # the overflow was backtracked from, not reported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]
    write(tmp_path, text.replace("-10*", "-6*"))
    code, out, err = run(capsys, "solve", "p.toml")
    assert code == 0 and err == "" and (tmp_path / "u.nc").exists(), err
