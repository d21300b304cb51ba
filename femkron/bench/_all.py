"""Assembly and solve benchmarks behind ``femkron bench``.

Assembly of the Q_p Laplacian (all dofs, no boundary condition) by

* ``tocsr``   — :meth:`KronOperator.tocsr` (Kronecker pattern, values by dense products);
* ``copy``    — one copy of the resulting CSR arrays (the memory-speed yardstick);
* ``kron``    — the baseline ``Σ scipy.sparse.kron(...)`` summed by scipy;
* ``ebe``     — classical vectorised element-by-element assembly (:func:`femkron.assemble`);
* ``skfem``   — scikit-fem ``Basis`` + ``assemble`` when installed (small enough sizes);
* ``apply`` / ``spmv`` — one matrix-free product against one CSR product;

and the solve of ``-Δu = 1`` with homogeneous Dirichlet conditions by ``fdm`` (setup +
solve), ``amg`` (pyamg smoothed-aggregation CG, hierarchy setup included), ``cg`` (Jacobi,
matrix-free) and ``direct`` (sparse LU); and (``--kind kappa``, :func:`kappa_case`) the 2D
variable-coefficient solve by matrix-free fdm-preconditioned CG against pyamg on the
element-by-element matrix, with iteration counts over several mesh sizes.  Every assembly
is compared with ``tocsr`` and every solution with ``fdm`` (the maximum difference is
reported); times are medians of repeats.

BLAS and FFT threads: the numbers depend on them, so ``--threads`` re-runs the benchmark in a
fresh Python process with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` set
before numpy is imported.

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

import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

from .._limits import check_allocation
from .._validate import as_int
from ..errors import FemkronValueError, ResourceError

__all__ = [
    "ASSEMBLY_METHODS",
    "SOLVE_METHODS",
    "KAPPA_METHODS",
    "assembly_case",
    "solve_case",
    "kappa_case",
    "kappa_coefficient",
    "scale_run",
    "targets",
    "add_arguments",
    "run",
]

ASSEMBLY_METHODS = ("tocsr", "copy", "kron", "ebe", "skfem", "apply", "spmv")
SOLVE_METHODS = ("fdm", "amg", "cg", "direct")
KAPPA_METHODS = ("fdm-cg", "amg")

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


def kappa_coefficient(x, y):
    """The benchmark coefficient ``κ = 1 + 9 sin²(πx) cos²(πy)``: smooth, contrast 10, not
    separable."""
    return 1.0 + 9.0 * np.sin(np.pi * x) ** 2 * np.cos(np.pi * y) ** 2


def kappa_case(order, dofs, repeats=1, rtol=1e-8, studies=3, methods=KAPPA_METHODS):
    """Time ``-∇·(κ∇u) = 1`` on the unit square (homogeneous Dirichlet, ``κ`` from
    :func:`kappa_coefficient`) with about ``dofs`` unknowns of order ``order``.

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
    from ..fem.assembly import assemble
    from ..fem.bc import BoundaryConditions
    from ..fem import MatrixFreeOperator, SeparablePreconditioner
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


def _fast_cells(n):
    """Smallest cell count >= n whose DST-I length 2·cells is 2·3·5-smooth."""
    from scipy.fft import next_fast_len

    c = max(2, n)
    while next_fast_len(2 * c, real=True) != 2 * c:
        c += 1
    return c


