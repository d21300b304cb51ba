"""The solver home: make_solver's choices, reuse, fallbacks as codes, and true residuals.

References are independent of the method under test: a dense ``numpy.linalg.solve`` of
``A.toarray()``.  Tolerances: a direct or fdm solve of these small SPD systems (condition
numbers below 1e4) is backward stable, so ``‖x - x*‖/‖x*‖ <= c·ε·κ`` with ``κ <= 1e4``: 1e-9
leaves a margin of 1e2 over ``ε κ ≈ 2e-12``; an iterative solve stopped at ``rtol`` has
``‖x - x*‖/‖x*‖ <= κ·rtol``.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import femkron as fk
from femkron.linalg.info import FALLBACKS
from femkron.linalg.solve import make_solver


def poisson_operator(dim=2, cells=6, order=2, kappa=None):
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=cells, order=order)
    bcs = fk.BoundaryConditions(V)
    return V, bcs, bcs.constrain(fk.stiffness(V, kappa))


@pytest.mark.parametrize("method", ["auto", "fdm", "direct", "cg", "amg"])
def test_one_setup_many_right_hand_sides(method):
    _, _, A = poisson_operator()
    dense = A.toarray()
    rng = np.random.default_rng(3)
    solver = make_solver(A, method, rtol=1e-12)
    assert solver.info.method == ("fdm" if method == "auto" else method)
    total = 0
    for _ in range(3):
        b = rng.standard_normal(A.shape[0])
        x = solver.solve(b)
        np.testing.assert_allclose(x, np.linalg.solve(dense, b), rtol=1e-8, atol=1e-9)
        assert solver.info.residual <= 1e-10
        total = solver.info.iterations
    if method in ("cg", "amg"):
        assert total > 0  # iterations add up over the solves
    assert solver.info.setup_seconds <= solver.info.seconds


def test_auto_choice_names_carried_structure_and_general_fallback():
    _, _, A = poisson_operator()
    assert "carried structure" in make_solver(A).info.note
    hand = fk.KronOperator(A.terms)
    assert "discovered structure" in make_solver(hand).info.note
    _, _, G = poisson_operator(kappa=lambda x, y: 1 + x * y)
    s = make_solver(G)
    assert s.info.method == "direct" and s.info.fallback is None


def test_fdm_of_a_separable_fit_reports_not_separable():
    V, bcs, G = poisson_operator(kappa=lambda x, y: 1 + 3 * x * y)
    fit = fk.MatrixFreeOperator(V, lambda x, y: 1 + 3 * x * y, bcs=bcs)
    s = make_solver(G, "fdm", fit=fit, rtol=1e-11)
    b = np.ones(G.shape[0])
    x = s.solve(b)
    assert s.info.method == "fdm-cg" and s.info.fallback == "not-separable"
    assert s.info.fallback in FALLBACKS
    np.testing.assert_allclose(x, np.linalg.solve(G.toarray(), b), rtol=1e-7)


def test_fdm_refuses_a_general_operator_without_a_fit():
    _, _, G = poisson_operator(kappa=lambda x, y: 1 + x * y)
    with pytest.raises(fk.StructureError) as err:
        make_solver(G, "fdm")
    assert err.value.reason == "not-separable"


def graded_operator():
    """Cells from ~1e-10 to ~0.3 (ratio 1.5 over 60 cells): the 1D eigenproblem loses
    accuracy and fdm's backward error is O(1)."""
    h = 1.5 ** np.arange(60)
    nodes = np.concatenate([[0.0], np.cumsum(h / h.sum())])
    V = fk.TensorSpace([fk.Space1D(fk.Mesh1D(nodes), 2), fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), 2)])
    bcs = fk.BoundaryConditions(V)
    return bcs.constrain(fk.stiffness(V))


