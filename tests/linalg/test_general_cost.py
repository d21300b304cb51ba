"""The cost model of make_solver for variable coefficients: the choice follows the model."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import femkron as fk
from femkron.linalg import cost
from femkron.linalg.cost import general_plan


def smooth(*x):
    return 1.0 + 9.0 * np.sin(np.pi * x[0]) ** 2 * np.cos(np.pi * x[1]) ** 2


def operator(dim, p, cells, kappa=smooth, quad=None):
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=cells, order=p)
    return fk.MatrixFreeOperator(V, kappa, bcs=fk.BoundaryConditions(V), quad=quad or p + 1)


def predicted(A, rtol):
    """The model written out again from the documented constants (not the code's path)."""
    D, p, q = A.V.dim, max(A.V.orders), max(A.quad)
    N = A.shape[0]
    nnz = N * (p + 2) ** D
    k = np.asarray(A.kappa_values[0])
    its = int(np.ceil(0.3 * np.sqrt(k.max() / k.min()) * np.log10(1 / rtol))) + 1
    if A.fit_transforms:
        prec = cost.FDM_TRANSFORM_NS[D]
    else:
        prec = cost.FDM_DENSE_NS_PER_AXIS_DOF * sum(A.grid_shape) + 5.0
    mf = cost.MATFREE_NS.get((D, p, q), cost.MATFREE_NS_PER_GAUSS_POINT * (q / p) ** D)
    asm = cost.ASSEMBLY_NS_PER_NNZ * nnz
    # Q1 on a box with Dirichlet faces (cells >= 4 per axis): the solver assembles by diagonals
    stencil = max(A.V.orders) == 1 and min(A.grid_shape) >= 3
    form = cost.STENCIL_NS_PER_NNZ * nnz if stencil else asm
    t_mf = its * (mf + prec) * N * 1e-9
    t_csr = (form + its * (cost.SPMV_NS_PER_NNZ * nnz + prec * N)) * 1e-9
    amg_its = cost.AMG_ITERATIONS[p]
    t_amg = (asm + (cost.AMG_SETUP_NS_PER_NNZ + amg_its * cost.AMG_CYCLE_NS_PER_NNZ) * nnz) * 1e-9
    return its, {"fdm/csr": t_csr, "fdm/matrix-free": t_mf, "amg": t_amg}


@pytest.mark.parametrize(
    "dim, p, cells",
    [(2, 1, 40), (2, 2, 20), (2, 3, 12), (2, 4, 10), (3, 1, 10), (3, 2, 5)],
)
def test_plan_follows_the_model(dim, p, cells):
    A = operator(dim, p, cells)
    plan = general_plan(A, rtol=1e-8)
    its, seconds = predicted(A, 1e-8)
    assert plan.iterations == its
    for key, value in seconds.items():
        assert plan.seconds[key] == pytest.approx(value, rel=1e-12)
    csr, mf = seconds["fdm/csr"], seconds["fdm/matrix-free"]
    assert plan.operator == ("csr" if csr < mf else "matrix-free")
    assert plan.preconditioner == ("amg" if seconds["amg"] < min(csr, mf) else "fdm")
    assert plan.operator in plan.note and f"{its} fdm-CG iterations" in plan.note


def test_the_measured_constants_choose_as_measured():
    """With the constants in linalg/cost.py: CSR SpMV for Q1, matrix-free from Q2 on.

    For contrast 10 at 1e-8 the model predicts 9 iterations; assembling (25 ns per nonzero,
    9 per row) then saves 9 products of 52 (2D) or 131 (3D) ns per dof for Q1, but not for
    Q2 and up, whose rows hold 16-64 entries while their products cost 32-75 ns per dof.
    """
    choice = {
        (d, p): general_plan(operator(d, p, c)).operator
        for d, p, c in [(2, 1, 40), (2, 2, 20), (2, 3, 12), (2, 4, 10), (3, 1, 10), (3, 2, 5)]
    }
    assert choice == {
        (2, 1): "csr",
        (2, 2): "matrix-free",
        (2, 3): "matrix-free",
        (2, 4): "matrix-free",
        (3, 1): "csr",
        (3, 2): "matrix-free",
    }


def test_high_contrast_chooses_amg():
    """Contrast 1e6: sqrt(1e6) = 1000 times more fdm-CG iterations than AMG V-cycles."""

    def rough(x, y):
        return np.where((x > 0.3) & (x < 0.6) & (y > 0.2) & (y < 0.7), 1e6, 1.0)

    A = operator(2, 1, 40, kappa=rough)
    assert general_plan(A).preconditioner == "amg"
    solver = fk.make_solver(A, "auto", rtol=1e-8)
    assert solver.method == "amg" and solver.plan.preconditioner == "amg"
    b = np.ones(A.shape[0])
    x = solver.solve(b)
    # AMG-CG on the assembled matrix, judged by its true residual (the same operator): the
    # recurrence stops at 1e-8, and the solver accepts a true residual up to 10× that (the
    # residual gap, ε cond(A) ~ 1e-16 × 1e8 here); what it reports is the true one
    true = np.linalg.norm(b - A @ x) / np.linalg.norm(b)
    assert solver.info.converged and true <= 1e-7
    # the solver computes it with the CSR form: the two products differ by rounding, at
    # most ~ε ‖|A| |x|‖ (sums of up to 9 terms per row; factor 100 for the norms)
    gap = 100 * np.finfo(float).eps * np.linalg.norm(abs(A.tocsr()) @ np.abs(x))
    assert abs(solver.info.residual - true) <= gap / np.linalg.norm(b)


@pytest.mark.parametrize("dim, p, cells, form", [(2, 1, 40, "csr"), (2, 4, 6, "matrix-free")])
def test_make_solver_runs_the_chosen_form(dim, p, cells, form):
    A = operator(dim, p, cells)
    solver = fk.make_solver(A, "auto", rtol=1e-10)
    assert solver.plan.operator == form and solver.method == "fdm-cg"
    assert solver.plan.note in solver.info.note
    # the assembled form: a Q1 box is stored by its diagonals, other orders as CSR
    applied = getattr(solver._apply, "__self__", None)
    assembled = isinstance(applied, (sp.spmatrix, fk.SymmetricStencil))
    assert assembled == (form == "csr")
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    x = solver.solve(b)
    # independent truth: scipy's sparse LU of the assembled operator; CG stops at 1e-10,
    # so the error is at most cond(A) × 1e-10 (cond ≤ ~1e4 on these meshes)
    ref = spla.spsolve(A.tocsr().tocsc(), b)
    assert np.abs(x - ref).max() <= 1e-5 * np.abs(ref).max()
    assert solver.info.residual <= 1.01e-10


def test_memory_limit_refuses_the_csr_form():
    """A CSR form over a quarter of the memory limit is never chosen."""
    A = operator(2, 1, 40)
    old = fk.set_memory_limit(4 * 12 * 9 * A.shape[0] - 1)  # the CSR form: 12 × 9 × N bytes
    try:
        plan = general_plan(A)
        assert plan.operator == "matrix-free" and plan.preconditioner == "fdm"
        assert np.isinf(plan.seconds["fdm/csr"]) and np.isinf(plan.seconds["amg"])
    finally:
        fk.set_memory_limit(old)


def test_contrast_of_the_operator():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    A = fk.MatrixFreeOperator(V, lambda x, y: 1 + x + y, quad=2)
    pts = V.spaces[0].quadrature(2)[0].ravel()
    assert A.contrast() == pytest.approx((1 + 2 * pts.max()) / (1 + 2 * pts.min()))