def scale_run(dofs=10**8, progress=True):
    """3D Q1 Poisson ``-Δu = f``, ``u = sin(πx) sin(πy) sin(πz)``, with about ``dofs``
    unknowns: load vector, fast-diagonalization solve (sine transforms), matrix-free residual
    and max error at the dofs, peak memory (``ru_maxrss``).  No CSR matrix is formed."""
    from ..fem.bc import BoundaryConditions
    from ..fem.tensor import load_vector, stiffness
    from ..kron.diagonalize import FastDiagonalization

    n = int(np.ceil(dofs ** (1.0 / 3.0)))
    cells = _fast_cells(n + 1)
    V = _space(3, 1, cells)
    steps = {}
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if progress else (lambda s: None)
    t_all = time.perf_counter()

    def f(x, y, z):
        return 3 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y) * np.sin(np.pi * z)

    t0 = time.perf_counter()
    A = BoundaryConditions(V).constrain(stiffness(V))
    N = A.shape[0]
    say(f"scale: {N} unknowns ({cells} cells per axis)")
    b_full = load_vector(V, f).reshape(V.shape)
    b = np.ascontiguousarray(b_full[1:-1, 1:-1, 1:-1]).reshape(-1)  # free = interior dofs
    del b_full
    steps["load"] = time.perf_counter() - t0
    say(f"scale: load vector {steps['load']:.1f} s")
    t0 = time.perf_counter()
    F = FastDiagonalization(A)
    steps["setup"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    x = F.solve(b)
    steps["solve"] = time.perf_counter() - t0
    say(f"scale: fdm setup {steps['setup']:.2f} s, solve {steps['solve']:.1f} s")
    t0 = time.perf_counter()
    r = A @ x
    r -= b
    residual = float(np.linalg.norm(r) / np.linalg.norm(b))
    del r
    steps["residual"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    X = x.reshape(F.shape1d)
    s = [np.sin(np.pi * c[1:-1]) for c in V.coords]
    err = 0.0
    for i in range(X.shape[0]):  # one plane at a time: no N-sized temporary
        err = max(err, float(np.abs(X[i] - s[0][i] * np.multiply.outer(s[1], s[2])).max()))
    steps["error"] = time.perf_counter() - t0
    total = time.perf_counter() - t_all
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (
        1 if sys.platform == "darwin" else 1024
    )
    say(
        f"scale: residual {residual:.1e}, max error {err:.2e}, {total:.1f} s, "
        f"peak {peak / 2**30:.2f} GiB"
    )
    return {
        "kind": "scale",
        "dim": 3,
        "order": 1,
        "dofs": int(N),
        "cells": cells,
        "transforms": list(F.transforms),
        "seconds": total,
        "steps": steps,
        "residual": residual,
        "max_error": err,
        "peak_bytes": int(peak),
    }


# ---- targets ------------------------------------------------------------------------------
def _pick(rows, kind, dim, order, method, near=10**6):
    cands = [
        r
        for r in rows
        if r["kind"] == kind
        and r["dim"] == dim
        and r["order"] == order
        and r["method"] == method
        and r.get("seconds")
    ]
    if not cands:
        return None
    return min(cands, key=lambda r: abs(np.log(r["dofs"] / near)))


#: (name, kind, dim, order, numerator method, denominator method, goal, larger is better)
_RATIO_TARGETS = (
    ("3D Q1 tocsr / one copy of its arrays", "assembly", 3, 1, "tocsr", "copy", 5.0, False),
    ("3D Q1 scipy kron-sum / tocsr", "assembly", 3, 1, "kron", "tocsr", 5.0, True),
    ("2D Q1 scikit-fem / tocsr", "assembly", 2, 1, "skfem", "tocsr", 100.0, True),
    ("3D Q1 CSR SpMV / matrix-free apply", "assembly", 3, 1, "spmv", "apply", 1.0, True),
    ("3D Q3 CSR SpMV / matrix-free apply", "assembly", 3, 3, "spmv", "apply", 5.0, True),
    ("2D Q1 pyamg SA-CG / fdm", "solve", 2, 1, "amg", "fdm", 20.0, True),
    ("3D Q1 pyamg SA-CG / fdm", "solve", 3, 1, "amg", "fdm", 30.0, True),
)


def targets(rows):
    """The issue's targets as ``(name, measured, goal, met)`` rows, from what was measured
    (closest size to 10^6 dofs)."""
    out = []

    def ratio(name, num, den, goal, larger=True, unit="×"):
        if num is None or den is None or num["dofs"] != den["dofs"]:
            return
        value = num["seconds"] / den["seconds"]
        met = value >= goal if larger else value <= goal
        out.append(
            {
                "target": name,
                "dofs": den["dofs"],
                "value": value,
                "goal": goal,
                "larger_is_better": larger,
                "met": bool(met),
                "unit": unit,
            }
        )

    for name, kind, dim, order, num, den, goal, larger in _RATIO_TARGETS:
        ratio(
            name,
            _pick(rows, kind, dim, order, num),
            _pick(rows, kind, dim, order, den),
            goal,
            larger=larger,
        )
    for p in sorted({r["order"] for r in rows if r["kind"] == "kappa"}):
        ratio(
            f"2D Q{p} variable κ: pyamg SA-CG / fdm-CG",
            _pick(rows, "kappa", 2, p, "amg"),
            _pick(rows, "kappa", 2, p, "fdm-cg"),
            5.0,
        )
        r = _pick(rows, "kappa", 2, p, "fdm-cg")
        if r is not None and r.get("iterations_by_cells"):
            its = [i for _, i in r["iterations_by_cells"]]
            out.append(
                {
                    "target": f"2D Q{p} variable κ: fdm-CG iteration spread",
                    "dofs": r["dofs"],
                    "value": float(max(its) - min(its)),
                    "goal": 2.0,
                    "larger_is_better": False,
                    "met": max(its) - min(its) <= 2,
                    "unit": " it",
                }
            )
    for r in rows:
        if r["kind"] == "scale":
            out.append(
                {
                    "target": "3D Q1 scale run: seconds",
                    "dofs": r["dofs"],
                    "value": r["seconds"],
                    "goal": 60.0,
                    "larger_is_better": False,
                    "met": r["seconds"] <= 60.0,
                    "unit": "s",
                }
            )
            out.append(
                {
                    "target": "3D Q1 scale run: peak GiB",
                    "dofs": r["dofs"],
                    "value": r["peak_bytes"] / 2**30,
                    "goal": 8.0,
                    "larger_is_better": False,
                    "met": r["peak_bytes"] <= 8 * 2**30,
                    "unit": "GiB",
                }
            )
    return out


# ---- command line -------------------------------------------------------------------------
def add_arguments(parser):
    """Add the ``femkron bench`` options to an argparse parser."""
    parser.add_argument(
        "--kind",
        choices=["assembly", "solve", "kappa", "all"],
        default="all",
        help="what to benchmark: all = assembly and solve; kappa = the 2D variable-coefficient "
        "solve (matrix-free fdm-CG against pyamg), run for the --orders and --sizes",
    )
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3], help="dimensions (2 3)")
    parser.add_argument("--orders", type=int, nargs="+", default=[1], help="orders (1)")
    parser.add_argument(
        "--sizes",
        type=float,
        nargs="+",
        default=[1e4, 1e5],
        help="approximate dofs per case (1e4 1e5); 1e6 for the targets",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help=f"subset of {', '.join(ASSEMBLY_METHODS + SOLVE_METHODS + KAPPA_METHODS[:1])}",
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats per measurement (3)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/FFT threads: re-runs in a fresh process with them set",
    )
    parser.add_argument(
        "--scale", action="store_true", help="also run the 3D Poisson scale case (see --scale-dofs)"
    )
    parser.add_argument("--scale-dofs", type=float, default=1e8, help="unknowns of --scale (1e8)")
    parser.add_argument("--json", metavar="FILE", help="write all rows and targets as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="log-log time vs dofs figure")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _argv(args):
    """The ``femkron bench`` command line of parsed ``args`` (for the re-run)."""
    argv = ["bench", "--kind", args.kind, "--repeats", str(args.repeats)]
    argv += ["--dims", *map(str, args.dims), "--orders", *map(str, args.orders)]
    argv += ["--sizes", *(f"{s:g}" for s in args.sizes), "--threads", str(args.threads)]
    if args.methods:
        argv += ["--methods", *args.methods]
    if args.scale:
        argv += ["--scale", "--scale-dofs", f"{args.scale_dofs:g}"]
    for flag, value in (("--json", args.json), ("--plot", args.plot)):
        if value:
            argv += [flag, value]
    if args.no_progress:
        argv.append("--no-progress")
    return argv


def _threads_env():
    return os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")


def _machine():
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": __import__("scipy").__version__,
        "threads": _threads_env() or "default",
    }


