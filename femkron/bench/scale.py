"""The 3D Poisson scale run (``femkron bench --scale``, 10^8 unknowns by default).

Load vector, fast-diagonalization solve by sine transforms, matrix-free residual, maximum
nodal error and peak memory, without ever forming a CSR matrix.

See Also
--------
femkron.bench.cases : the assembly and solve benchmarks at smaller sizes.
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from .cases import _space

__all__ = ["scale_run"]


def _fast_cells(n):
    """Smallest cell count >= n whose DST-I length 2·cells is 2·3·5-smooth."""
    from scipy.fft import next_fast_len

    c = max(2, n)
    while next_fast_len(2 * c, real=True) != 2 * c:
        c += 1
    return c


def scale_run(dofs=10**8, progress=True):
    """Time the 3D Q1 Poisson solve with about ``dofs`` unknowns, step by step.

    ``-Δu = f`` with ``u = sin(πx) sin(πy) sin(πz)``: load vector, fast-diagonalization
    solve (sine transforms), matrix-free residual and max error at the dofs, peak memory
    (``ru_maxrss``).  No CSR matrix is formed.
    """
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
