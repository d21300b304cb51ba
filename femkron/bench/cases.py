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
solution with ``fdm`` (the maximum difference is reported).  The methods of a case run
interleaved (A, B, A, B, ...); rows give the median (``seconds``) and the best (``best``).

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


def _solve_row(base, method, runs, C, b, ref):
    """The row of one solve method from its interleaved runs, and its median run.

    ``runs`` are dicts with ``setup``, ``solve``, ``x`` and ``iterations``; the row has the
    median (``seconds``) and best total, every total, the median run's split, its relative
    residual ``‖b - C x‖ / ‖b‖`` and its largest difference from ``ref`` (``None``: itself).
    """
    totals = [r["setup"] + r["solve"] for r in runs]
    k = int(np.argsort(totals)[len(totals) // 2])  # the median run
    run = runs[k]
    x = run["x"]
    ref = x if ref is None else ref
    row = dict(
        base,
        method=method,
        seconds=totals[k],
        best=float(min(totals)),
        times=totals,
        setup=run["setup"],
        solve=run["solve"],
        residual=float(np.linalg.norm(b - C @ x) / np.linalg.norm(b)),
        iterations=int(run["iterations"]),
        max_diff=float(np.abs(x - ref).max() / np.abs(ref).max()),
    )
    return row, run


def _interleaved(funcs, repeats):
    """Run ``funcs`` (name → callable) in turn, ``repeats`` rounds: A, B, A, B, ...

    Interleaving spreads the machine's noise (other work, page faults, turbo) over every
    method alike.  Returns ``{name: [result of each round]}``.
    """
    out = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            out[name].append(func())
    return out


def _interleaved_times(funcs, repeats):
    """Wall times of ``funcs`` run interleaved: ``{name: (median, best, times, last result)}``."""

    def timed(func):
        def run():
            t0 = time.perf_counter()
            result = func()
            return time.perf_counter() - t0, result

        return run

    runs = _interleaved({name: timed(f) for name, f in funcs.items()}, repeats)
    out = {}
    for name, rs in runs.items():
        times = [t for t, _ in rs]
        out[name] = (float(np.median(times)), float(min(times)), times, rs[-1][1])
    return out


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
    C = A.tocsr()  # the reference matrix (and the copy's source)
    base["nnz"] = int(C.nnz)
    funcs, compare = {}, {}
    if "tocsr" in methods:
        funcs["tocsr"] = A.tocsr
    if "copy" in methods:
        funcs["copy"] = lambda: (C.data.copy(), C.indices.copy(), C.indptr.copy())
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

            funcs[method] = kron_sum
        elif method == "ebe":
            from ..fem.assembly import assemble

            funcs[method] = lambda: assemble(V, quad=order + 1)
        else:
            try:
                import skfem  # noqa: F401
            except ImportError:
                row(method, None, [], note="skipped: scikit-fem not installed")
                continue
            if _skfem_assemble(dim, order, 1) is None:
                row(method, None, [], note=f"skipped: no scikit-fem element for Q{order}")
                continue
            funcs[method] = lambda: _skfem_assemble(dim, order, cells)
    # interleaved rounds (tocsr, copy, kron, ...), so that noise hits every method alike
    for method, (t, best, ts, out) in _interleaved_times(funcs, repeats).items():
        if method == "copy":
            diff = None
        elif method == "skfem":
            diff = _csr_diff(C, _skfem_matrix_in_femkron_order(out[0], out[1], V))
        else:
            diff = _csr_diff(C, out)
        row(method, t, ts, diff)
        rows[-1]["best"] = best
        compare[method] = out
    if "apply" in methods or "spmv" in methods:
        x = np.random.default_rng(0).standard_normal(N)
        A @ x  # first call builds the kernels
        prod = _interleaved_times({"apply": lambda: A @ x, "spmv": lambda: C @ x}, max(repeats, 5))
        diff = float(np.abs(prod["apply"][3] - prod["spmv"][3]).max())
        for method in ("apply", "spmv"):
            if method in methods:
                t, best, ts, _ = prod[method]
                row(method, t, ts, diff if method == "apply" else 0.0)
                rows[-1]["best"] = best
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
    funcs = {}
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

            funcs["fdm"] = run_fdm
        elif method == "amg":
            funcs["amg"] = _amg_runner(A.tocsr(), b, rtol)
        elif method == "cg":
            funcs["cg"] = _cg_runner(A, b, rtol)
        else:
            funcs["direct"] = _lu_runner(A.tocsr().tocsc(), b)
    # interleaved rounds (fdm, amg, cg, direct, fdm, ...): noise hits every method alike
    for method, (t, best, ts, out) in _interleaved_times(funcs, repeats).items():
        if method == "fdm":
            record("fdm", t, ts, out[0], note="transforms: " + ",".join(out[1].transforms))
        elif method == "amg":
            record("amg", t, ts, out[0], out[1], note="pyamg smoothed aggregation, CG, V-cycle")
        elif method == "cg":
            record("cg", t, ts, out[0], out[1], note="Jacobi-preconditioned, matrix-free")
        else:
            record("direct", t, ts, out, note="SuperLU")
        rows[-1]["best"] = best
    return rows
