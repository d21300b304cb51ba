"""The subcommands of the ``femkron`` command; the parser and ``main`` are in :mod:`femkron.cli`.

Each ``cmd_*`` takes the parsed arguments and returns the exit status.  A bad combination of
arguments raises :class:`UsageError`, which ``main`` prints as one line (exit status 2); the
checks of the arguments and the spaces they name are in :mod:`femkron.cli.arguments`.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from .._version import __version__
from .arguments import (  # importable from here as before
    SOLVE_PROBLEMS,
    UsageError,
    _cells,
    _check_args,
    _check_wavenumber,
    _say_space,
    _solution_outputs,
    _space,
    manufactured,
)
from .output import (
    check_outputs,
    describe_box,
    describe_orders,
    describe_space,
    save_figure,
    say,
    write_json,
)

__all__ = [
    "UsageError",
    "cmd_bench",
    "cmd_convergence",
    "cmd_eig",
    "cmd_info",
    "cmd_mms",
    "cmd_solve",
    "exact_eigenvalues",
    "info_record",
]


# ---- the built-in stationary problems ---------------------------------------------------
def _solve_stationary(args, V, k):
    """Solve the manufactured Poisson (``k = 0``) or Helmholtz (wavenumber ``k``) problem.

    Solves on ``V``; returns ``(solution, seconds, exact, grad)``.
    """
    from ..problems import helmholtz, poisson

    kappa = args.kappa
    if isinstance(kappa, str):  # an expression: f = -∇·(κ∇u) - k²u computed symbolically
        exact, source, grad, kappa = _variable_kappa(V, kappa, k)
    else:
        exact, source, grad, _ = manufactured(V.bounds, kappa, -k * k)
    t0 = time.perf_counter()
    if args.problem == "helmholtz":
        sol = helmholtz(V, source, wavenumber=k, kappa=kappa, method=args.method)
    else:
        sol = poisson(V, source, kappa=kappa, method=args.method)
    return sol, time.perf_counter() - t0, exact, grad


def _variable_kappa(V, text, k):
    """The built-in solution ``Π sin(π (x_d - a_d)/L_d)`` with ``κ`` the expression ``text``.

    Returns ``(exact, source, grad, kappa)`` with the source computed by
    :func:`femkron.manufactured`.
    """
    from ..fem.expressions import parse_expression
    from ..fem.manufactured import manufactured as symbolic

    names = ("x", "y", "z")[: V.dim]
    kappa = parse_expression(text, names, where="--kappa")
    u = " * ".join(
        f"sin(pi*({n} - {float(a)!r})/{float(b - a)!r})" for n, (a, b) in zip(names, V.bounds)
    )
    ms = symbolic(u, kappa=kappa, sigma=-k * k, dim=V.dim)
    coef = ms.kappa.value if ms.kappa.is_constant else ms.kappa
    if not isinstance(coef, float) and np.any(V.interpolate(ms.kappa) <= 0):
        raise UsageError(f"femkron: error: --kappa {text!r} must be > 0 on the box")
    return ms.u, ms.f, ms.grad, coef


# ---- solve ------------------------------------------------------------------------------
def cmd_solve(args):
    """``femkron solve [poisson|helmholtz|heat]`` or ``femkron solve PROBLEM.toml``."""
    if args.problem not in SOLVE_PROBLEMS:
        if args.problem.endswith(".toml") or os.path.exists(args.problem):
            from .solve_file import cmd_solve_file

            return cmd_solve_file(args, UsageError)
        raise UsageError(
            f"femkron solve: error: argument PROBLEM: invalid choice: {args.problem!r} (choose "
            f"from {', '.join(map(repr, SOLVE_PROBLEMS))}, or a problem file ending in .toml)"
        )
    if getattr(args, "domain", None) not in (None, "box"):
        from .curvilinear import cmd_solve_domain

        return cmd_solve_domain(args)
    _check_args(args)
    if args.theta is None:
        args.theta = 0.5
    if args.problem == "heat" and isinstance(args.kappa, str):
        raise UsageError(
            "femkron: error: --kappa: the built-in heat problem needs a constant κ (its exact "
            "solution decays as e^(-κλt)); write a problem file for a variable κ"
        )
    if args.problem != "heat" and (args.t_end is not None or args.dt is not None):
        raise UsageError("femkron: error: --t-end and --dt are options of `solve heat`")
    _check_wavenumber(args, "solve")
    V = _space(args)
    record = {
        "femkron": __version__,
        "problem": args.problem,
        "dim": V.dim,
        "bounds": [list(b) for b in V.bounds],
        "cells": list(V.mesh.shape),
        "order": list(V.orders),
        "nodes": V.spaces[0].nodes,
        "shape": list(V.shape),
        "dofs": V.ndofs,
        "kappa": args.kappa,
    }
    if args.problem == "heat":
        return _solve_heat(args, V, record)
    k = 0.0
    if args.problem == "helmholtz":
        k = 5.0 if args.wavenumber is None else args.wavenumber
        record["wavenumber"] = k
    sol, seconds, exact, grad = _solve_stationary(args, V, k)
    if args.problem == "helmholtz":
        what = f"Helmholtz -κΔu - k²u = f (k = {k:g})"
    else:
        what = "Poisson -κΔu = f"
    if isinstance(args.kappa, str):
        what = what.replace("κΔu", "∇·(κ∇u)") + f", κ = {' '.join(args.kappa.split())}"
    l2 = sol.error(exact, "L2")
    h1 = sol.error(exact, "H1", grad=grad)
    say(
        f"femkron {__version__}: {what} on {describe_box(V)}, u = Π sin(π x_i / L_i), "
        "homogeneous Dirichlet"
    )
    _say_space(V)
    say(
        f"  method  : {sol.info.method}  ({sol.info.iterations} iterations, "
        f"relative residual {sol.info.residual:.1e})"
    )
    say(f"  time    : {seconds:.3f} s (assembly + solve)")
    say(f"  L2 error: {l2:.3e}")
    say(f"  H1 error: {h1:.3e}  (seminorm)")
    record.update(
        method=sol.info.method,
        iterations=sol.info.iterations,
        residual=float(sol.info.residual),
        seconds=seconds,
        errors={"L2": l2, "H1": h1},
    )
    return _solution_outputs(args, V, sol.values, exact, record, sol.plot)


def _solve_heat(args, V, record):
    from ..problems import heat

    kappa = args.kappa
    t_end = 0.05 if args.t_end is None else args.t_end
    dt = t_end / 50 if args.dt is None else args.dt
    exact0, _, _, lam = manufactured(V.bounds)
    t0 = time.perf_counter()
    ht = heat(
        V,
        exact0,
        t_end=t_end,
        dt=dt,
        theta=args.theta,
        kappa=kappa,
        method=args.method,
        snapshots=6,
        progress=False,
    )
    seconds = time.perf_counter() - t0
    decay = float(np.exp(-kappa * lam * ht.t[-1]))
    sol = ht.snapshot(len(ht.t) - 1)

    def exact(*xs):
        return decay * exact0(*xs)

    l2 = sol.error(exact, "L2")
    say(
        f"femkron {__version__}: heat u_t = κΔu on {describe_box(V)}, u(0) = Π sin(π x_i / L_i), "
        "homogeneous Dirichlet"
    )
    _say_space(V)
    say(f"  steps   : {ht.steps} of dt = {t_end / max(ht.steps, 1):.3g}, θ = {args.theta:g}")
    say(f"  method  : {ht.info.method}")
    say(f"  time    : {seconds:.3f} s (assembly + {ht.steps} steps)")
    say(f"  L2 error: {l2:.3e}  at t = {ht.t[-1]:g} (exact decay e^(-κλt) = {decay:.6f})")
    record.update(
        method=ht.info.method,
        seconds=seconds,
        steps=ht.steps,
        t_end=float(ht.t[-1]),
        theta=args.theta,
        errors={"L2": l2},
    )

    def figure():
        from ..plot import plot_heat

        return plot_heat(ht)

    return _solution_outputs(args, V, sol.values, exact, record, figure)


# ---- convergence ------------------------------------------------------------------------
def cmd_convergence(args):
    """``femkron convergence [poisson|helmholtz]``."""
    from ..fem.norms import convergence_rate

    _check_args(args)
    if args.mesh is not None:
        if args.levels < 2:
            raise UsageError(f"femkron: error: --levels must be >= 2, got {args.levels}")
        spaces = [_space(args, refine=2**i) for i in range(args.levels)]
    else:
        counts = _cells("4,8,16,32" if args.cells is None else args.cells, name="--cells")
        if len(counts) < 2:
            raise UsageError("femkron: error: --cells needs at least two counts, e.g. 4,8,16")
        spaces = [_space(args, cells=[n]) for n in counts]
    _check_wavenumber(args, "convergence")
    k = 0.0
    if args.problem == "helmholtz":
        k = 5.0 if args.wavenumber is None else args.wavenumber
    rows = []
    V0 = spaces[0]
    say(
        f"femkron {__version__}: convergence of {args.problem} on {describe_box(V0)}, "
        f"{describe_orders(V0)}"
    )
    say(
        f"{'cells':>12} {'h':>10} {'dofs':>9} {'L2 error':>10} {'rate':>5} "
        f"{'H1 error':>10} {'rate':>5} {'time [s]':>9}"
    )
    for i, V in enumerate(spaces):
        sol, seconds, exact, grad = _solve_stationary(args, V, k)
        h = max(float(m.h.max()) for m in V.mesh.meshes)
        row = {
            "cells": list(V.mesh.shape),
            "h": h,
            "dofs": V.ndofs,
            "L2": sol.error(exact, "L2"),
            "H1": sol.error(exact, "H1", grad=grad),
            "seconds": seconds,
        }
        rates = ["", ""]
        if i:
            prev = rows[-1]
            for j, key in enumerate(("L2", "H1")):
                r = np.log(prev[key] / row[key]) / np.log(prev["h"] / h)
                row[f"rate_{key}"] = float(r)
                rates[j] = f"{r:.2f}"
        rows.append(row)
        cells = "×".join(map(str, V.mesh.shape))
        say(
            f"{cells:>12} {h:>10.4g} {V.ndofs:>9d} {row['L2']:>10.3e} {rates[0]:>5} "
            f"{row['H1']:>10.3e} {rates[1]:>5} {seconds:>9.3f}"
        )
    hs = [r["h"] for r in rows]
    fit = {key: convergence_rate(hs, [r[key] for r in rows]) for key in ("L2", "H1")}
    p = min(V0.orders)
    say(f"  fitted rates: L2 {fit['L2']:.2f} (expected {p + 1}), H1 {fit['H1']:.2f} (expected {p})")
    if args.plot:
        from ..plot import plot_convergence

        ax = plot_convergence(
            hs,
            {"L2": [r["L2"] for r in rows], "H1 seminorm": [r["H1"] for r in rows]},
            title=f"{args.problem}, Q{p}: error vs cell size",
        )
        save_figure(ax, args.plot)
    if args.json:
        write_json(
            args.json,
            {
                "femkron": __version__,
                "problem": args.problem,
                "order": list(V0.orders),
                "rows": rows,
                "fitted_rates": fit,
            },
        )
    return 0


# ---- mms --------------------------------------------------------------------------------
def cmd_mms(args):
    """``femkron mms``: :func:`femkron.cli.mms.cmd_mms`."""
    from .mms import cmd_mms as run

    return run(args, UsageError)


# ---- eigenvalues ------------------------------------------------------------------------
def exact_eigenvalues(bounds, k):
    """The ``k`` smallest Dirichlet eigenvalues ``Σ (π m_d / L_d)²`` of ``-Δ`` on a box.

    Examples
    --------
    >>> [round(float(v) / np.pi**2, 6) for v in exact_eigenvalues([(0, 1), (0, 1)], 4)]
    [2.0, 5.0, 5.0, 8.0]
    """
    values = np.zeros(1)
    for a, b in bounds:
        one = (np.pi * np.arange(1, k + 1) / (b - a)) ** 2
        values = np.sort(np.add.outer(values, one).ravel())[:k]
    return values


def cmd_eig(args):
    """``femkron eig``."""
    from ..problems import eigen

    _check_args(args)
    if args.k < 1:
        raise UsageError(f"femkron: error: -k must be >= 1, got {args.k}")
    if getattr(args, "domain", "box") == "disk":
        return _eig_disk(args)
    cells = None
    if args.mesh is None:
        cells = _cells("16" if args.cells is None else args.cells, args.dim)
    V = _space(args, cells=cells)
    t0 = time.perf_counter()
    w, v = eigen(V, k=args.k)
    seconds = time.perf_counter() - t0
    ex = exact_eigenvalues(V.bounds, args.k)
    say(
        f"femkron {__version__}: eigenvalues of -Δ on the box {describe_box(V)} (Dirichlet), "
        f"{describe_space(V).replace(' nodes', '')}"
    )
    say(f"{'k':>5} {'computed':>12} {'exact':>12} {'rel. error':>12}")
    rel = np.abs(w - ex) / ex
    for i in range(args.k):
        say(f"{i + 1:>5} {w[i]:>12.6e} {ex[i]:>12.6e} {rel[i]:>12.2e}")
    if args.plot:
        from ..plot import plot_modes

        save_figure(plot_modes(V, w, v, exact=ex), args.plot)
    if args.json:
        write_json(
            args.json,
            {
                "femkron": __version__,
                "dofs": V.ndofs,
                "seconds": seconds,
                "computed": w.tolist(),
                "exact": ex.tolist(),
                "relative_error": rel.tolist(),
            },
        )
    return 0


def _eig_disk(args):
    """``femkron eig --domain disk``: the circular drum against the Bessel zeros."""
    from scipy.special import jn_zeros

    from ..fem.tensor import TensorSpace
    from ..problems import eigen

    if args.mesh is not None:
        raise UsageError("femkron: error: --domain disk takes no --mesh")
    n = _cells("16" if args.cells is None else args.cells, 1, "--cells")[0]
    V = TensorSpace.disk(radius=1.0, cells=(n, 4 * n), order=args.order, nodes=args.nodes)
    t0 = time.perf_counter()
    w, v = eigen(V, k=args.k)
    seconds = time.perf_counter() - t0
    mmax = args.k // 2 + 2
    pairs = sorted(
        (float(z) ** 2, m, j + 1)
        for m in range(mmax)
        for j, z in enumerate(jn_zeros(m, args.k // 2 + 2))
        for _ in range(1 if m == 0 else 2)
    )[: args.k]
    ex = np.array([p[0] for p in pairs])
    say(
        f"femkron {__version__}: eigenvalues of -Δ on the unit disk (Dirichlet), polar "
        f"coordinates, Q{args.order}, {V.shape[0]} × {V.shape[1]} dofs; exact (j_mn)²"
    )
    say(f"{'k':>5} {'computed':>12} {'exact':>12} {'(m, n)':>8} {'rel. error':>12}")
    rel = np.abs(w - ex) / ex
    for i in range(args.k):
        mn = f"({pairs[i][1]}, {pairs[i][2]})"
        say(f"{i + 1:>5} {w[i]:>12.6e} {ex[i]:>12.6e} {mn:>8} {rel[i]:>12.2e}")
    if args.plot:
        from ..plot import plot_function

        save_figure(plot_function(V, v[:, 0], label="mode 1").figure, args.plot)
    if args.json:
        write_json(
            args.json,
            {
                "femkron": __version__,
                "domain": "disk",
                "dofs": V.ndofs,
                "seconds": seconds,
                "computed": w.tolist(),
                "exact": ex.tolist(),
                "relative_error": rel.tolist(),
            },
        )
    return 0


# ---- info -------------------------------------------------------------------------------
def _version(module):
    try:
        mod = __import__(module)
    except ImportError:
        return None
    return getattr(mod, "__version__", "unknown")


def _blas():
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError, AttributeError):  # numpy < 1.25 has no mode="dicts"
        return "unknown (numpy.show_config() prints the build configuration)"


def _threads():
    try:
        from threadpoolctl import threadpool_info

        info = threadpool_info()
        if info:
            return ", ".join(f"{i.get('internal_api')}: {i.get('num_threads')}" for i in info)
    except ImportError:
        pass
    env = [
        f"{k}={os.environ[k]}"
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    ]
    return ", ".join(env) if env else "BLAS default (no *_NUM_THREADS set)"


def info_record():
    """Versions of femkron, Python and the dependencies, BLAS, threads and cores."""
    deps = {}
    for name in ("numpy", "scipy", "pyamg", "matplotlib", "tqdm", "meshio"):
        deps[name] = _version(name)
    return {
        "femkron": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "dependencies": deps,
        "blas": _blas(),
        "threads": _threads(),
        "cpu_count": os.cpu_count(),
    }


def cmd_info(args):
    """``femkron info``."""
    rec = info_record()
    if args.json == "-":
        write_json("-", rec)
        return 0
    check_outputs(args)
    say(f"femkron    {rec['femkron']}")
    say(f"python     {rec['python']} ({rec['platform']})")
    for name, version in rec["dependencies"].items():
        note = version if version else "not installed (optional: pip install femkron[io])"
        say(f"{name:<10} {note}")
    say(f"blas       {rec['blas']}")
    say(f"threads    {rec['threads']}")
    say(f"cpu cores  {rec['cpu_count']}")
    if args.json:
        write_json(args.json, rec)
    return 0


# ---- bench ------------------------------------------------------------------------------
def cmd_bench(args):
    """``femkron bench``: :func:`femkron.bench.run`."""
    from ..bench import run

    return run(args)
