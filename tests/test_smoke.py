import numpy as np

import femkron as fk
from femkron.cli import main


def test_poisson_2d_runs_and_converges():
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)  # noqa: E731
    errs = []
    for n in (4, 8, 16):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        errs.append(fk.poisson(V, lambda x, y: 2 * np.pi**2 * ex(x, y)).error(ex))
    assert abs(fk.convergence_rate([1 / 4, 1 / 8, 1 / 16], errs) - 3) < 0.2


def test_cli_solve_default(capsys):
    assert main(["solve"]) == 0
    out = capsys.readouterr().out
    assert "L2 error" in out and "H1 error" in out and "dofs" in out
