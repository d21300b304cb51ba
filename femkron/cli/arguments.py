"""The arguments of the ``femkron`` subcommands: their checks and the spaces they name.

Also the built-in manufactured problem and the outputs of ``femkron solve``; shared by
:mod:`femkron.cli.commands` and :mod:`femkron.cli.curvilinear`.

A bad combination of arguments raises :class:`UsageError`, which ``main`` prints as one line
(exit status 2).
"""

from __future__ import annotations

import numpy as np

from .output import check_outputs, describe_space, save_figure, say, write_json

__all__ = ["SOLVE_PROBLEMS", "UsageError", "manufactured"]


class UsageError(Exception):
    """A bad command line; the message is the whole line to print."""


#: The built-in problems of ``femkron solve`` (anything else must be a problem file).
SOLVE_PROBLEMS = ("poisson", "helmholtz", "heat")


# ---- the manufactured problem ----------------------------------------------------------
def manufactured(bounds, kappa=1.0, shift=0.0):
    """The manufactured solution ``u = Π sin(π (x_d - a_d) / L_d)`` on the box.

    Gives the exact solution, the source of ``-κΔu + shift·u`` (shift = -k² for Helmholtz),
    the gradient, and ``λ = Σ (π/L_d)²``.
    """
    dim = len(bounds)
    freq = [np.pi / (b - a) for a, b in bounds]
    lam = float(sum(w * w for w in freq))

    def partial(d):
        """``∂u/∂x_d``; ``d = None``: ``u`` itself."""

        def g(*xs):
            out = 1.0
            for e, ((a, _), w, x) in enumerate(zip(bounds, freq, xs)):
                out = out * (w * np.cos(w * (x - a)) if e == d else np.sin(w * (x - a)))
            return out

        return g

    exact = partial(None)

    def source(*xs):
        return (kappa * lam + shift) * exact(*xs)

    return exact, source, tuple(partial(d) for d in range(dim)), lam


def _cells(text, dim=None, name="--cells"):
    """``"32"`` or ``"32,16"`` → a list of positive ints.

    An empty ``text`` (``--cells ""``) is an error naming ``name``, not the default: the
    callers pass the default themselves when the option is absent (``None``).
    """
    if not str(text).strip():
        raise UsageError(
            f"femkron: error: {name} must be a positive integer or a comma-separated list "
            f"of them, got {text!r}"
        )
    try:
        values = [int(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise UsageError(
            f"femkron: error: {name} must be a positive integer or a comma-separated list "
            f"of them, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise UsageError(f"femkron: error: {name} must hold positive integers, got {text!r}")
    if dim is not None and len(values) not in (1, dim):
        raise UsageError(
            f"femkron: error: {name} must give one count or {dim} (one per axis), got {text!r}"
        )
    return values


def _space(args, cells=None, refine=1):
    """The space of the arguments: from ``--mesh`` (refined ``refine`` times) or the unit box."""
    from ..fem.tensor import TensorSpace
    from ..io import load_mesh

    if args.mesh is not None:
        mesh = load_mesh(args.mesh)
        meshes = [m.refine(refine) if refine > 1 else m for m in mesh.meshes]
        from ..fem.mesh import TensorMesh

        return TensorSpace.from_mesh(TensorMesh(meshes), order=args.order, nodes=args.nodes)
    dim = args.dim or 2
    if cells is None:
        cells = _cells("32" if args.cells is None else args.cells, dim)
    if len(cells) == 1:
        cells = cells * dim
    return TensorSpace.box([(0.0, 1.0)] * dim, cells=cells, order=args.order, nodes=args.nodes)


def _check_args(args):
    """The checks every command with a space makes before any work.

    Checks the mesh/box arguments, the order and the output paths.
    """
    if args.mesh is not None and not args.mesh.strip():
        raise UsageError(f"femkron: error: --mesh must name a file, got {args.mesh!r}")
    if args.mesh is not None and (args.dim is not None or getattr(args, "cells", None) is not None):
        raise UsageError(
            "femkron: error: --mesh sets the box and the cells; leave out --dim and --cells"
        )
    if args.mesh is None and args.dim is None:
        args.dim = 2
    if args.order is None:
        args.order = 2
    if args.nodes is None:
        args.nodes = "gll"
    if getattr(args, "kappa", False) is None:
        args.kappa = 1.0
    if args.order < 1 or args.order > 24:
        raise UsageError(f"femkron: error: --order must be 1 to 24, got {args.order}")
    check_outputs(args)


def _check_wavenumber(args, command):
    if args.problem != "helmholtz" and args.wavenumber is not None:
        raise UsageError(f"femkron: error: --wavenumber is an option of `{command} helmholtz`")


def _say_space(V):
    say(f"  space   : {describe_space(V)}")
    say(f"  dofs    : {V.ndofs} ({' × '.join(map(str, V.shape))})")


def _solution_outputs(args, V, values, exact, record, figure):
    """``--plot`` (``figure()`` draws it), ``--vtk`` and ``--json`` of ``femkron solve``."""
    if args.plot:
        save_figure(figure(), args.plot)
    if getattr(args, "plot_error", None):
        from .solve_file import error_figure

        save_figure(error_figure(V, values, exact), args.plot_error)
    if args.vtk:
        from ..io import write_vtk

        write_vtk(args.vtk, V, {"u": values, "exact": V.interpolate(exact)})
        say(f"  vtk     : {args.vtk}")
    if args.json:
        write_json(args.json, record)
    return 0
