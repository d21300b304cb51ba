"""Problem files of the heat equation whose load and boundary data use the time ``t``.

Truth: ``u = cos 2t (1 + x² + y²) + sin t · x y`` lies in the Q2 space at every time, so
the semi-discrete solution is exact and the error at ``t_end`` is Crank–Nicolson's alone,
``C dt²``; the file's run must equal the same problem solved from Python (same arithmetic),
and halving ``dt`` must divide the error by 4.
"""

import textwrap

import numpy as np
import pytest

import femkron as fk
from femkron.cli import main
from femkron.cli.problemfile import ProblemFileError, read_problem_text
from femkron.cli.solve_file import solve_problem

EXACT = "cos(2*t)*(1 + x**2 + y**2) + sin(t)*x*y"
FILE = f"""\
[domain]
kind = "box"
bounds = [[0.0, 1.0], [0.0, 1.0]]
cells = 3
order = 2

[equation]
kind = "heat"
f = "-2*sin(2*t)*(1 + x**2 + y**2) + cos(t)*x*y - 4*cos(2*t)"

[bc]
left = {{ dirichlet = "{EXACT}" }}
right = {{ dirichlet = "{EXACT}" }}
bottom = {{ dirichlet = "{EXACT}" }}
top = {{ neumann = "2*y*cos(2*t) + x*sin(t)" }}

[time]
t_end = 1.0
dt = DT
u0 = "1 + x**2 + y**2"

[exact]
u = "{EXACT}"
"""


def exact(x, y, t):
    return np.cos(2 * t) * (1 + x**2 + y**2) + np.sin(t) * x * y


def test_time_dependent_data_in_a_problem_file_match_python_and_converge():
    errors = []
    for dt in (0.1, 0.05):
        problem = read_problem_text(FILE.replace("DT", repr(dt)), name="p.toml")
        res = solve_problem(problem)
        ref = fk.heat(
            problem.V,
            lambda x, y: 1 + x**2 + y**2,
            t_end=1.0,
            dt=dt,
            f=lambda x, y, t: (
                -2 * np.sin(2 * t) * (1 + x**2 + y**2) + np.cos(t) * x * y - 4 * np.cos(2 * t)
            ),
            bc={
                "left": fk.Dirichlet(exact),
                "right": fk.Dirichlet(exact),
                "bottom": fk.Dirichlet(exact),
                "top": fk.Neumann(lambda x, y, t: 2 * y * np.cos(2 * t) + x * np.sin(t)),
            },
            snapshots=6,
        )
        # the same scheme on the same data: equal up to rounding of the expressions (1e-13)
        np.testing.assert_allclose(res.heat.values, ref.values, rtol=0, atol=1e-12)
        errors.append(np.abs(res.sol.values - problem.V.interpolate(res.exact)).max())
    rate = np.log2(errors[0] / errors[1])
    assert abs(rate - 2) < 0.1, (errors, rate)


def test_the_cli_runs_it_without_a_dirichlet_mismatch_warning(capsys, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(textwrap.dedent(FILE.replace("DT", "0.05")))
    code = main(["solve", str(path)])
    out = capsys.readouterr()
    assert code == 0 and out.err == "", out.err
    assert "warning" not in out.out.lower()


def test_t_stays_refused_where_the_equation_is_stationary():
    text = FILE.replace('kind = "heat"', 'kind = "poisson"').split("[time]")[0]
    with pytest.raises(ProblemFileError, match="'t' is not a coordinate"):
        read_problem_text(text, name="p.toml")
