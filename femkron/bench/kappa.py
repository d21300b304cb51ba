"""The variable-coefficient benchmark (``femkron bench --kind kappa``).

``-∇·(κ∇u) = 1`` on the unit square or cube with homogeneous Dirichlet conditions and the
smooth, non-separable coefficient of :func:`kappa_coefficient` (contrast 10), solved by
femkron's own choice (``femkron``: :func:`~femkron.make_solver` with ``method="auto"`` on the
matrix-free operator, whose cost model picks the operator form and the preconditioner)
against pyamg smoothed-aggregation CG on the assembled matrix of the same discrete operator
(``amg``).  The two are run interleaved (femkron, amg, femkron, amg, ...) so that a noisy
machine slows both alike; best and median times are reported.  femkron's iteration counts
are also measured on coarser meshes.

See Also
--------
femkron.bench.cases : the constant-coefficient assembly and solve benchmarks.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import FemkronValueError
from .cases import _cells_for, _interleaved, _median_time, _solve_row, _space

__all__ = ["KAPPA_METHODS", "KAPPA_ORDERS", "kappa_coefficient", "kappa_case", "operator_costs"]

KAPPA_METHODS = ("femkron", "amg")

#: The orders the benchmark covers per dimension (3D Q3+ matrices pass 10^8 nonzeros).
KAPPA_ORDERS = {2: (1, 2, 3, 4), 3: (1, 2)}


def kappa_coefficient(x, y, z=None):
    """The benchmark coefficient ``κ = 1 + 9 sin²(πx) cos²(πy) [sin²(πz)]``.

    Smooth, contrast 10, not separable; the factor in ``z`` only in 3D.

    Examples
    --------
    >>> float(kappa_coefficient(0.5, 0.0)), float(kappa_coefficient(0.5, 0.0, 0.5))
    (10.0, 10.0)
    """
    k = np.sin(np.pi * x) ** 2 * np.cos(np.pi * y) ** 2
    if z is not None:
        k = k * np.sin(np.pi * z) ** 2
    return 1.0 + 9.0 * k


def kappa_case(order, dofs, repeats=1, rtol=1e-8, studies=3, methods=KAPPA_METHODS, dim=2):
    """Time ``-∇·(κ∇u) = 1`` with about ``dofs`` unknowns, femkron against pyamg.

    Homogeneous Dirichlet conditions on the unit square (``dim=2``) or cube (``dim=3``),
    ``κ`` from :func:`kappa_coefficient`, elements of order ``order``, ``p + 1`` Gauss points
    per cell and axis (exact for the polynomial part of every element integral, optimal
    rates for a smooth ``κ``).

    ``femkron``: the time from sampling ``κ`` (building the
    :class:`~femkron.MatrixFreeOperator`) through :func:`~femkron.make_solver` (``"auto"``:
    its cost model chooses matrix-free or assembled CSR products and fdm of a separable fit
    or AMG, and the set-up includes any assembly) to the end of the solve (including its
    true-residual check).  ``amg``: pyamg smoothed-aggregation CG (one V-cycle per
    iteration) on the CSR form of the same operator; the time includes the hierarchy
    set-up but not the assembly (reported in ``assembly``), which favours pyamg.  Both stop
    at the relative residual ``rtol``; the repeats run interleaved.  The femkron iteration
    counts are also measured on ``studies`` coarser meshes (cells halved each time).

    Returns rows like :func:`solve_case` (``kind="kappa"``) with ``seconds`` (median),
    ``best`` (fastest repeat), ``times``, ``setup`` and ``solve`` (of the median repeat),
    ``residual`` (``‖b - A x‖/‖b‖`` with the CSR form), ``iterations``; for ``femkron``
    also ``iterations_by_cells`` (``[cells, iterations]`` pairs), ``plan`` (operator form,
    preconditioner, predicted seconds) and ``apply`` (one matrix-free product, s); for
    ``amg`` ``assembly``, ``nnz`` and ``spmv`` (one CSR product, s).

    Examples
    --------
    >>> rows = kappa_case(2, 2000)
    >>> [r["method"] for r in rows]
    ['femkron', 'amg']
    >>> all(r["residual"] <= 1e-8 for r in rows)
    True
    """
    from ..fem import MatrixFreeOperator
    from ..fem.bc import BoundaryConditions
    from ..fem.tensor import load_vector
    from ..linalg.krylov import fcg
    from ..linalg.solve import make_solver

    if dim not in KAPPA_ORDERS:
        raise FemkronValueError(f"dim must be 2 or 3, got {dim!r}")
    unknown = [m for m in methods if m not in KAPPA_METHODS]
    if unknown:
        raise FemkronValueError(f"methods: unknown {unknown}; accepted: {KAPPA_METHODS}")
    cells = _cells_for(dofs, dim, order, dirichlet=True)
    quad = order + 1

    def system(n):
        V = _space(dim, order, n)
        bcs = BoundaryConditions(V)
        return V, bcs, bcs.restrict(load_vector(V, 1.0))

    def run_femkron(V, bcs, b):
        t0 = time.perf_counter()
        A = MatrixFreeOperator(V, kappa_coefficient, bcs=bcs, quad=quad)
        solver = make_solver(A, "auto", rtol=rtol)
        t1 = time.perf_counter()
        x = solver.solve(b)
        t2 = time.perf_counter()
        plan = solver.plan
        return dict(
            setup=t1 - t0,
            solve=t2 - t1,
            x=x,
            iterations=solver.info.iterations,
            A=A,
            note=solver.info.note,
            method=solver.info.method,
            plan=None
            if plan is None
            else dict(
                operator=plan.operator,
                preconditioner=plan.preconditioner,
                iterations=plan.iterations,
                seconds={k: float(v) if np.isfinite(v) else None for k, v in plan.seconds.items()},
            ),
        )

    V, bcs, b = system(cells)
    N = b.size
    base = {"kind": "kappa", "dim": dim, "order": order, "dofs": N, "cells": cells}
    # the CSR form of the discrete operator both methods solve (pyamg's matrix, the checks)
    op = MatrixFreeOperator(V, kappa_coefficient, bcs=bcs, quad=quad)
    t0 = time.perf_counter()
    C = op.tocsr()
    assembly = time.perf_counter() - t0

    def run_amg():
        import pyamg

        t0 = time.perf_counter()
        ml = pyamg.smoothed_aggregation_solver(C, B=np.ones((C.shape[0], 1)), symmetry="hermitian")
        M = ml.aspreconditioner(cycle="V")
        t1 = time.perf_counter()
        x, its, _ = fcg(C.__matmul__, b, M.matvec, rtol)
        return dict(setup=t1 - t0, solve=time.perf_counter() - t1, x=x, iterations=its)

    funcs = {}
    if "femkron" in methods:
        funcs["femkron"] = lambda: run_femkron(V, bcs, b)
    if "amg" in methods:
        funcs["amg"] = run_amg
    runs = _interleaved(funcs, repeats)
    rows = []
    ref = None
    for method in funcs:
        row, run = _solve_row(base, method, runs[method], C, b, ref)
        ref = run["x"] if ref is None else ref
        if method == "femkron":
            coarse = sorted({max(2, cells // 2**j) for j in range(1, studies + 1)} - {cells})
            by_cells = [[n, int(run_femkron(*system(n))["iterations"])] for n in coarse]
            by_cells.append([cells, int(run["iterations"])])
            its = ", ".join(f"{n} cells: {i}" for n, i in by_cells)
            row.update(
                iterations_by_cells=by_cells,
                apply=_median_time(lambda: op @ b, 5)[0],
                plan=run["plan"],
                solver=run["method"],
                note=f"{run['method']} (iterations {its}); {run['note']}",
            )
        else:
            row.update(
                assembly=assembly,
                nnz=int(C.nnz),
                spmv=_median_time(lambda: C @ b, 5)[0],
                note=(
                    f"pyamg SA-CG on the assembled matrix (sum-factorised assembly "
                    f"{assembly:.2g} s, not counted)"
                ),
            )
        rows.append(row)
    return rows


def _user_seconds(func, repeats):
    """Median CPU user time of ``repeats`` calls of ``func`` (and the last result)."""
    import resource

    times, out = [], None
    for _ in range(repeats):
        u0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
        out = func()
        times.append(resource.getrusage(resource.RUSAGE_SELF).ru_utime - u0)
    return float(np.median(times)), out


def operator_costs(dim, order, dofs, repeats=7):
    """Measure the constants of the solver's cost model (:mod:`femkron.linalg.cost`) here.

    On the operator of :func:`kappa_case` (``p + 1`` Gauss points, about ``dofs`` free
    dofs): the median CPU user time of ``repeats`` calls, per dof or per nonzero of the
    assembled matrix, of one matrix-free product (``matfree_ns``), one CSR product
    (``spmv_ns_per_nnz``), one application of the fdm preconditioner of the separable fit
    (``fdm_ns``), and of the first assembly as CSR (``assembly_ns_per_nnz``) and by
    diagonals (``stencil_ns_per_nnz``, ``None`` where the operator is no stencil).  Each
    assembly is timed once, on the first call, page faults included, as a solve pays it.

    Examples
    --------
    >>> costs = operator_costs(2, 1, 2000, repeats=1)
    >>> sorted(k for k in costs if k.endswith(("_ns", "_nnz")))
    ['assembly_ns_per_nnz', 'fdm_ns', 'matfree_ns', 'spmv_ns_per_nnz', 'stencil_ns_per_nnz']
    >>> costs["stencil_ns_per_nnz"] is not None   # Q1: a stencil
    True
    """
    from ..fem import MatrixFreeOperator
    from ..fem.bc import BoundaryConditions

    V = _space(dim, order, _cells_for(dofs, dim, order, dirichlet=True))
    A = MatrixFreeOperator(V, kappa_coefficient, bcs=BoundaryConditions(V), quad=order + 1)
    N = A.shape[0]
    x = np.random.default_rng(0).standard_normal(N)
    assembly, C = _user_seconds(A.tocsr, 1)
    stencil, S = _user_seconds(A.tostencil, 1)
    P = A.preconditioner()
    ns = 1e9
    return dict(
        dim=dim,
        order=order,
        dofs=N,
        nnz=int(C.nnz),
        matfree_ns=_user_seconds(lambda: A @ x, repeats)[0] * ns / N,
        spmv_ns_per_nnz=_user_seconds(lambda: C @ x, repeats)[0] * ns / C.nnz,
        fdm_ns=_user_seconds(lambda: P.solve(x), repeats)[0] * ns / N,
        assembly_ns_per_nnz=assembly * ns / C.nnz,
        stencil_ns_per_nnz=None if S is None else stencil * ns / C.nnz,
    )
