"""Assembly and solve benchmark cases: timing helpers, baselines and runners.

Assembly of the Q_p Laplacian (all dofs, no boundary condition) by

* ``tocsr``   — :meth:`KronOperator.tocsr` (Kronecker pattern, values by dense products);
* ``copy``    — one copy of the resulting CSR arrays (the memory-speed yardstick);
* ``kron``    — the baseline ``Σ scipy.sparse.kron(...)`` summed by scipy;
* ``ebe``     — classical vectorised element-by-element assembly (:func:`femkron.assemble`);
* ``skfem``   — scikit-fem ``Basis`` + ``assemble`` when installed (small enough sizes);
* ``apply`` / ``spmv`` — one matrix-free product against one CSR product;

and the solve of ``-Δu = 1`` with homogeneous Dirichlet conditions by ``fdm`` (setup +
solve), ``amg`` (pyamg smoothed-aggregation CG, hierarchy setup included), ``cg`` (Jacobi,
matrix-free) and ``direct`` (sparse LU).  Every assembly is compared with ``tocsr`` and every
solution with ``fdm`` (the maximum difference is reported); times are medians of repeats.

The helpers ``_median_time``, ``_cells_for`` and ``_space`` are shared with
:mod:`femkron.bench.kappa` and :mod:`femkron.bench.scale`.

See Also
--------
femkron.bench.kappa : the variable-coefficient solve benchmark.
femkron.bench.scale : the 10^8-unknown 3D Poisson run.

Examples
--------
>>> from femkron.bench import assembly_case
>>> rows = assembly_case(2, 1, 400, repeats=1, methods=("tocsr", "kron", "copy"))
>>> sorted(r["method"] for r in rows)
['copy', 'kron', 'tocsr']
>>> all(r["max_diff"] < 1e-12 for r in rows if r["max_diff"] is not None)
True
"""

from __future__ import annotations

import time

import numpy as np

from .._limits import check_allocation

__all__ = ["ASSEMBLY_METHODS", "SOLVE_METHODS", "LIMITS", "assembly_case", "solve_case"]

ASSEMBLY_METHODS = ("tocsr", "copy", "kron", "ebe", "skfem", "apply", "spmv")
SOLVE_METHODS = ("fdm", "amg", "cg", "direct")

#: Largest problems given to the slow baselines (dofs); larger sizes are reported skipped.
LIMITS = {
    ("skfem", 2): 1_100_000,
    ("skfem", 3): 150_000,
    ("ebe", 2): 4_000_000,
    ("ebe", 3): 1_100_000,
    ("kron", 3): 2_000_000,
    ("cg", 2): 300_000,
    ("cg", 3): 1_100_000,
    ("direct", 2): 300_000,
    ("direct", 3): 60_000,
}


