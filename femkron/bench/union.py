"""The union-of-boxes benchmark (``femkron bench --kind union``).

``-Δu = 1`` on the L-shape (``[-1,1]²`` without ``(0,1]×[-1,0)``) with homogeneous
Dirichlet conditions, solved by femkron's choice for a union (``schur``: exact fast
diagonalization per box, CG on the interface Schur complement) against pyamg
smoothed-aggregation CG (``amg``) on the assembled matrix of the same discrete operator.  The
two run interleaved (schur, amg, schur, amg, ...); best and median times are reported.
Neither time includes the assembly (reported as ``assembly``), which both use.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import FemkronValueError
from .cases import _interleaved, _solve_row

__all__ = ["UNION_METHODS", "union_case", "lshape_cells"]

UNION_METHODS = ("schur", "amg")


def lshape_cells(dofs, order):
    """Cells per axis of the L-shape (even) whose free dofs come closest to ``dofs``.

    Examples
    --------
    >>> lshape_cells(10**6, 1)
    1156
    """
    n = (np.sqrt(4.0 * dofs / 3.0) + 1.0) / order
    return max(2, 2 * int(round(n / 2)))


def union_case(order, dofs, repeats=1, rtol=1e-8, methods=UNION_METHODS):
    """Time the L-shape Poisson problem with about ``dofs`` unknowns, schur against pyamg.

    ``schur``: :func:`~femkron.make_solver` with ``method="auto"`` on the union operator
    (set-up: the per-box fast diagonalizations and the interface preconditioner) and one
    solve to the relative residual ``rtol``.  ``amg``: pyamg's smoothed-aggregation
    hierarchy and CG to ``rtol`` on the CSR matrix of the same operator.

    Returns rows like :func:`femkron.bench.kappa.kappa_case` (``kind="union"``, ``dim=2``):
    ``seconds`` (median), ``best``, ``times``, ``setup``, ``solve``, ``residual`` (true,
    with the CSR matrix), ``iterations`` and ``max_diff`` (to the first method's solution).

    Examples
    --------
    >>> rows = union_case(1, 2000)
    >>> [r["method"] for r in rows], all(r["residual"] <= 1e-8 for r in rows)
    (['schur', 'amg'], True)
    """
    from ..fem.union import BoxUnion
    from ..fem.union_ops import UnionConditions, union_load, union_operator
    from ..linalg.krylov import fcg
    from ..linalg.preconditioners import amg
    from ..linalg.solve import make_solver

    unknown = [m for m in methods if m not in UNION_METHODS]
    if unknown:
        raise FemkronValueError(f"methods: unknown {unknown}; accepted: {UNION_METHODS}")
    cells = lshape_cells(dofs, order)
    L = BoxUnion.lshape(cells=cells, order=order)
    conds = UnionConditions(L)
    t0 = time.perf_counter()
    A = union_operator(L, conds)
    C = A.tocsr()
    assembly = time.perf_counter() - t0
    b = union_load(L, conds, 1.0)[conds.free]

    def run_schur():
        t0 = time.perf_counter()
        solver = make_solver(A, "auto", rtol=rtol)
        t1 = time.perf_counter()
        x = solver.solve(b)
        return dict(
            setup=t1 - t0,
            solve=time.perf_counter() - t1,
            x=x,
            iterations=solver.info.iterations,
            note=solver.info.note,
        )

    def run_amg():
        t0 = time.perf_counter()
        _, vcycle = amg(C)  # pyamg smoothed aggregation, set up in the solver home
        t1 = time.perf_counter()
        x, its, _ = fcg(C.__matmul__, b, vcycle, rtol)
        return dict(setup=t1 - t0, solve=time.perf_counter() - t1, x=x, iterations=its)

    funcs = {m: {"schur": run_schur, "amg": run_amg}[m] for m in methods}
    runs = _interleaved(funcs, repeats)
    rows, ref = [], None
    base = {"kind": "union", "dim": 2, "order": order, "dofs": int(C.shape[0]), "cells": cells}
    for method in funcs:
        row, run = _solve_row(base, method, runs[method], C, b, ref)
        ref = run["x"] if ref is None else ref
        note = (
            f"{run['note']}; {run['iterations']} interface iterations"
            if method == "schur"
            else f"pyamg SA-CG on the assembled matrix ({run['iterations']} iterations)"
        )
        row.update(assembly=assembly, note=f"{note}; assembly {assembly:.2g} s, not counted")
        rows.append(row)
    return rows