def _fmt(v, digits=3):
    return "—" if v is None else f"{v:.{digits}g}"


def run(args):
    """Run ``femkron bench`` with parsed ``args``; returns the exit status."""
    from tqdm.auto import tqdm

    from .._files import atomic_path, check_writable

    if args.threads is not None:
        threads = as_int(args.threads, "--threads", minimum=1)
        if _threads_env() != str(threads):
            env = dict(os.environ)
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env[var] = str(threads)
            code = "import sys; from femkron.cli import main; sys.exit(main(sys.argv[1:]))"
            return subprocess.call([sys.executable, "-c", code, *_argv(args)], env=env)
    for d in args.dims:
        if d not in (1, 2, 3):
            raise FemkronValueError(f"--dims must be 1, 2 or 3, got {d}")
    for p in args.orders:
        as_int(p, "--orders", minimum=1, maximum=10)
    for s in args.sizes:
        if not (np.isfinite(s) and 1 <= s <= 1e9):
            raise FemkronValueError(f"--sizes must be between 1 and 1e9 dofs, got {s:g}")
    repeats = as_int(args.repeats, "--repeats", minimum=1)
    every = ASSEMBLY_METHODS + SOLVE_METHODS + KAPPA_METHODS[:1]
    methods = tuple(args.methods) if args.methods else every
    unknown = [m for m in methods if m not in every]
    if unknown:
        raise FemkronValueError(
            f"--methods: unknown {', '.join(unknown)}; accepted: {', '.join(every)}"
        )
    kappa_methods = tuple(m for m in KAPPA_METHODS if m in methods) or KAPPA_METHODS
    if args.json:
        check_writable(args.json, "--json")
    if args.plot:
        check_writable(args.plot, "--plot")
    cases = []
    if args.kind == "kappa":
        cases = [("kappa", 2, order, int(size)) for order in args.orders for size in args.sizes]
    for kind in ("assembly", "solve"):
        if args.kind in (kind, "all"):
            for dim in args.dims:
                for order in args.orders:
                    for size in args.sizes:
                        cases.append((kind, dim, order, int(size)))
    rows = []
    bar = tqdm(cases, desc="femkron bench", disable=args.no_progress, leave=False)
    for kind, dim, order, size in bar:
        bar.set_postfix_str(f"{kind} {dim}D Q{order} ~{size:.0e}")
        try:
            if kind == "assembly":
                rows += assembly_case(dim, order, size, repeats, methods)
            elif kind == "kappa":
                rows += kappa_case(order, size, repeats, methods=kappa_methods)
            else:
                rows += solve_case(dim, order, size, repeats, methods)
        except ResourceError as err:
            rows.append(
                {
                    "kind": kind,
                    "dim": dim,
                    "order": order,
                    "dofs": size,
                    "method": "-",
                    "seconds": None,
                    "times": [],
                    "max_diff": None,
                    "note": f"skipped: {err}",
                }
            )
    bar.close()
    if args.scale:
        rows.append(scale_run(int(args.scale_dofs), progress=not args.no_progress))
    goals = targets(rows)
    _print(rows, goals)
    if args.json:
        with atomic_path(args.json, "--json") as tmp, open(tmp, "w") as fh:
            json.dump({"machine": _machine(), "rows": rows, "targets": goals}, fh, indent=1)
    if args.plot:
        plot_rows(rows, args.plot)
    return 0


