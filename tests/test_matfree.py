"""The matrix-free operator against assembled and Kronecker operators; Krylov solvers."""

import time

import numpy as np
import pytest

import femkron as fk
from femkron.matfree import bicgstab, fcg, gmres, krylov_solve

rng = np.random.default_rng(7)


@pytest.mark.parametrize("dim, orders", [(1, (3,)), (2, (1, 3)), (3, (2, 1, 1))])
@pytest.mark.parametrize(
    "bc", [None, {}, {"left": fk.Robin(1.5, 0.0), "top": fk.Neumann(0.0)}, {"x": fk.Periodic()}]
)
def test_apply_matches_kronecker_operator(dim, orders, bc):
    if dim == 1 and bc is not None and "top" in bc:
        bc = {"left": fk.Robin(1.5, 0.0)}
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=(3, 2, 2)[:dim], order=orders)
    poly = lambda *x: 1.0 + x[0] * x[-1]  # noqa: E731
    bcs = None if bc is None else fk.BoundaryConditions(V, bc)
    A = fk.MatrixFreeOperator(V, poly, sigma=0.5, bcs=bcs)
    K = fk.stiffness(V, poly) + 0.5 * fk.mass(V)
    if bcs is not None:
        robin = bcs.robin_operator()
        K = bcs.constrain(K if robin is None else K + robin)
    dense = K.toarray()
    u = rng.standard_normal(A.shape[0])
    assert np.abs(A @ u - dense @ u).max() < 1e-12 * np.abs(dense).max() * np.abs(u).max()
    assert np.abs(A.diagonal() - np.diag(dense)).max() < 1e-12 * np.abs(dense).max()
    assert np.abs(A.tocsr().toarray() - dense).max() < 1e-12 * np.abs(dense).max()
    U = rng.standard_normal((A.shape[0], 3))
    assert np.allclose(A @ U, dense @ U)
    assert np.allclose(A @ u.reshape(A.grid_shape), (dense @ u).reshape(A.grid_shape))


def test_linear_combinations():
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(3, 4), order=2)
    bcs = fk.BoundaryConditions(V, {"left": fk.Robin(2.0, 0.0)})
    A = fk.MatrixFreeOperator(V, lambda x, y: 1 + x * y, bcs=bcs)
    M = fk.MatrixFreeOperator.mass(V, bcs=bcs, quad=A.quad)
    C = M + 0.3 * A - 2 * M
    ref = (-1.0) * M.tocsr() + 0.3 * A.tocsr()
    u = rng.standard_normal(A.shape[0])
    assert np.abs(C @ u - ref @ u).max() < 1e-12 * np.abs(ref @ u).max()
    assert np.abs(C.tocsr() - ref).max() < 1e-12
    Mk = bcs.constrain(fk.mass(V)).toarray()
    assert np.abs(M.tocsr().toarray() - Mk).max() < 1e-13


def test_bad_arguments():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    A = fk.MatrixFreeOperator(V)
    with pytest.raises(fk.FemkronValueError, match="cannot apply"):
        A @ np.ones(5)
    with pytest.raises(fk.FemkronValueError, match="sigma"):
        fk.MatrixFreeOperator(V, sigma=lambda x, y: x - 1)
    with pytest.raises(fk.FemkronValueError, match="combine"):
        A + fk.MatrixFreeOperator(V, bcs={})
    with pytest.raises(fk.FemkronTypeError, match="MatrixFreeOperator"):
        fk.SeparablePreconditioner(fk.stiffness(V))
    with pytest.raises(fk.FemkronValueError, match="precision"):
        fk.SeparablePreconditioner(A.constrained({}), precision="half")


def nonsymmetric(n, seed):
    r = np.random.default_rng(seed)
    return np.eye(n) * 4 + r.standard_normal((n, n)) / np.sqrt(n)


@pytest.mark.parametrize("solver", [gmres, bicgstab])
def test_nonsymmetric_krylov_against_numpy(solver):
    A = nonsymmetric(60, 1)
    b = np.random.default_rng(2).standard_normal(60)
    P = np.linalg.inv(np.diag(np.diag(A)))
    x, it, res = solver(A.__matmul__, b, lambda v: P @ v, rtol=1e-11)
    assert np.linalg.norm(x - np.linalg.solve(A, b)) < 1e-9 * np.linalg.norm(x)
    assert res[-1] <= 1e-11 and 0 < it < 60


def test_gmres_restarts_and_fcg():
    A = nonsymmetric(80, 3)
    b = np.ones(80)
    x, it, res = gmres(A.__matmul__, b, rtol=1e-10, restart=5)
    assert np.linalg.norm(A @ x - b) <= 1.01e-10 * np.linalg.norm(b) and it > 5
    S = A @ A.T
    x, it, res = fcg(S.__matmul__, b, rtol=1e-10)
    assert np.linalg.norm(S @ x - b) <= 1.01e-10 * np.linalg.norm(b)


