"""Benchmark of curvilinear Poisson solves: nested diagonalization against fdm and AMG.

For a disk or an annulus of about ``dofs`` unknowns (Q_p, homogeneous Dirichlet on the outer
circle, θ periodic, ``cells = (n, n)``), or a 3D cylinder (radius 1, height 1, Dirichlet on
the outer wall, bottom and top, ``cells = (n, n, n)``), three solvers of the same size run
interleaved:

* ``nested`` — femkron's exact nested diagonalization of the curvilinear operator (θ by real
  FFTs when uniform Q1, else dense eigenvectors; one banded LU per θ-mode, per (θ, z)-mode
  pair on the cylinder);
* ``fdm-sq`` — fast diagonalization of the Poisson operator on a square (the cylinder: a
  cube) of the same size (what the curvilinear solve should come close to);
* ``amg`` — pyamg smoothed-aggregation CG on the *same* assembled curvilinear matrix, to
  ``rtol = 1e-8``.

Times are set-up plus one solve (the operator is made before the clock starts); the report
gives median and best of the repeats and the ratios against ``nested``.

Examples
--------
>>> rows = coordinates_case("annulus", order=1, dofs=2000, repeats=1)
>>> [r["method"] for r in rows]
['nested', 'fdm-sq', 'amg']
>>> rows[2]["max_diff"] < 1e-6
True
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_int, check_choice
from ..fem.bc import BoundaryConditions
from ..fem.tensor import TensorSpace, stiffness
from ..linalg.solve import make_solver
from .cases import _interleaved

__all__ = ["coordinates_case", "COORDINATE_DOMAINS"]

#: The domains of ``femkron bench --kind coordinates``.
COORDINATE_DOMAINS = ("disk", "annulus", "cylinder")


def _timed(func):
    def run():
        t0 = time.perf_counter()
        out = func()
        return time.perf_counter() - t0, out

    return run


def coordinates_case(domain, order, dofs, repeats=3, rtol=1e-8):
    """Rows of one curvilinear case (see the module docstring).

    Each row: ``kind="coordinates"``, ``dim`` (2, the cylinder 3), ``order``, ``dofs``, ``method``,
    ``seconds`` (median of set-up + solve), ``best``, ``times``, ``setup``, ``solve`` (of the
    best repeat), ``max_diff`` (largest difference to the nested solution, relative; for the
    square: ``None``), ``ratio`` (time over nested's median) and ``note``.
    """
    check_choice(domain, "domain", COORDINATE_DOMAINS)
    order = as_int(order, "order", minimum=1, maximum=10)
    dofs = as_int(int(dofs), "dofs", minimum=16)
    repeats = as_int(repeats, "repeats", minimum=1)
    dim = 3 if domain == "cylinder" else 2
    n = max(4, int(round(dofs ** (1.0 / dim) / order)))
    if domain == "disk":
        V = TensorSpace.disk(radius=1.0, cells=(n, n), order=order)
    elif domain == "cylinder":
        V = TensorSpace.cylinder(radius=1.0, height=1.0, cells=(n, n, n), order=order)
    else:
        V = TensorSpace.annulus(0.5, 1.0, cells=(n, n), order=order)
    A = BoundaryConditions(V).constrain(stiffness(V))
    N = A.shape[0]
    b = np.random.default_rng(0).standard_normal(N)
    S = TensorSpace.box([(0.0, 1.0)] * dim, cells=n, order=order)
    As = BoundaryConditions(S).constrain(stiffness(S))
    bs = np.random.default_rng(0).standard_normal(As.shape[0])
    csr = A.tocsr()

    def run(op, rhs, method, **kw):
        def go():
            t0 = time.perf_counter()
            s = make_solver(op, method, check=False, **kw)
            t1 = time.perf_counter()
            x = s.solve(rhs)
            return (t1 - t0, time.perf_counter() - t1, x, s.info)

        return go

    funcs = {
        "nested": _timed(run(A, b, "nested")),
        "fdm-sq": _timed(run(As, bs, "fdm")),
        "amg": _timed(run(csr, b, "amg", rtol=rtol)),
    }
    runs = _interleaved(funcs, repeats)
    rows = []
    ref = runs["nested"][-1][1][2]
    base = float(np.median([t for t, _ in runs["nested"]]))
    for name, rs in runs.items():
        times = [t for t, _ in rs]
        k = int(np.argmin(times))
        setup, solve, x, info = rs[k][1]
        diff = None if name == "fdm-sq" else float(np.abs(x - ref).max() / np.abs(ref).max())
        median = float(np.median(times))
        note = f"{domain}, setup {setup:.3g} s + solve {solve:.3g} s"
        if name == "amg":
            note += f", {info.iterations} CG iterations"
        if name != "nested":
            note += f"; {median / base:.3g}x nested's time"
        rows.append(
            dict(
                kind="coordinates",
                dim=dim,
                order=order,
                dofs=int(x.size),
                method=name,
                seconds=median,
                best=float(min(times)),
                times=times,
                setup=setup,
                solve=solve,
                max_diff=diff,
                ratio=median / base,
                note=note,
            )
        )
    return rows
