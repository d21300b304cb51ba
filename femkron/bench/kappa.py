"""The variable-coefficient benchmark (``femkron bench --kind kappa``).

``-∇·(κ∇u) = 1`` on the unit square with homogeneous Dirichlet conditions and the smooth,
non-separable coefficient of :func:`kappa_coefficient` (contrast 10), solved by matrix-free
CG preconditioned by fast diagonalization of a separable fit of ``κ`` (``fdm-cg``) against
pyamg smoothed-aggregation CG on the element-by-element matrix (``amg``), with the fdm-CG
iteration counts over several mesh sizes.

See Also
--------
femkron.bench.cases : the constant-coefficient assembly and solve benchmarks.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import FemkronValueError
from .cases import _cells_for, _median_time, _space

__all__ = ["KAPPA_METHODS", "kappa_coefficient", "kappa_case"]

KAPPA_METHODS = ("fdm-cg", "amg")


def kappa_coefficient(x, y):
    """The benchmark coefficient ``κ = 1 + 9 sin²(πx) cos²(πy)``.

    Smooth, contrast 10, not separable.
    """
    return 1.0 + 9.0 * np.sin(np.pi * x) ** 2 * np.cos(np.pi * y) ** 2


def kappa_case(order, dofs, repeats=1, rtol=1e-8, studies=3, methods=KAPPA_METHODS):
    """Time ``-∇·(κ∇u) = 1`` on the unit square with about ``dofs`` unknowns.

    Homogeneous Dirichlet conditions, ``κ`` from :func:`kappa_coefficient`, elements of
    order ``order``.

    ``fdm-cg``: the matrix-free operator (:class:`~femkron.matfree.MatrixFreeOperator`) in
    flexible CG preconditioned by fast diagonalization of a separable fit of ``κ``
    (:class:`~femkron.matfree.SeparablePreconditioner`); the time includes sampling ``κ``
    and building the preconditioner.  ``amg``: pyamg smoothed-aggregation CG on the
    element-by-element matrix (:func:`femkron.assemble`, same quadrature, so the same
    discrete operator); the time includes the hierarchy setup, the assembly is reported in
    ``assembly``.  Both stop at the relative residual ``rtol``.  The fdm-CG iteration counts
    are also measured on ``studies`` coarser meshes (cells halved each time) to show that
    they do not grow with the mesh size.

    Returns rows like :func:`solve_case` (``kind="kappa"``) with ``setup``, ``solve`` (s)
    and, for ``fdm-cg``, ``iterations_by_cells`` (``[cells, iterations]`` pairs) and
    ``apply`` (one matrix-free product, s); for ``amg``, ``assembly``, ``nnz`` and ``spmv``
    (one product with the assembled matrix, s).

    Examples
    --------
    >>> rows = kappa_case(2, 2000)
    >>> [r["method"] for r in rows]
    ['fdm-cg', 'amg']
    >>> all(r["residual"] <= 1e-8 for r in rows)
    True
    """
    from ..fem import MatrixFreeOperator, SeparablePreconditioner
    from ..fem.assembly import assemble
    from ..fem.bc import BoundaryConditions
    from ..fem.tensor import load_vector
    from ..linalg.krylov import fcg

    cells = _cells_for(dofs, 2, order, dirichlet=True)
    unknown = [m for m in methods if m not in KAPPA_METHODS]
    if unknown:
        raise FemkronValueError(f"methods: unknown {unknown}; accepted: {KAPPA_METHODS}")

    def system(n):
        V = _space(2, order, n)
        bcs = BoundaryConditions(V)
        return V, bcs, bcs.restrict(load_vector(V, 1.0))

    def fdm_cg(V, bcs, b):
        t0 = time.perf_counter()
        A = MatrixFreeOperator(V, kappa_coefficient, bcs=bcs)
        P = SeparablePreconditioner(A)
        t1 = time.perf_counter()
        x, its, _ = fcg(A.__matmul__, b, P.solve, rtol)
        t2 = time.perf_counter()
        kind = f"{P.fit} fit, {'/'.join(P.fdm.transforms)}"
        return dict(setup=t1 - t0, solve=t2 - t1, x=x, iterations=its, A=A, kind=kind)

    V, bcs, b = system(cells)
    N = b.size
    bnorm = np.linalg.norm(b)
    base = {"kind": "kappa", "dim": 2, "order": order, "dofs": N, "cells": cells}
    rows = []
    A_check, ref = None, None

    def record(method, runs, extra, note):
        nonlocal ref
        totals = [r["setup"] + r["solve"] for r in runs]
        k = int(np.argsort(totals)[len(totals) // 2])  # the median run
        run = runs[k]
        x = run["x"]
        residual = float(np.linalg.norm(b - A_check @ x) / bnorm)
        ref = x if ref is None else ref
        rows.append(
            dict(
                base,
                method=method,
                seconds=totals[k],
                times=totals,
                setup=run["setup"],
                solve=run["solve"],
                residual=residual,
                iterations=int(run["iterations"]),
                max_diff=float(np.abs(x - ref).max() / np.abs(ref).max()),
                note=note,
                **extra,
            )
        )

    if "fdm-cg" in methods:
        runs = [fdm_cg(V, bcs, b) for _ in range(repeats)]
        A_check = runs[0]["A"]
        coarse = sorted({max(2, cells // 2**k) for k in range(1, studies + 1)} - {cells})
        by_cells = [[n, int(fdm_cg(*system(n))["iterations"])] for n in coarse]
        by_cells.append([cells, int(runs[0]["iterations"])])
        its = ", ".join(f"{n} cells: {i}" for n, i in by_cells)
        apply_s = _median_time(lambda: A_check @ b, 5)[0]
        record(
            "fdm-cg",
            runs,
            {"iterations_by_cells": by_cells, "apply": apply_s},
            f"matrix-free, fdm ({runs[0]['kind']}); iterations {its}",
        )
    if "amg" in methods:
        import pyamg

        t0 = time.perf_counter()
        C = assemble(V, kappa_coefficient, bcs=bcs)
        assembly = time.perf_counter() - t0
        if A_check is None:
            A_check = C

        def run_amg():
            t0 = time.perf_counter()
            ml = pyamg.smoothed_aggregation_solver(
                C, B=np.ones((C.shape[0], 1)), symmetry="hermitian"
            )
            M = ml.aspreconditioner(cycle="V")
            t1 = time.perf_counter()
            x, its, _ = fcg(C.__matmul__, b, M.matvec, rtol)
            return dict(setup=t1 - t0, solve=time.perf_counter() - t1, x=x, iterations=its)

        runs = [run_amg() for _ in range(repeats)]
        spmv_s = _median_time(lambda: C @ b, 5)[0]
        record(
            "amg",
            runs,
            {"assembly": assembly, "nnz": int(C.nnz), "spmv": spmv_s},
            f"pyamg SA on the element-by-element matrix (assembly {assembly:.2g} s, not counted)",
        )
    return rows
