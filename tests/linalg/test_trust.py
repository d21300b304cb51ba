"""No silent wrong answers and no oversized runs: each case gives an accurate answer or says
clearly that it could not, and a run too large for the memory limit is refused at once."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import femkron as fk
from femkron._threads import SERIAL_BELOW, threads_for
from femkron.linalg.solve import make_solver


# ---- finding 3: the whole peak is estimated before anything large is allocated ----------
def test_half_a_billion_dofs_are_refused_in_under_a_second():
    V = fk.TensorSpace.box([(0, 1)] * 3, cells=800, order=1)  # 801³ ≈ 5.1·10^8 dofs
    t0 = time.perf_counter()
    with pytest.raises(fk.ResourceError) as err:
        fk.poisson(V, 1.0)
    assert time.perf_counter() - t0 < 1.0
    msg = str(err.value)
    assert "513922401 dofs" in msg and "GiB at its peak" in msg and "fewer cells" in msg
    assert err.value.nbytes > err.value.limit


def test_cli_refuses_an_oversized_run_in_one_line():
    run = subprocess.run(
        [sys.executable, "-m", "femkron.cli", "solve", "--dim", "3", "--cells", "400"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "at its peak" in lines[0] and "dofs fit" in lines[0]


def test_one_dimensional_problems_never_go_dense():
    # 40 001 dofs: a dense 1D eigenproblem would need 51 GB; a banded LU needs a few MB
    V = fk.TensorSpace.box([(0, 1)], cells=20000, order=2)
    old = fk.set_memory_limit(256 * 2**20)
    try:
        sol = fk.poisson(V, lambda x: np.pi**2 * np.sin(np.pi * x))
    finally:
        fk.set_memory_limit(old)
    assert sol.info.method == "direct"
    # discretisation error C h^3 with h = 5e-5 is far below rounding; the solve's own error
    # is ε·cond ≈ 2e-16 · (2/h)² ≈ 3e-7 relative at worst
    assert sol.error(lambda x: np.sin(np.pi * x), "max") < 1e-6


def test_fdm_with_a_huge_dense_axis_is_refused_before_allocating():
    nodes = np.concatenate([[0.0], np.cumsum(np.linspace(1.0, 2.0, 6000))])
    Vx = fk.Space1D(fk.Mesh1D(nodes / nodes[-1]), order=1)  # non-uniform: no sine transform
    V = fk.TensorSpace([Vx, fk.Space1D(fk.Mesh1D.uniform(0, 1, 2), 1)])
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    old = fk.set_memory_limit(512 * 2**20)
    try:
        t0 = time.perf_counter()
        with pytest.raises(fk.ResourceError, match="memory limit"):
            make_solver(A, "fdm")
        assert time.perf_counter() - t0 < 1.0
        # auto does not diagonalize a 5999-dof axis densely
        assert make_solver(A).info.method != "fdm"
    finally:
        fk.set_memory_limit(old)


@pytest.mark.parametrize("value", ["inf", "1e400", "-1", "0", "nan", "lots"])
def test_bad_memory_limit_in_the_environment_is_named(value, monkeypatch):
    monkeypatch.setenv("FEMKRON_MEMORY_LIMIT", value)
    with pytest.raises(fk.FemkronValueError, match="FEMKRON_MEMORY_LIMIT") as err:
        fk.memory_limit()
    assert err.value.reason == "bad-environment"


def test_bad_memory_limit_in_the_environment_is_one_cli_line():
    env = dict(os.environ, FEMKRON_MEMORY_LIMIT="nan")
    run = subprocess.run(
        [sys.executable, "-m", "femkron.cli", "solve", "--cells", "4"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "FEMKRON_MEMORY_LIMIT" in run.stderr


# ---- finding 4: an accurate answer or a clear refusal ----------------------------------
def test_cg_at_a_helmholtz_resonance_is_judged_by_its_true_residual():
    # on [0, π]² the Dirichlet eigenvalues of the discrete Laplacian sit near 2, 5, 5, 8;
    # k² equal to the lowest discrete one makes the operator singular to rounding
    V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=8, order=2)
    w, _ = fk.eigen(V, k=1)
    with pytest.raises((fk.ConvergenceError, fk.FemkronValueError)):
        fk.helmholtz(V, 1.0, wavenumber=float(np.sqrt(w[0])), method="cg", maxiter=500)
    system = fk.LinearSystem(V, 1.0, sigma=-float(w[0]))
    s = make_solver(system.A, "cg", maxiter=500, raise_on_failure=False)
    s.solve(system.b)
    assert s.info.converged is False and s.info.residual > 1e-10


def strongly_graded_space(cells=72, ratio=1.5):
    h = ratio ** np.arange(cells)
    nodes = np.concatenate([[0.0], np.cumsum(h / h.sum())])
    return fk.TensorSpace(
        [fk.Space1D(fk.Mesh1D(nodes), 2), fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), 2)]
    )


def test_auto_on_a_strongly_graded_dirichlet_problem_answers_accurately():
    V = strongly_graded_space()  # cells from 1e-13 to 0.33: ‖A‖‖A⁻¹‖ ≈ 1e14
    u = lambda x, y: x * (1 - x) * y * (1 - y)  # noqa: E731
    f = lambda x, y: 2 * y * (1 - y) + 2 * x * (1 - x)  # noqa: E731
    sol = fk.poisson(V, f)
    # fdm's 1D eigenproblem breaks down (zero eigenvalues to rounding): auto hands over
    assert sol.info.method == "direct" and sol.info.fallback == "lost-accuracy"
    # Q2 reproduces u exactly; what remains is rounding amplified by the diagonally scaled
    # condition number (about 2e3 here): 1e3·ε·2e3 ≈ 4e-10
    assert sol.error(u, "max") < 1e-9, sol.info


def test_low_rank_path_at_contrast_1e8_is_accurate_or_refused():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    kappa = lambda x, y: 10.0 ** (8 * np.sin(3 * x * y) ** 2)  # noqa: E731
    reference = fk.poisson(V, 1.0, kappa=kappa, coefficient="assembled", method="direct")
    try:
        sol = fk.poisson(V, 1.0, kappa=kappa, coefficient="lowrank", method="direct")
    except fk.FemkronValueError as err:
        assert err.reason == "expansion-inaccurate"
    else:  # the operator is within 1e-8 relative: so is the solution (times its condition)
        rel = np.abs(sol.values - reference.values).max() / np.abs(reference.values).max()
        assert sol.coefficient["error"] <= 1e-8 and rel < 1e-6
    easy = fk.poisson(V, 1.0, kappa=lambda x, y: 1 + x * y, coefficient="lowrank")
    assert easy.coefficient["error"] < 1e-12  # rank 2 is exact


def equispaced(order):
    return fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=order, nodes="equispaced")


def test_order_20_equispaced_fdm_says_it_cannot():
    V = equispaced(20)  # the nodal basis has a condition number near 1e18
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)  # noqa: E731
    f = lambda x, y: 2 * np.pi**2 * ex(x, y)  # noqa: E731
    system = fk.LinearSystem(V, f)
    with pytest.raises(fk.StructureError) as err:
        make_solver(system.A, "fdm").solve(system.b)
    assert err.value.reason == "lost-accuracy"
    for method in ("auto", "fdm", "direct"):
        with pytest.raises(fk.FemkronError):
            fk.poisson(V, f, method=method)


def test_moderate_equispaced_order_stays_accurate():
    V = equispaced(8)
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)  # noqa: E731
    sol = fk.poisson(V, lambda x, y: 2 * np.pi**2 * ex(x, y))
    assert sol.info.method == "fdm"
    # Q8 on 2 cells: discretisation error about (h/2)^9/9! ≈ 5e-9 times |u^(9)| ≈ π^9 ≈ 3e4
    assert sol.error(ex, "max") < 1e-3 * 3e4 * 5e-9 * 1e3


# ---- finding 8: threads chosen by problem size ----------------------------------------
def test_small_solves_run_blas_on_one_thread():
    from threadpoolctl import threadpool_info

    with threads_for(SERIAL_BELOW - 1):
        inside = [lib["num_threads"] for lib in threadpool_info()]
    assert inside and all(n == 1 for n in inside)
    before = [lib["num_threads"] for lib in threadpool_info()]
    with threads_for(SERIAL_BELOW):
        assert [lib["num_threads"] for lib in threadpool_info()] == before


def test_vtk_export_counts_points_and_cells_before_writing(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=100, order=2)  # 40 401 points
    old = fk.set_memory_limit(2 * 2**20)
    try:
        with pytest.raises(fk.ResourceError, match="points"):
            fk.write_vtk(str(tmp_path / "u.vtu"), V, {"u": np.zeros(V.ndofs)})
    finally:
        fk.set_memory_limit(old)
    assert not list(tmp_path.iterdir())