def _print(rows, goals):
    print(f"femkron bench on {os.cpu_count()} CPUs, BLAS threads: {_threads_env() or 'default'}")
    head = f"{'kind':8} {'dim':>3} {'p':>2} {'dofs':>9} {'method':7} {'median s':>10} "
    head += f"{'max diff':>9}  note"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["kind"] == "scale":
            continue
        extra = r.get("note", "")
        if r.get("residual") is not None:
            extra = f"residual {r['residual']:.1e}, {r['iterations']} it; " + extra
        print(
            f"{r['kind']:8} {r['dim']:>3} {r['order']:>2} {r['dofs']:>9} {r['method']:7} "
            f"{_fmt(r['seconds']):>10} {_fmt(r['max_diff'], 2):>9}  {extra}"
        )
    for r in rows:
        if r["kind"] == "scale":
            st = ", ".join(f"{k} {v:.1f} s" for k, v in r["steps"].items())
            print(
                f"scale: 3D Q1 {r['dofs']} unknowns in {r['seconds']:.1f} s ({st}); "
                f"residual {r['residual']:.1e}, max error {r['max_error']:.2e}, "
                f"peak memory {r['peak_bytes'] / 2**30:.2f} GiB"
            )
    if goals:
        print("targets (ratios in this run):")
        for g in goals:
            rel = "≥" if g["larger_is_better"] else "≤"
            print(
                f"  {g['target']:40} {g['value']:9.3g}{g['unit']} (goal {rel} {g['goal']:g}) "
                f"{'met' if g['met'] else 'MISSED'}"
            )


def plot_rows(rows, path):
    """Log–log time against dofs, one panel per (assembly | solve, dimension), one line per
    method (and order)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .._files import atomic_path
    from ..plot import plot_benchmark

    titles = {
        "assembly": "{d}D Laplacian: assembly and one product",
        "solve": "{d}D Poisson solve, residual 1e-10",
        "kappa": "{d}D variable κ (contrast 10), residual 1e-8",
    }
    panels = sorted(
        {(r["kind"], r["dim"]) for r in rows if r["kind"] in titles and r.get("seconds")},
        key=lambda kd: (kd[1], kd[0]),
    )
    if not panels:
        raise FemkronValueError("no timings to plot")
    ncol = 2 if len(panels) > 1 else 1
    nrow = (len(panels) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 4.2 * nrow), squeeze=False)
    for ax, (kind, dim) in zip(axes.ravel(), panels):
        orders = {r["order"] for r in rows if r["kind"] == kind and r["dim"] == dim}
        sel = [
            {
                "method": r["method"]
                + (f" Q{r['order']}" if len(orders) > 1 or kind == "kappa" else ""),
                "dofs": r["dofs"],
                "seconds": r["seconds"],
            }
            for r in rows
            if r["kind"] == kind and r["dim"] == dim and r.get("seconds")
        ]
        plot_benchmark(sel, ax=ax, title=titles[kind].format(d=dim))
        ax.legend(fontsize=8, loc="upper left")
    for ax in axes.ravel()[len(panels) :]:
        ax.set_axis_off()
    fig.suptitle("femkron bench: median wall time against degrees of freedom")
    fig.tight_layout()
    with atomic_path(path, "--plot") as tmp:
        fig.savefig(tmp, dpi=72, format="png")
    plt.close(fig)
    return path


def main(argv=None):  # pragma: no cover - convenience for ``python -m femkron.bench``
    import argparse

    parser = argparse.ArgumentParser(prog="femkron bench")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