def test_a_localised_right_hand_side_keeps_fdm():
    """A heat step ``M + dt K`` with a source on 4×4 dofs: the solution decays below the
    rounding of the transforms far away, so its componentwise backward error is O(1) although
    the 1D eigenproblems are fine.  fdm must stay (judged on a random right-hand side, then
    normwise) and equal a dense solve (condition number of ``M + dt K`` below 1e2 here, so
    1e-12 relative is 1e2 over ``ε κ``); a localised source on the graded operator must still
    fall back."""
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=24, order=1)
    A = fk.mass(V) + 1e-5 * fk.stiffness(V)
    b = np.zeros(V.ndofs)
    b.reshape(V.shape)[10:14, 10:14] = 1.0
    s = make_solver(A, "auto")
    x = s.solve(b)
    assert s.method == "fdm" and s.info.fallback is None
    exact = np.linalg.solve(A.toarray(), b)
    assert np.abs(x - exact).max() <= 1e-12 * np.abs(exact).max()
    G = graded_operator()
    c = np.zeros(G.shape[0])
    c[:3] = 1.0
    g = make_solver(G, "auto")
    g.solve(c)
    assert g.info.fallback == "lost-accuracy"


def test_lost_accuracy_is_a_code_and_auto_falls_back():
    A = graded_operator()
    b = np.ones(A.shape[0])
    s = make_solver(A, "auto")
    x = s.solve(b)
    assert s.info.fallback == "lost-accuracy" and s.info.method == "direct"
    assert s.method == "direct"
    assert s.info.residual < 1e-10
    # later solves use the replacement directly
    np.testing.assert_allclose(A @ s.solve(2 * b), 2 * b, rtol=0, atol=1e-8 * np.abs(b).sum())
    del x
    with pytest.raises(fk.StructureError) as err:
        make_solver(A, "fdm").solve(b)
    assert err.value.reason == "lost-accuracy"
    quiet = make_solver(A, "fdm", raise_on_failure=False)
    quiet.solve(b)
    assert quiet.info.converged is False


def test_singular_problem_projects_and_solves():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=5, order=2)
    bcs = fk.BoundaryConditions(V, fk.Neumann(0.0))
    A = bcs.constrain(fk.stiffness(V))
    b = bcs.restrict(fk.load_vector(V, lambda x, y: np.cos(np.pi * x)))
    for method in ("fdm", "direct", "cg", "amg"):
        s = make_solver(A, method, singular=True, rtol=1e-12)
        x = s.solve(b)
        assert abs(x.sum()) < 1e-9 and s.info.residual < 1e-9, method


def test_assembled_matrix_and_gmres_with_a_preconditioner():
    _, _, A = poisson_operator()
    csr = A.tocsr()
    assert make_solver(csr).info.method == "direct"
    b = np.ones(A.shape[0])
    s = make_solver(csr, "gmres", fit=A, rtol=1e-12)
    x = s.solve(b)
    assert s.info.iterations <= 2  # the exact inverse preconditions: one step
    np.testing.assert_allclose(x, sp.linalg.spsolve(csr.tocsc(), b), rtol=1e-9)


def test_iterative_failure_is_a_convergence_error_or_a_flag():
    _, _, A = poisson_operator(cells=12)
    b = np.ones(A.shape[0])
    with pytest.raises(fk.ConvergenceError) as err:
        make_solver(A, "cg", maxiter=2).solve(b)
    assert err.value.reason == "not-converged"
    s = make_solver(A, "cg", maxiter=2, raise_on_failure=False)
    s.solve(b)
    assert s.info.converged is False and len(s.info.history) == 3


def test_bad_arguments_name_themselves():
    _, _, A = poisson_operator()
    with pytest.raises(ValueError, match="method"):
        make_solver(A, "lu")
    with pytest.raises(ValueError, match="krylov"):
        make_solver(A, "fdm", krylov="minres")
    with pytest.raises(ValueError, match="rtol"):
        make_solver(A, rtol=-1.0)
    with pytest.raises(TypeError, match="A must be an operator"):
        make_solver("A")


def test_solve_info_declares_its_fields():
    names = {f for f in fk.SolveInfo.__dataclass_fields__}
    assert {
        "method",
        "iterations",
        "residual",
        "converged",
        "setup_seconds",
        "seconds",
        "fallback",
        "history",
    } <= names
    info = fk.SolveInfo("cg", history=[1.0, 0.1])
    assert info.residuals is info.history  # the 0.1 name
