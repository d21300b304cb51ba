"""The 3D Poisson scale run (``femkron bench --scale``, 10^8 unknowns by default).

``-Δu = f`` on the unit cube, Q1, homogeneous Dirichlet conditions, ``u = Π sin(π x_d)``:
load vector, fast-diagonalization solve by sine transforms, residual and maximum nodal
error, with the CPU time (user and system), wall time, fresh memory and peak memory of every
step, and never a CSR matrix.

The run is built to touch as little fresh memory as possible (on virtual machines the first
touch of a page can run at a tenth of the speed of memory already touched; ``trace=True``
counts the full-size arrays each step holds at once, by :mod:`tracemalloc`):

* the load is separable, so ``b = ⊗_d b_d`` from three 1D load vectors (sum factorisation of
  ``f = 3π² Π sin(π x_d)``), written once into the one full-size array of the run;
* the solve transforms that array in place (``FastDiagonalization.solve(b,
  overwrite_b=True)``): it then holds ``x``;
* the residual ``‖b - A x‖`` is one operator product taken plane by plane along the first
  axis (:func:`femkron.linalg.checks.slab_residual`), with the planes of ``b`` rebuilt from
  the 1D loads; the nodal error is taken plane by plane too.

The fast diagonalization stores no ``1/Λ``: its solve streams over the array in three passes
and forms ``1/Λ`` slab by slab (:attr:`femkron.FastDiagonalization.streamed`).

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


class _Meter:
    """CPU user/system time, wall time, page faults and traced peak of the steps of a run.

    With :mod:`tracemalloc` tracing (numpy reports its arrays to it), ``arrays[step]`` is
    the most memory the step held at once beyond what it started with, in units of one
    full-size float array.
    """

    def __init__(self, nbytes):
        self.nbytes = nbytes
        self.steps = {}
        self.cpu = {}
        self.faults = {}
        self.arrays = {}

    def __call__(self, name, func):
        import tracemalloc

        tracing = tracemalloc.is_tracing()
        if tracing:
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        out = func()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        self.steps[name] = wall
        self.cpu[name] = {"user": r1.ru_utime - r0.ru_utime, "system": r1.ru_stime - r0.ru_stime}
        self.faults[name] = r1.ru_minflt - r0.ru_minflt
        if tracing:
            self.arrays[name] = (tracemalloc.get_traced_memory()[1] - start) / self.nbytes
        return out


def _peak_bytes():
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def scale_run(dofs=10**8, progress=True, trace=False):
    """Time the 3D Q1 Poisson solve with about ``dofs`` unknowns, step by step.

    ``-Δu = f`` with ``u = sin(πx) sin(πy) sin(πz)``: load vector (separable: three 1D
    loads and one outer product), fast-diagonalization set-up and solve (sine transforms, in
    place), the residual by one plane-by-plane operator product, and the max error at the
    dofs.  No CSR matrix is formed.

    Returns a row with ``seconds`` (wall), ``cpu_user`` and ``cpu_system`` (s, the whole
    run), ``steps`` (wall per step), ``cpu`` (per step ``{"user", "system"}``),
    ``page_faults`` (minor faults per step), ``peak_arrays`` (with ``trace=True``: per step
    the most memory held at once beyond its start, in full-size float arrays, measured by
    :mod:`tracemalloc`, which then runs during the whole run), ``residual``,
    ``max_error``, ``peak_bytes`` (the process's ``ru_maxrss``) and ``peak_gain_bytes``
    (how far this run raised it).

    Examples
    --------
    >>> r = scale_run(2000, progress=False)   # 13³ unknowns: dense 1D eigenvectors
    >>> sorted(r["steps"]), bool(r["residual"] < 1e-12)
    (['error', 'load', 'residual', 'setup', 'solve'], True)
    """
    from ..fem.bc import BoundaryConditions
    from ..fem.tensor import stiffness
    from ..kron.diagonalize import FastDiagonalization
    from ..linalg.checks import slab_residual

    n = int(np.ceil(dofs ** (1.0 / 3.0)))
    cells = _fast_cells(n + 1)
    V = _space(3, 1, cells)
    shape = tuple(s.ndofs - 2 for s in V.spaces)  # the free (interior) dofs
    N = int(np.prod(shape, dtype=np.int64))
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if progress else (lambda s: None)
    say(f"scale: {N} unknowns ({cells} cells per axis)")
    peak0 = _peak_bytes()
    if trace:
        import tracemalloc

        tracemalloc.start()
    meter = _Meter(8 * N)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t_all = time.perf_counter()
    factors = (
        lambda x: 3 * np.pi**2 * np.sin(np.pi * x),
        lambda y: np.sin(np.pi * y),
        lambda z: np.sin(np.pi * z),
    )

    def load():
        loads = [s.load(g)[1:-1] for s, g in zip(V.spaces, factors)]  # free dofs per axis
        inner = np.multiply.outer(loads[1], loads[2])
        b = np.empty(shape)
        np.multiply(loads[0][:, None, None], inner[None, :, :], out=b)
        return b.reshape(-1), loads, inner

    b, loads, inner = meter("load", load)
    say(f"scale: load vector {meter.steps['load']:.2f} s")

    def setup():
        A = BoundaryConditions(V).constrain(stiffness(V))
        return A, FastDiagonalization(A)

    A, F = meter("setup", setup)
    x = meter("solve", lambda: F.solve(b, overwrite_b=True))  # b's memory now holds x
    say(f"scale: fdm setup {meter.steps['setup']:.2f} s, solve {meter.steps['solve']:.2f} s")
    rnorm, bnorm = meter(
        "residual",
        lambda: slab_residual(A, x, lambda i0, i1: loads[0][i0:i1, None, None] * inner),
    )
    residual = rnorm / bnorm

    def error():
        X = x.reshape(shape)
        s = [np.sin(np.pi * c[1:-1]) for c in V.coords]
        yz = np.multiply.outer(s[1], s[2])
        err = 0.0
        for i in range(X.shape[0]):  # one plane at a time: no N-sized temporary
            err = max(err, float(np.abs(X[i] - s[0][i] * yz).max()))
        return err

    err = meter("error", error)
    total = time.perf_counter() - t_all
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    if trace:
        tracemalloc.stop()
    peak = _peak_bytes()
    user, system = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime
    say(
        f"scale: residual {residual:.1e}, max error {err:.2e}, {total:.1f} s wall, "
        f"{user:.1f} s user + {system:.1f} s system CPU, peak {peak / 2**30:.2f} GiB"
    )
    return {
        "kind": "scale",
        "dim": 3,
        "order": 1,
        "dofs": N,
        "cells": cells,
        "method": "fdm",
        "transforms": list(F.transforms),
        "seconds": total,
        "cpu_user": user,
        "cpu_system": system,
        "steps": meter.steps,
        "cpu": meter.cpu,
        "page_faults": meter.faults,
        "peak_arrays": meter.arrays,
        "residual": residual,
        "max_error": err,
        "peak_bytes": int(peak),
        "peak_gain_bytes": int(max(0, peak - peak0)),
        "max_diff": None,
        "times": [total],
    }
