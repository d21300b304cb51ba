"""``femkron solve PROBLEM.toml``: solve a problem file and report it.

The file is read and checked (:mod:`femkron.cli.problemfile`), the output paths are checked,
an exact solution that contradicts the Dirichlet data is warned about, and the problem is
solved through the public API (:func:`~femkron.poisson`, :func:`~femkron.helmholtz`,
:func:`~femkron.heat`, :func:`~femkron.advection_diffusion`, :func:`~femkron.eigen`,
:func:`~femkron.nonlinear_poisson`, :func:`~femkron.reaction_diffusion`); ``[output] netcdf``
writes the result with :meth:`~femkron.Solution.save` (the snapshots of a time-dependent
problem with their time dimension).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .._version import __version__
from ..errors import FemkronValueError
from ..fem.bc import FACES, BoundaryConditions
from ..fem.expressions import ExpressionError
from ..problems.timedata import conditions_at
from .curvilinear import describe_domain
from .output import (
    _probe,
    check_outputs,
    describe_box,
    describe_space,
    save_figure,
    say,
    write_json,
)
from .problemfile import read_problem

__all__ = ["cmd_solve_file", "dirichlet_mismatch", "solve_problem"]

#: Options of ``femkron solve`` that a problem file sets itself.
_FILE_SETS = (
    "domain",
    "dim",
    "cells",
    "order",
    "nodes",
    "mesh",
    "kappa",
    "wavenumber",
    "t_end",
    "dt",
    "theta",
)
_WHAT = {
    "poisson": "-∇·(κ∇u) + σu = f",
    "helmholtz": "-∇·(κ∇u) - k²u = f",
    "heat": "u_t - ∇·(κ∇u) = f",
    "advection_diffusion": "-εΔu + b·∇u = f",
    "eigen": "-Δu = λu",
    "nonlinear_poisson": "-∇·(κ(u)∇u) + g(u) = f",
    "reaction_diffusion": "u_t = DΔu + R(u, x, t)",
}
#: ``--method`` values that apply to kind ``nonlinear_poisson`` (its Krylov method).
_NONLINEAR_METHODS = ("auto", "cg")


def dirichlet_mismatch(V, bc, exact):
    """The largest ``|exact - g|`` per Dirichlet face, where it is largest.

    Returns a list of ``(face, mismatch, point, named)`` with ``point`` a dict of coordinates
    and ``named`` False for a face left out of ``bc`` (homogeneous by default).
    """
    bcs = BoundaryConditions(V, bc)
    grid = V.grid(sparse=True)
    c = V.coordinates
    names = {v: k for k, v in (c.faces if c.curvilinear else FACES).items()}
    out = []
    for d, conds in enumerate(bcs.axes):
        if conds == "periodic":
            continue
        for side, cond in enumerate(conds):
            if cond.kind != "dirichlet":
                continue
            if c.curvilinear and names.get((d, side)) not in V.faces:
                continue  # a centre or pole: no face (its value follows from the faces)
            coords = list(grid)
            coords[d] = np.full([1] * V.dim, V.bounds[d][side])
            shape = tuple(1 if e == d else n for e, n in enumerate(V.shape))
            g = cond.value(*coords) if callable(cond.value) else cond.value
            diff = np.abs(np.broadcast_to(exact(*coords), shape) - np.broadcast_to(g, shape))
            i = np.unravel_index(int(np.argmax(diff)), shape)
            point = {n: float(np.broadcast_to(q, shape)[i]) for n, q in zip(c.axes, coords)}
            face = names.get((d, side), f"axis {d} side {side}")
            out.append((face, float(diff[i]), point, face in bc))
    return out


def _warn_mismatch(problem, exact):
    scale = max(1.0, float(np.max(np.abs(problem.V.interpolate(exact)))))
    bc = problem.bc
    if problem.time:  # time-dependent: the exact u is taken at t_end, so are the data
        bc = conditions_at(bc, problem.time["t_end"], problem.V.dim)
    for face, m, point, named in dirichlet_mismatch(problem.V, bc, exact):
        if m > 1e-8 * scale:
            at = ", ".join(f"{k}={v:.6g}" for k, v in point.items())
            note = "" if named else " (not in [bc]: u = 0 there)"
            warnings.warn(
                f"{problem.where('exact', 'u')}: the exact u does not satisfy the Dirichlet "
                f"data on face {face!r}{note}: largest mismatch {m:.3g} at {at}",
                UserWarning,
                stacklevel=2,
            )


class _Result:
    """What a solve gives: the solution (or eigenpairs), the time, and the exact solution."""

    def __init__(self, sol=None, heat=None, eig=None, seconds=0.0, exact=None):
        self.sol, self.heat, self.eig, self.seconds, self.exact = sol, heat, eig, seconds, exact


def solve_problem(problem, method=None):
    """Solve ``problem`` (a :class:`~femkron.cli.problemfile.Problem`) with the public API.

    ``method`` overrides the file's.  Returns an object with ``sol`` (a Solution; for heat
    and reaction–diffusion the last snapshot), ``heat`` (the snapshots of those), ``eig``
    (``(w, v)``), ``seconds`` and ``exact`` (the exact solution as a function of the
    coordinates, at ``t_end`` for the time-dependent kinds).
    """
    from ..problems import advection_diffusion, eigen, heat, helmholtz, nonlinear_poisson, poisson

    V, d, bc = problem.V, dict(problem.data), problem.bc
    if method is not None:
        d["method"] = method
    exact = problem.exact
    if exact is not None and problem.time:
        exact = exact.at("t", problem.time["t_end"])
    if exact is not None:
        _warn_mismatch(problem, exact)
    kind = problem.equation
    t0 = time.perf_counter()
    if kind == "eigen":
        w, v = eigen(V, k=d.get("k", 6), bc=bc)
        return _Result(eig=(w, v), seconds=time.perf_counter() - t0)
    if kind == "nonlinear_poisson":
        of_u = {
            k: _trial_safe(d[k]) for k in ("kappa", "reaction", "dkappa", "dreaction") if k in d
        }
        sol = nonlinear_poisson(
            V,
            d.get("f", 0.0),
            kappa=of_u.get("kappa", 1.0),
            reaction=of_u.get("reaction"),
            bc=bc,
            dkappa=of_u.get("dkappa"),
            dreaction=of_u.get("dreaction"),
            krylov=d.get("method", "auto"),
        )
        return _Result(sol=sol, seconds=time.perf_counter() - t0, exact=exact)
    common = dict(bc=bc, method=d.get("method", "auto"))
    if kind == "reaction_diffusion":
        from ..problems.reaction import reaction_diffusion

        tm = problem.time
        rd = reaction_diffusion(
            V,
            tm["u0"],
            d.get("diffusion", 1.0),
            _reaction_of(d["reaction"], V.dim),
            t_end=tm["t_end"],
            dt=tm["dt"],
            scheme=d.get("scheme", "sbdf2"),
            snapshots=6,
            progress=False,
            **common,
        )
        sol = rd.snapshot(-1)
        return _Result(sol=sol, heat=rd, seconds=time.perf_counter() - t0, exact=exact)
    if kind == "poisson":
        sol = poisson(V, d["f"], kappa=d.get("kappa", 1.0), sigma=d.get("sigma", 0.0), **common)
    elif kind == "helmholtz":
        sol = helmholtz(V, d["f"], wavenumber=d["wavenumber"], kappa=d.get("kappa", 1.0), **common)
    elif kind == "advection_diffusion":
        sol = advection_diffusion(V, d["f"], d["velocity"], epsilon=d.get("epsilon", 1.0), **common)
    else:
        tm = problem.time
        ht = heat(
            V,
            tm["u0"],
            t_end=tm["t_end"],
            dt=tm["dt"],
            theta=tm["theta"],
            f=d.get("f", 0.0),
            kappa=d.get("kappa", 1.0),
            snapshots=6,
            progress=False,
            **common,
        )
        sol = ht.snapshot(len(ht.t) - 1)
        return _Result(sol=sol, heat=ht, seconds=time.perf_counter() - t0, exact=exact)
    return _Result(sol=sol, seconds=time.perf_counter() - t0, exact=exact)


def _trial_safe(expr):
    """``expr`` of u, whose non-finite values are an "invalid-state" Newton backtracks from.

    An expression refuses non-finite values with an error naming its key and line; Newton's
    line search shortens a trial step that leaves the function's domain (``exp(u)`` overflowing
    after an overshoot) when the error says ``reason="invalid-state"``, as it does for a
    numpy function returning inf.  At the initial guess the error stops the run as before.
    """
    if isinstance(expr, float):
        return expr

    def of_u(u):
        try:
            return expr(u)
        except ExpressionError as err:
            if err.reason != "not-finite":
                raise
            raise FemkronValueError(str(err), reason="invalid-state") from None

    of_u.__name__ = expr.text
    return of_u


def _reaction_of(expr, dim):
    """``R(u, x[, y[, z]], t)`` with the explicit signature :func:`reaction_diffusion` reads."""
    if dim == 1:
        return lambda u, x, t: expr(u, x, t)
    if dim == 2:
        return lambda u, x, y, t: expr(u, x, y, t)
    return lambda u, x, y, z, t: expr(u, x, y, z, t)


def _show(value):
    return getattr(value, "text", None) or f"{value:g}"


def cmd_solve_file(args, usage_error):
    """``femkron solve PROBLEM.toml``; ``usage_error`` is the class of command-line errors."""
    given = [f"--{k.replace('_', '-')}" for k in _FILE_SETS if getattr(args, k, None) is not None]
    if given:
        raise usage_error(
            f"femkron: error: {', '.join(given)}: the problem file sets these; leave them out "
            "(options with a problem file: --method, --plot, --plot-error, --vtk, --json)"
        )
    problem = read_problem(args.problem)
    for key, value in problem.outputs.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    netcdf = problem.outputs.get("netcdf")
    if args.plot_error is not None and problem.exact is None:
        raise usage_error("femkron: error: --plot-error needs an exact solution ([exact] u)")
    if problem.equation == "eigen" and args.method != "auto":
        raise usage_error("femkron: error: --method does not apply to kind 'eigen'")
    if problem.equation == "nonlinear_poisson" and args.method not in _NONLINEAR_METHODS:
        raise usage_error(
            f"femkron: error: --method {args.method} does not apply to kind 'nonlinear_poisson' "
            f"(its Newton systems take: {', '.join(_NONLINEAR_METHODS)}; gmres in the file)"
        )
    check_outputs(args)
    if netcdf is not None:  # checked before any work: writable, and xarray installed
        from ..io.netcdf import _import_xarray

        _probe(netcdf, "output.netcdf")
        _import_xarray()
    method = None if args.method == "auto" else args.method
    res = solve_problem(problem, method=method)
    V = problem.V
    what = _WHAT[problem.equation]
    say(f"femkron {__version__}: {problem.equation} {what} from {problem.name}")
    if problem.description:
        say(f"  problem : {problem.description}")
    if V.coordinates.curvilinear:
        say(f"  domain  : {describe_domain(V, problem.domain)}")
    else:
        say(f"  domain  : {describe_box(V)} ({problem.domain})")
    say(f"  space   : {describe_space(V)}")
    say(f"  dofs    : {V.ndofs} ({' × '.join(map(str, V.shape))})")
    d = problem.data
    data = [f"{k} = {_show(d[k])}" for k in ("f", "kappa", "sigma", "reaction") if k in d]
    data += [f"{k} = {d[k]:g}" for k in ("wavenumber", "epsilon", "diffusion") if k in d]
    if "velocity" in d:
        data.append(f"velocity = ({', '.join(f'{b:g}' for b in d['velocity'])})")
    if data:
        say(f"  data    : {'; '.join(data)}")
    say(f"  bc      : {'; '.join(BoundaryConditions(V, problem.bc).describe())}")
    record = {
        "femkron": __version__,
        "file": problem.name,
        "equation": problem.equation,
        "bounds": [list(b) for b in V.bounds],
        "cells": list(V.mesh.shape),
        "order": list(V.orders),
        "shape": list(V.shape),
        "dofs": V.ndofs,
        "seconds": res.seconds,
    }
    if res.eig is not None:
        return _report_eigen(args, V, res, record)
    sol = res.sol
    info = res.heat.info if res.heat is not None else sol.info
    say(f"  method  : {info.method}  (relative residual {info.residual:.1e})")
    if problem.equation == "nonlinear_poisson":
        history = ", ".join(f"{h:.1e}" for h in info.history)
        say(
            f"  newton  : {info.iterations} steps, {sum(info.linear_iterations)} "
            f"{info.linear_method} iterations; ‖F‖/‖F0‖ = {history}"
        )
        record.update(newton_iterations=info.iterations, history=[float(h) for h in info.history])
    if res.heat is not None:
        ht = res.heat
        scheme = f"θ = {problem.time['theta']:g}" if "theta" in problem.time else ht.scheme
        say(f"  steps   : {ht.steps} of dt = {ht.dt:.3g}, {scheme}, t_end = {ht.t[-1]:g}")
        record.update(steps=ht.steps, t_end=float(ht.t[-1]))
    say(f"  time    : {res.seconds:.3f} s")
    record.update(method=info.method, residual=float(info.residual))
    if res.exact is not None:
        grad = tuple(res.exact.diff(n) for n in res.exact.variables)
        l2 = sol.error(res.exact, "L2")
        h1 = sol.error(res.exact, "H1", grad=grad)
        at = f"  at t = {res.heat.t[-1]:g}" if res.heat is not None else ""
        say(f"  L2 error: {l2:.3e}{at}")
        say(f"  H1 error: {h1:.3e}  (seminorm)")
        record["errors"] = {"L2": l2, "H1": h1}
    if args.plot:
        if problem.equation == "reaction_diffusion":
            save_figure(res.heat.plot(), args.plot)  # the last state
        elif res.heat is not None:
            from ..plot import plot_heat

            save_figure(plot_heat(res.heat), args.plot)
        else:
            save_figure(sol.plot(), args.plot)
    if args.plot_error:
        save_figure(error_figure(V, sol.values, res.exact), args.plot_error)
    if args.vtk:
        from ..io import write_vtk

        fields = {"u": sol.values}
        if res.exact is not None:
            fields["exact"] = V.interpolate(res.exact)
        write_vtk(args.vtk, V, fields)
        say(f"  vtk     : {args.vtk}")
    if netcdf is not None:
        (res.heat if res.heat is not None else sol).save(netcdf)
        say(f"  netcdf  : {netcdf}")
    if args.json:
        write_json(args.json, record)
    return 0


def error_figure(V, values, exact):
    """The figure of the error field ``u_h - I_h u`` (the exact solution interpolated)."""
    from ..plot import plot_function

    err = np.asarray(values).reshape(V.shape) - V.interpolate(exact).reshape(V.shape)
    return plot_function(
        V, err, label="u_h - u", cmap="RdBu_r", title="error u_h - u at the dofs (interpolated)"
    )


def _report_eigen(args, V, res, record):
    w, v = res.eig
    say(f"{'k':>5} {'eigenvalue':>14}")
    for i, lam in enumerate(w):
        say(f"{i + 1:>5} {lam:>14.8e}")
    record["eigenvalues"] = [float(x) for x in w]
    if args.plot:
        from ..plot import plot_modes

        save_figure(plot_modes(V, w, v), args.plot)
    if args.vtk:
        from ..io import write_vtk

        write_vtk(args.vtk, V, {f"mode{i + 1}": v[:, i] for i in range(len(w))})
        say(f"  vtk     : {args.vtk}")
    if args.json:
        write_json(args.json, record)
    return 0