def _median_time(func, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times, out


def _cells_for(dofs, dim, order, dirichlet):
    """Cells per axis so that the (free) dofs come closest to ``dofs``."""
    per_axis = dofs ** (1.0 / dim)
    target = per_axis + (1 if dirichlet else -1)
    return max(1, int(round(target / order)))


def _space(dim, order, cells):
    from ..fem.tensor import TensorSpace

    return TensorSpace.box([(0.0, 1.0)] * dim, cells=cells, order=order)


def _csr_diff(A, B):
    D = (A - B).tocsr()
    return float(abs(D).max()) if D.nnz else 0.0


def _skfem_assemble(dim, order, cells):
    import skfem
    from skfem.models.poisson import laplace

    elements = {
        (2, 1): skfem.ElementQuad1,
        (2, 2): skfem.ElementQuad2,
        (3, 1): skfem.ElementHex1,
        (3, 2): skfem.ElementHex2,
    }
    if (dim, order) not in elements:
        return None
    pts = np.linspace(0.0, 1.0, cells + 1)
    mesh = (
        skfem.MeshQuad.init_tensor(pts, pts)
        if dim == 2
        else skfem.MeshHex.init_tensor(pts, pts, pts)
    )
    basis = skfem.Basis(mesh, elements[(dim, order)]())
    return skfem.asm(laplace, basis), basis


def _skfem_matrix_in_femkron_order(A, basis, V):
    """Permute scikit-fem's matrix to femkron's dof order by matching dof coordinates."""
    coords = basis.doflocs.T  # (ndofs, dim)
    n = np.array(V.shape)
    h = np.array([1.0 / (s - 1) for s in V.shape])
    idx = np.rint(coords / h).astype(np.int64)
    flat = np.ravel_multi_index(idx.T, tuple(n))
    P = np.empty_like(flat)
    P[flat] = np.arange(flat.size)
    return A[P][:, P].tocsr()


def assembly_case(dim, order, dofs, repeats=3, methods=ASSEMBLY_METHODS):
    """Time the assembly methods on the Q``order`` Laplacian with about ``dofs`` dofs.

    Returns a list of rows ``{"kind", "dim", "order", "dofs", "nnz", "method", "seconds",
    "times", "max_diff", "note"}``; ``seconds`` is ``None`` for a skipped method.
    """
    import functools

    import scipy.sparse as sp

    from ..fem.tensor import stiffness

    cells = _cells_for(dofs, dim, order, dirichlet=False)
    V = _space(dim, order, cells)
    A = stiffness(V)
    N = V.ndofs
    base = {"kind": "assembly", "dim": dim, "order": order, "dofs": N, "cells": cells}
    rows = []

    def row(method, seconds, times, diff=None, note=""):
        rows.append(
            dict(base, method=method, seconds=seconds, times=times, max_diff=diff, note=note)
        )

    check_allocation(3 * A.csr_nbytes(), "the benchmark matrices", "choose smaller sizes")
    t, ts, C = _median_time(A.tocsr, repeats)
    base["nnz"] = int(C.nnz)
    for r in rows:
        r["nnz"] = C.nnz
    if "tocsr" in methods:
        row("tocsr", t, ts, 0.0)
    if "copy" in methods:
        t, ts, _ = _median_time(lambda: (C.data.copy(), C.indices.copy(), C.indptr.copy()), repeats)
        row("copy", t, ts)
    for method in ("kron", "ebe", "skfem"):
        if method not in methods:
            continue
        limit = LIMITS.get((method, dim))
        if limit is not None and N > limit:
            row(method, None, [], note=f"skipped: more than {limit} dofs")
            continue
        if method == "kron":

            def kron_sum():
                out = None
                for c, f in A.terms:
                    term = c * functools.reduce(lambda X, Y: sp.kron(X, Y, format="csr"), f)
                    out = term if out is None else out + term
                return out

            t, ts, B = _median_time(kron_sum, repeats)
            row(method, t, ts, _csr_diff(C, B))
        elif method == "ebe":
            from ..fem.assembly import assemble

            t, ts, B = _median_time(lambda: assemble(V, quad=order + 1), repeats)
            row(method, t, ts, _csr_diff(C, B))
        else:
            try:
                import skfem  # noqa: F401
            except ImportError:
                row(method, None, [], note="skipped: scikit-fem not installed")
                continue
            t, ts, out = _median_time(lambda: _skfem_assemble(dim, order, cells), repeats)
            if out is None:
                row(method, None, [], note=f"skipped: no scikit-fem element for Q{order}")
                continue
            B = _skfem_matrix_in_femkron_order(out[0], out[1], V)
            row(method, t, ts, _csr_diff(C, B))
    if "apply" in methods or "spmv" in methods:
        x = np.random.default_rng(0).standard_normal(N)
        A @ x  # first call builds the kernels
        t_mf, ts_mf, y_mf = _median_time(lambda: A @ x, max(repeats, 5))
        t_sp, ts_sp, y_sp = _median_time(lambda: C @ x, max(repeats, 5))
        diff = float(np.abs(y_mf - y_sp).max())
        if "apply" in methods:
            row("apply", t_mf, ts_mf, diff)
        if "spmv" in methods:
            row("spmv", t_sp, ts_sp, 0.0)
    return rows


def _poisson_system(dim, order, cells):
    from ..fem.bc import BoundaryConditions
    from ..fem.tensor import load_vector, stiffness

    V = _space(dim, order, cells)
    bcs = BoundaryConditions(V)
    A = bcs.constrain(stiffness(V))
    b = bcs.restrict(load_vector(V, 1.0))
    return A, b


def _amg_runner(Acsr, b, rtol):
    import pyamg

    from ..linalg.solve import pcg

    def run_amg():
        ml = pyamg.smoothed_aggregation_solver(
            Acsr, B=np.ones((Acsr.shape[0], 1)), symmetry="hermitian"
        )
        M = ml.aspreconditioner(cycle="V")
        return pcg(Acsr.__matmul__, b, M.matvec, rtol)

    return run_amg


def _cg_runner(A, b, rtol):
    from ..linalg.solve import pcg

    inv = 1.0 / A.diagonal()
    return lambda: pcg(A.__matmul__, b, lambda r: inv * r, rtol)


def _lu_runner(Acsc, b):
    import scipy.sparse.linalg as spla

    return lambda: spla.splu(Acsc, permc_spec="MMD_AT_PLUS_A").solve(b)


def solve_case(dim, order, dofs, repeats=3, methods=SOLVE_METHODS, rtol=1e-10):
    """Time the solvers on ``-Δu = 1`` (homogeneous Dirichlet) with about ``dofs`` unknowns."""
    from ..kron.diagonalize import FastDiagonalization

    cells = _cells_for(dofs, dim, order, dirichlet=True)
    A, b = _poisson_system(dim, order, cells)
    N = A.shape[0]
    base = {"kind": "solve", "dim": dim, "order": order, "dofs": N, "cells": cells}
    bnorm = np.linalg.norm(b)
    rows = []
    ref = None

    def record(method, t, ts, x, iterations=0, note=""):
        nonlocal ref
        residual = float(np.linalg.norm(b - A @ x) / bnorm)
        if ref is None:
            ref = x
        diff = float(np.abs(x - ref).max() / np.abs(ref).max())
        rows.append(
            dict(
                base,
                method=method,
                seconds=t,
                times=ts,
                residual=residual,
                iterations=iterations,
                max_diff=diff,
                note=note,
            )
        )

    order_of = [m for m in SOLVE_METHODS if m in methods]
    for method in order_of:
        limit = LIMITS.get((method, dim))
        if limit is not None and N > limit:
            rows.append(
                dict(
                    base,
                    method=method,
                    seconds=None,
                    times=[],
                    residual=None,
                    iterations=0,
                    max_diff=None,
                    note=f"skipped: more than {limit} unknowns",
                )
            )
            continue
        if method == "fdm":

            def run_fdm():
                F = FastDiagonalization(A)
                return F.solve(b), F

            t, ts, (x, F) = _median_time(run_fdm, repeats)
            record("fdm", t, ts, x, note="transforms: " + ",".join(F.transforms))
        elif method == "amg":
            t, ts, (x, its, _) = _median_time(_amg_runner(A.tocsr(), b, rtol), repeats)
            record("amg", t, ts, x, its, note="pyamg smoothed aggregation, CG, V-cycle")
        elif method == "cg":
            t, ts, (x, its, _) = _median_time(_cg_runner(A, b, rtol), max(1, repeats // 2))
            record("cg", t, ts, x, its, note="Jacobi-preconditioned, matrix-free")
        else:
            t, ts, x = _median_time(_lu_runner(A.tocsr().tocsc(), b), repeats)
            record("direct", t, ts, x, note="SuperLU")
    return rows