def test_krylov_solve_reports_failure():
    A = nonsymmetric(50, 4)
    with pytest.raises(fk.ConvergenceError, match="rtol"):
        krylov_solve(A, np.ones(50), "gmres", rtol=1e-12, maxiter=2)
    with pytest.raises(fk.FemkronValueError, match="method"):
        krylov_solve(A, np.ones(50), "minres")


# ---- benchmark (deselected by default: pytest -m benchmark -s) -----------------------------
def bench_variable_kappa(cells=250, order=4, rtol=1e-8, quad=None, studies=(32, 64, 125), amg=True):
    """2D variable-coefficient benchmark: matrix-free + fdm-preconditioned CG against pyamg
    on the element-by-element matrix, same discrete operator and tolerance.

    κ = 1 + 9 sin²(πx) cos²(πy) (contrast 10, not separable), f = 1, homogeneous Dirichlet on
    the unit square.  Returns a dict of times (s), iterations and residuals; ``studies`` are
    coarser cell counts whose fdm-CG iteration counts show mesh independence.
    """
    import pyamg

    from femkron.assembly import assemble
    from femkron.bc import BoundaryConditions
    from femkron.matfree import MatrixFreeOperator, SeparablePreconditioner, fcg
    from femkron.tensor import TensorSpace, load_vector

    def kappa(x, y):
        return 1.0 + 9.0 * np.sin(np.pi * x) ** 2 * np.cos(np.pi * y) ** 2

    def run_matfree(n):
        V = TensorSpace.box([(0.0, 1.0), (0.0, 1.0)], cells=n, order=order)
        bcs = BoundaryConditions(V)
        b = bcs.restrict(load_vector(V, 1.0))
        t0 = time.perf_counter()
        A = MatrixFreeOperator(V, kappa, bcs=bcs, quad=quad)
        P = SeparablePreconditioner(A)
        t1 = time.perf_counter()
        x, it, hist = fcg(A.__matmul__, b, P.solve, rtol)
        t2 = time.perf_counter()
        return (
            V,
            bcs,
            b,
            A,
            x,
            dict(setup=t1 - t0, solve=t2 - t1, total=t2 - t0, iterations=it, contrast=P.contrast),
        )

    out = {"cells": cells, "order": order, "rtol": rtol}
    V, bcs, b, A, x_mf, mf = run_matfree(cells)
    out["ndofs"] = A.shape[0]
    out["matfree"] = mf
    out["matfree"]["iterations_by_cells"] = {
        n: run_matfree(n)[-1]["iterations"] for n in studies
    } | {cells: mf["iterations"]}
    if amg:
        t0 = time.perf_counter()
        Acsr = assemble(V, kappa, bcs=bcs, quad=quad)
        t1 = time.perf_counter()
        ml = pyamg.smoothed_aggregation_solver(
            Acsr, B=np.ones((Acsr.shape[0], 1)), symmetry="hermitian"
        )
        M = ml.aspreconditioner(cycle="V")
        t2 = time.perf_counter()
        x_amg, it, hist = fcg(Acsr.__matmul__, b, M.matvec, rtol)
        t3 = time.perf_counter()
        bn = np.linalg.norm(b)
        out["amg"] = dict(
            assembly=t1 - t0,
            setup=t2 - t1,
            solve=t3 - t2,
            total=t3 - t1,
            total_with_assembly=t3 - t0,
            iterations=it,
            nnz=Acsr.nnz,
            residual=float(np.linalg.norm(b - Acsr @ x_amg) / bn),
        )
        out["matfree"]["residual"] = float(np.linalg.norm(b - Acsr @ x_mf) / bn)
        out["solution_difference"] = float(np.abs(x_mf - x_amg).max() / np.abs(x_amg).max())
        out["speedup"] = out["amg"]["total"] / mf["total"]
        out["speedup_with_assembly"] = out["amg"]["total_with_assembly"] / mf["total"]
    return out


@pytest.mark.benchmark
@pytest.mark.parametrize("cells, order", [(998, 1), (500, 2), (333, 3), (250, 4)])
def test_bench_variable_kappa(cells, order):
    out = bench_variable_kappa(cells, order, studies=(cells // 8, cells // 4, cells // 2))
    print(out)
    its = list(out["matfree"]["iterations_by_cells"].values())
    assert max(its) - min(its) <= 2  # mesh-independent iteration counts
    assert out["matfree"]["residual"] <= 1.01e-8 and out["amg"]["residual"] <= 1.01e-8
