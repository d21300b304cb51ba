"""The ``femkron`` command.

Subcommands::

    femkron solve [poisson|helmholtz|heat]   solve a manufactured problem, print its errors
    femkron convergence [poisson|helmholtz]  errors and rates over mesh refinements
    femkron eig                              first eigenvalues of the Laplacian vs exact ones
    femkron info                             versions, BLAS and threads

``femkron solve`` with no arguments solves a built-in 2D manufactured Poisson problem and
prints the dofs, the method, the time and the L2/H1 errors.  Every error in the arguments (or
in a mesh file, or an unwritable output path) is one line on stderr and exit status 2; output
files are checked before any work is done and written atomically, so a failed run leaves
nothing half-written.

Examples
--------
>>> from femkron.cli import main
>>> main(["eig", "--dim", "1", "--cells", "8", "--order", "3", "-k", "2"])  # doctest: +ELLIPSIS
femkron ...: eigenvalues of -Δ on the box [0, 1] (Dirichlet), Q3 (gll), 8 cells
    k     computed        exact   rel. error
    1 9.8696...e+00 9.8696...e+00 ...
    2 3.9478...e+01 3.9478...e+01 ...
0
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from . import __version__
from ._files import atomic_path, check_writable
from .errors import FemkronError, FemkronValueError

__all__ = ["main", "build_parser"]

_PROBLEMS = ("poisson", "helmholtz", "heat")


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


# ---- the manufactured problem ----------------------------------------------------------
def _manufactured(bounds, kappa=1.0, shift=0.0):
    """``u = Π sin(π (x_d - a_d) / L_d)`` on the box: exact solution, source of
    ``-κΔu + shift·u`` (shift = -k² for Helmholtz), gradient, and ``λ = Σ (π/L_d)²``."""
    dim = len(bounds)
    freq = [np.pi / (b - a) for a, b in bounds]
    lam = float(sum(w * w for w in freq))

    def exact(*xs):
        out = 1.0
        for (a, _), w, x in zip(bounds, freq, xs):
            out = out * np.sin(w * (x - a))
        return out

    def source(*xs):
        return (kappa * lam + shift) * exact(*xs)

    def partial(d):
        def g(*xs):
            out = 1.0
            for e, ((a, _), w, x) in enumerate(zip(bounds, freq, xs)):
                out = out * (w * np.cos(w * (x - a)) if e == d else np.sin(w * (x - a)))
            return out

        return g

    return exact, source, tuple(partial(d) for d in range(dim)), lam


def _cells(text, dim=None, name="--cells"):
    """``"32"`` or ``"32,16"`` → a list of positive ints."""
    try:
        values = [int(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise _UsageError(
            f"femkron: error: {name} must be a positive integer or a comma-separated list "
            f"of them, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise _UsageError(f"femkron: error: {name} must hold positive integers, got {text!r}")
    if dim is not None and len(values) not in (1, dim):
        raise _UsageError(
            f"femkron: error: {name} must give one count or {dim} (one per axis), got {text!r}"
        )
    return values


def _space(args, cells=None, refine=1):
    """The space of the arguments: from ``--mesh`` (refined ``refine`` times) or the unit box."""
    from .io import load_mesh
    from .tensor import TensorSpace

    if args.mesh is not None:
        mesh = load_mesh(args.mesh)
        meshes = [m.refine(refine) if refine > 1 else m for m in mesh.meshes]
        from .mesh import TensorMesh

        return TensorSpace.from_mesh(TensorMesh(meshes), order=args.order, nodes=args.nodes)
    dim = args.dim or 2
    cells = cells if cells is not None else _cells(args.cells or "32", dim)
    if len(cells) == 1:
        cells = cells * dim
    return TensorSpace.box([(0.0, 1.0)] * dim, cells=cells, order=args.order, nodes=args.nodes)


def _check_mesh_args(args):
    if args.mesh is not None and (args.dim is not None or getattr(args, "cells", None)):
        raise _UsageError(
            "femkron: error: --mesh sets the box and the cells; leave out --dim and --cells"
        )
    if args.mesh is None and args.dim is None:
        args.dim = 2
    if args.order < 1 or args.order > 24:
        raise _UsageError(f"femkron: error: --order must be 1 to 24, got {args.order}")


def _positive(name):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not np.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be a positive number, got {text!r}")
        return value

    return parse


def _finite(name):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not np.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be finite, got {text!r}")
        return value

    return parse


# ---- output files -----------------------------------------------------------------------
def _probe(path, name):
    """Check ``path`` like :func:`check_writable`, then create and remove a scratch file next
    to it, so a folder that looks writable but is not fails before any work is done."""
    import tempfile

    path = check_writable(path, name)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".femkron-probe.", dir=folder)
    except OSError as err:
        raise FemkronValueError(f"{name}: cannot write into {folder!r} ({err.strerror})") from None
    os.close(fd)
    os.remove(tmp)
    return path


def _check_outputs(args):
    """Check every output path before any work is done."""
    plot = getattr(args, "plot", None)
    if plot is not None:
        _probe(plot, "--plot")
        ext = os.path.splitext(plot)[1].lower().lstrip(".")
        from matplotlib.figure import Figure

        supported = Figure().canvas.get_supported_filetypes()
        if ext not in supported:
            raise FemkronValueError(
                f"--plot: matplotlib cannot write {plot!r} "
                f"(extension {('.' + ext) if ext else 'missing'}); "
                f"use one of {', '.join('.' + e for e in sorted(supported))}"
            )
    vtk = getattr(args, "vtk", None)
    if vtk is not None:
        _probe(vtk, "--vtk")
        if os.path.splitext(vtk)[1].lower() not in (".vtu", ".vtk"):
            raise FemkronValueError(f"--vtk: the file must end in .vtu or .vtk, got {vtk!r}")
        from .io import _import_meshio

        _import_meshio()
    out = getattr(args, "json", None)
    if out is not None and out != "-":
        _probe(out, "--json")


def _say(*parts):
    """Print a report line: to stdout, or to stderr when ``--json -`` claims stdout."""
    print(*parts, file=sys.stderr if _say.to_stderr else sys.stdout)


_say.to_stderr = False


def _save_figure(ax, path):
    fig = np.atleast_1d(ax).ravel()[0].figure
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        with atomic_path(path, "--plot") as tmp:
            fig.savefig(tmp, format=ext, dpi=120)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    _say(f"  figure  : {path}")


def _write_json(path, record):
    text = json.dumps(record, indent=2, sort_keys=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    with atomic_path(path, "--json") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    _say(f"  json    : {path}")


def _describe_space(V):
    orders = "".join(sorted(set(str(p) for p in V.orders)))
    return (
        f"Q{orders} ({V.spaces[0].nodes} nodes), {' × '.join(str(c) for c in V.mesh.shape)} cells"
    )


def _box(V):
    return " × ".join(f"[{a:g}, {b:g}]" for a, b in V.bounds)


# ---- solve ------------------------------------------------------------------------------
def cmd_solve(args):
    from .problems import heat, helmholtz, poisson

    _check_mesh_args(args)
    _check_outputs(args)
    if args.problem != "heat" and (args.t_end is not None or args.dt is not None):
        raise _UsageError("femkron: error: --t-end and --dt are options of `solve heat`")
    if args.problem != "helmholtz" and args.wavenumber is not None:
        raise _UsageError("femkron: error: --wavenumber is an option of `solve helmholtz`")
    V = _space(args)
    kappa = args.kappa
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
        "kappa": kappa,
    }
    if args.problem == "heat":
        t_end = 0.05 if args.t_end is None else args.t_end
        dt = t_end / 50 if args.dt is None else args.dt
        exact0, _, _, lam = _manufactured(V.bounds)
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
        _say(
            f"femkron {__version__}: heat u_t = κΔu on {_box(V)}, u(0) = Π sin(π x_i / L_i), "
            "homogeneous Dirichlet"
        )
        _say(f"  space   : {_describe_space(V)}")
        _say(f"  dofs    : {V.ndofs} ({' × '.join(map(str, V.shape))})")
        _say(f"  steps   : {ht.steps} of dt = {t_end / max(ht.steps, 1):.3g}, θ = {args.theta:g}")
        _say(f"  method  : {ht.info.method}")
        _say(f"  time    : {seconds:.3f} s (assembly + {ht.steps} steps)")
        _say(f"  L2 error: {l2:.3e}  at t = {ht.t[-1]:g} (exact decay e^(-κλt) = {decay:.6f})")
        record.update(
            method=ht.info.method,
            seconds=seconds,
            steps=ht.steps,
            t_end=float(ht.t[-1]),
            theta=args.theta,
            errors={"L2": l2},
        )
        if args.plot:
            from .plot import plot_heat

            _save_figure(plot_heat(ht), args.plot)
        if args.vtk:
            from .io import write_vtk

            write_vtk(args.vtk, V, {"u": sol.values, "exact": V.interpolate(exact)})
            _say(f"  vtk     : {args.vtk}")
        if args.json:
            _write_json(args.json, record)
        return 0
    shift = 0.0
    if args.problem == "helmholtz":
        k = 5.0 if args.wavenumber is None else args.wavenumber
        shift = -k * k
        record["wavenumber"] = k
    exact, source, grad, lam = _manufactured(V.bounds, kappa, shift)
    t0 = time.perf_counter()
    if args.problem == "helmholtz":
        sol = helmholtz(V, source, wavenumber=k, kappa=kappa, method=args.method)
        what = f"Helmholtz -κΔu - k²u = f (k = {k:g})"
    else:
        sol = poisson(V, source, kappa=kappa, method=args.method)
        what = "Poisson -κΔu = f"
    seconds = time.perf_counter() - t0
    l2 = sol.error(exact, "L2")
    h1 = sol.error(exact, "H1", grad=grad)
    _say(
        f"femkron {__version__}: {what} on {_box(V)}, u = Π sin(π x_i / L_i), homogeneous Dirichlet"
    )
    _say(f"  space   : {_describe_space(V)}")
    _say(f"  dofs    : {V.ndofs} ({' × '.join(map(str, V.shape))})")
    _say(
        f"  method  : {sol.info.method}  ({sol.info.iterations} iterations, "
        f"relative residual {sol.info.residual:.1e})"
    )
    _say(f"  time    : {seconds:.3f} s (assembly + solve)")
    _say(f"  L2 error: {l2:.3e}")
    _say(f"  H1 error: {h1:.3e}  (seminorm)")
    record.update(
        method=sol.info.method,
        iterations=sol.info.iterations,
        residual=float(sol.info.residual),
        seconds=seconds,
        errors={"L2": l2, "H1": h1},
    )
    if args.plot:
        _save_figure(sol.plot(), args.plot)
    if args.vtk:
        from .io import write_vtk

        write_vtk(args.vtk, V, {"u": sol.values, "exact": V.interpolate(exact)})
        _say(f"  vtk     : {args.vtk}")
    if args.json:
        _write_json(args.json, record)
    return 0


# ---- convergence ------------------------------------------------------------------------
def cmd_convergence(args):
    from .norms import convergence_rate
    from .problems import helmholtz, poisson

    _check_mesh_args(args)
    _check_outputs(args)
    if args.mesh is not None:
        if args.levels < 2:
            raise _UsageError(f"femkron: error: --levels must be >= 2, got {args.levels}")
        spaces = [_space(args, refine=2**i) for i in range(args.levels)]
    else:
        counts = _cells(args.cells or "4,8,16,32", name="--cells")
        if len(counts) < 2:
            raise _UsageError("femkron: error: --cells needs at least two counts, e.g. 4,8,16")
        spaces = [_space(args, cells=[n]) for n in counts]
    k = args.wavenumber if args.problem == "helmholtz" else 0.0
    if args.problem != "helmholtz" and args.wavenumber is not None:
        raise _UsageError("femkron: error: --wavenumber is an option of `convergence helmholtz`")
    if args.problem == "helmholtz" and k is None:
        k = 5.0
    rows = []
    V0 = spaces[0]
    _say(
        f"femkron {__version__}: convergence of {args.problem} on {_box(V0)}, "
        f"Q{''.join(sorted(set(str(p) for p in V0.orders)))} ({V0.spaces[0].nodes} nodes)"
    )
    _say(
        f"{'cells':>12} {'h':>10} {'dofs':>9} {'L2 error':>10} {'rate':>5} "
        f"{'H1 error':>10} {'rate':>5} {'time [s]':>9}"
    )
    for i, V in enumerate(spaces):
        exact, source, grad, _ = _manufactured(V.bounds, args.kappa, -k * k)
        t0 = time.perf_counter()
        if args.problem == "helmholtz":
            sol = helmholtz(V, source, wavenumber=k, kappa=args.kappa, method=args.method)
        else:
            sol = poisson(V, source, kappa=args.kappa, method=args.method)
        seconds = time.perf_counter() - t0
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
        _say(
            f"{cells:>12} {h:>10.4g} {V.ndofs:>9d} {row['L2']:>10.3e} {rates[0]:>5} "
            f"{row['H1']:>10.3e} {rates[1]:>5} {seconds:>9.3f}"
        )
    hs = [r["h"] for r in rows]
    fit = {key: convergence_rate(hs, [r[key] for r in rows]) for key in ("L2", "H1")}
    p = min(V0.orders)
    _say(
        f"  fitted rates: L2 {fit['L2']:.2f} (expected {p + 1}), H1 {fit['H1']:.2f} (expected {p})"
    )
    if args.plot:
        from .plot import plot_convergence

        ax = plot_convergence(
            hs,
            {"L2": [r["L2"] for r in rows], "H1 seminorm": [r["H1"] for r in rows]},
            title=f"{args.problem}, Q{p}: error vs cell size",
        )
        _save_figure(ax, args.plot)
    if args.json:
        _write_json(
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
    from .problems import eigen

    _check_mesh_args(args)
    _check_outputs(args)
    if args.k < 1:
        raise _UsageError(f"femkron: error: -k must be >= 1, got {args.k}")
    V = _space(args, cells=_cells(args.cells or "16", args.dim) if args.mesh is None else None)
    t0 = time.perf_counter()
    w, v = eigen(V, k=args.k)
    seconds = time.perf_counter() - t0
    ex = exact_eigenvalues(V.bounds, args.k)
    _say(
        f"femkron {__version__}: eigenvalues of -Δ on the box {_box(V)} (Dirichlet), "
        f"{_describe_space(V).replace(' nodes', '')}"
    )
    _say(f"{'k':>5} {'computed':>12} {'exact':>12} {'rel. error':>12}")
    rel = np.abs(w - ex) / ex
    for i in range(args.k):
        _say(f"{i + 1:>5} {w[i]:>12.6e} {ex[i]:>12.6e} {rel[i]:>12.2e}")
    if args.plot:
        from .plot import plot_modes

        _save_figure(plot_modes(V, w, v, exact=ex), args.plot)
    if args.json:
        _write_json(
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
    rec = info_record()
    if args.json == "-":
        _write_json("-", rec)
        return 0
    _check_outputs(args)
    _say(f"femkron    {rec['femkron']}")
    _say(f"python     {rec['python']} ({rec['platform']})")
    for name, version in rec["dependencies"].items():
        note = version if version else "not installed (optional: pip install femkron[io])"
        _say(f"{name:<10} {note}")
    _say(f"blas       {rec['blas']}")
    _say(f"threads    {rec['threads']}")
    _say(f"cpu cores  {rec['cpu_count']}")
    if args.json:
        _write_json(args.json, rec)
    return 0


# ---- parser -----------------------------------------------------------------------------
_FMT = argparse.RawDescriptionHelpFormatter


def _space_options(p, cells_help="cells per axis, e.g. 32 or 64,16 (32)"):
    p.add_argument("--dim", type=int, choices=[1, 2, 3], help="dimension of the unit box (2)")
    p.add_argument("--cells", help=cells_help)
    p.add_argument("--order", type=int, default=2, help="polynomial order 1-24 (2)")
    p.add_argument("--nodes", default="gll", choices=["gll", "equispaced"], help="node family")
    p.add_argument("--mesh", metavar="FILE", help="TOML mesh file (see meshes/); sets the box")


def _method_option(p):
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "fdm", "amg", "cg", "direct"],
        help="linear solver (auto)",
    )


def build_parser():
    """The argparse parser of the ``femkron`` command."""
    parser = _ArgumentParser(
        prog="femkron",
        description="Finite elements on boxes as Kronecker sums of 1D matrices.",
        epilog=(
            "examples:\n"
            "  femkron solve                      built-in 2D Poisson problem\n"
            "  femkron solve heat --dim 1 --plot heat.png\n"
            "  femkron convergence --order 3 --plot rates.png\n"
            "  femkron eig --dim 2 -k 8\n"
            "  femkron info\n"
            "Run `femkron COMMAND --help` for the options of a command."
        ),
        formatter_class=_FMT,
    )
    parser.add_argument("--version", action="version", version=f"femkron {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "solve",
        help="solve a manufactured problem and print dofs, method, time and errors",
        description=(
            "Solve a problem with the manufactured solution u = Π sin(π x_i / L_i) on a box\n"
            "(homogeneous Dirichlet) and report the L2 and H1 errors against it:\n"
            "  poisson    -κΔu = f\n"
            "  helmholtz  -κΔu - k²u = f\n"
            "  heat       u_t = κΔu from u(0) = u, θ-scheme, error at t_end"
        ),
        epilog=(
            "examples:\n"
            "  femkron solve\n"
            "  femkron solve --dim 3 --cells 16 --order 2 --method amg\n"
            "  femkron solve helmholtz --wavenumber 4 --plot u.png --json result.json\n"
            "  femkron solve heat --dim 1 --t-end 0.1 --dt 1e-3 --theta 0.5\n"
            "  femkron solve --mesh meshes/boundary_layer.toml --order 3 --vtk u.vtu"
        ),
        formatter_class=_FMT,
    )
    p.add_argument(
        "problem", nargs="?", default="poisson", choices=_PROBLEMS, help="problem (poisson)"
    )
    _space_options(p)
    _method_option(p)
    p.add_argument("--kappa", type=_positive("--kappa"), default=1.0, help="diffusion κ (1)")
    p.add_argument("--wavenumber", type=_finite("--wavenumber"), help="helmholtz: wavenumber k (5)")
    p.add_argument("--t-end", type=_positive("--t-end"), help="heat: final time (0.05)")
    p.add_argument("--dt", type=_positive("--dt"), help="heat: time step (t_end / 50)")
    p.add_argument(
        "--theta",
        type=_finite("--theta"),
        default=0.5,
        help="heat: θ of the θ-scheme, 0.5 Crank–Nicolson, 1 backward Euler (0.5)",
    )
    p.add_argument("--plot", metavar="FILE", help="save a figure (.png, .pdf, .svg, ...)")
    p.add_argument("--vtk", metavar="FILE", help="write the solution as .vtu (needs meshio)")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON ('-': stdout)")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser(
        "convergence",
        help="table of errors and rates over mesh refinements",
        description=(
            "Solve the manufactured problem on a sequence of meshes and print the L2 and H1\n"
            "errors with the observed rates (expected p+1 and p for order p)."
        ),
        epilog=(
            "examples:\n"
            "  femkron convergence\n"
            "  femkron convergence --order 3 --cells 2,4,8,16 --plot rates.png\n"
            "  femkron convergence helmholtz --dim 1 --order 4\n"
            "  femkron convergence --mesh meshes/chebyshev.toml --levels 3"
        ),
        formatter_class=_FMT,
    )
    p.add_argument(
        "problem",
        nargs="?",
        default="poisson",
        choices=("poisson", "helmholtz"),
        help="problem (poisson)",
    )
    _space_options(p, cells_help="cells per axis of each level, e.g. 4,8,16,32 (default)")
    p.add_argument(
        "--levels",
        type=int,
        default=3,
        help="with --mesh: number of levels, each halving every cell (3)",
    )
    _method_option(p)
    p.add_argument("--kappa", type=_positive("--kappa"), default=1.0, help="diffusion κ (1)")
    p.add_argument("--wavenumber", type=_finite("--wavenumber"), help="helmholtz: wavenumber k (5)")
    p.add_argument("--plot", metavar="FILE", help="save the log-log plot (.png, .pdf, ...)")
    p.add_argument("--json", metavar="FILE", help="write the table as JSON ('-': stdout)")
    p.set_defaults(func=cmd_convergence)

    p = sub.add_parser(
        "eig",
        help="first eigenvalues of the Laplacian against the exact ones",
        description=(
            "The k smallest eigenvalues of K u = λ M u (the Dirichlet Laplacian) on a box,\n"
            "computed from 1D eigenpairs, next to the exact Σ (π m_i / L_i)²."
        ),
        epilog=(
            "examples:\n"
            "  femkron eig\n"
            "  femkron eig --dim 2 --cells 8 --order 4 -k 12 --plot modes.png\n"
            "  femkron eig --mesh meshes/channel.toml -k 6"
        ),
        formatter_class=_FMT,
    )
    _space_options(p, cells_help="cells per axis, e.g. 16 or 16,8 (16)")
    p.add_argument("-k", type=int, default=6, help="number of eigenvalues (6)")
    p.add_argument("--plot", metavar="FILE", help="save a figure of the modes")
    p.add_argument("--json", metavar="FILE", help="write the eigenvalues as JSON ('-': stdout)")
    p.set_defaults(func=cmd_eig)

    p = sub.add_parser(
        "info",
        help="versions, BLAS and thread count",
        description="Print the versions of femkron and its dependencies, the BLAS and threads.",
        epilog="examples:\n  femkron info\n  femkron info --json -",
        formatter_class=_FMT,
    )
    p.add_argument("--json", metavar="FILE", help="write the same as JSON ('-': stdout)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "bench",
        help="time assembly and solvers against baselines (scipy, scikit-fem, pyamg)",
        description="Benchmark tocsr, matrix-free apply and the fdm solver against scipy "
        "kron sums, element-by-element assembly, scikit-fem, CSR SpMV, pyamg, CG and LU.",
        epilog="examples:\n  femkron bench --sizes 1e4 1e5\n"
        "  femkron bench --sizes 1e6 --orders 1 3 --threads 2 --json b.json --plot b.png\n"
        "  femkron bench --kind solve --scale",
        formatter_class=_FMT,
    )
    _bench_arguments(p)
    p.set_defaults(func=cmd_bench)
    return parser


def _bench_arguments(parser):
    from .bench import add_arguments

    add_arguments(parser)


def cmd_bench(args):
    from .bench import run

    return run(args)


def main(argv=None):
    """Entry point of the ``femkron`` console script; returns the exit status.

    Examples
    --------
    >>> main(["solve", "--cells", "-3"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _say.to_stderr = getattr(args, "json", None) == "-"
        if args.command is None:
            parser.print_help()
            return 0
        return args.func(args)
    except _UsageError as err:
        print(_one_line(err), file=sys.stderr)  # an argument may hold a line break
        return 2
    except (FemkronError, OSError, ValueError, MemoryError) as err:
        print(f"femkron: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("femkron: interrupted", file=sys.stderr)
        return 130


def _one_line(err):
    text = str(err) or type(err).__name__
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
