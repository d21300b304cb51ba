"""The ``femkron`` command.

``femkron solve`` with no arguments solves a built-in 2D manufactured Poisson problem and
prints the dofs, the method, the time and the L2/H1 errors.  Every error in the arguments is
one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import __version__
from .errors import FemkronError

__all__ = ["main", "build_parser"]


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _manufactured(dim):
    """u = Π sin(π x_d) on the unit box, f = dim π² u, with its gradient."""

    def exact(*xs):
        out = 1.0
        for x in xs:
            out = out * np.sin(np.pi * x)
        return out

    def source(*xs):
        return dim * np.pi**2 * exact(*xs)

    def partial(d):
        def g(*xs):
            out = 1.0
            for e, x in enumerate(xs):
                out = out * (np.pi * np.cos(np.pi * x) if e == d else np.sin(np.pi * x))
            return out

        return g

    return exact, source, tuple(partial(d) for d in range(dim))


def cmd_solve(args):
    from .problems import poisson
    from .tensor import TensorSpace

    V = TensorSpace.box(
        [(0.0, 1.0)] * args.dim, cells=args.cells, order=args.order, nodes=args.nodes
    )
    exact, source, grad = _manufactured(args.dim)
    t0 = time.perf_counter()
    sol = poisson(V, source, method=args.method)
    seconds = time.perf_counter() - t0
    l2 = sol.error(exact, "L2")
    h1 = sol.error(exact, "H1", grad=grad)
    print(
        f"femkron {__version__}: Poisson -Δu = f on the unit {args.dim}D box, "
        f"u = Π sin(π x_i), homogeneous Dirichlet"
    )
    print(f"  space   : Q{args.order} ({args.nodes} nodes), {args.cells} cells per axis")
    print(f"  dofs    : {V.ndofs} ({' × '.join(map(str, V.shape))})")
    print(
        f"  method  : {sol.info.method}  ({sol.info.iterations} iterations, "
        f"relative residual {sol.info.residual:.1e})"
    )
    print(f"  time    : {seconds:.3f} s (assembly + solve)")
    print(f"  L2 error: {l2:.3e}")
    print(f"  H1 error: {h1:.3e}  (seminorm)")
    return 0


def build_parser():
    parser = _ArgumentParser(
        prog="femkron",
        description="Finite elements on boxes as Kronecker sums of 1D matrices.",
        epilog="Run `femkron solve` for a built-in 2D Poisson problem.",
    )
    parser.add_argument("--version", action="version", version=f"femkron {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "solve",
        help="solve a manufactured Poisson problem and print errors",
        description="Solve -Δu = f on the unit box with u = Π sin(π x_i) and report errors.",
        epilog="examples:\n  femkron solve\n  femkron solve --dim 3 --cells 16 --order 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dim", type=int, default=2, choices=[1, 2, 3], help="dimension (2)")
    p.add_argument("--cells", type=int, default=32, help="cells per axis (32)")
    p.add_argument("--order", type=int, default=2, help="polynomial order (2)")
    p.add_argument("--nodes", default="gll", choices=["gll", "equispaced"], help="node family")
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "fdm", "amg", "cg", "direct"],
        help="linear solver (auto)",
    )
    p.set_defaults(func=cmd_solve)
    return parser


def main(argv=None):
    """Entry point of the ``femkron`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        return args.func(args)
    except _UsageError as err:
        print(str(err), file=sys.stderr)
        return 2
    except (FemkronError, OSError) as err:
        print(f"femkron: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("femkron: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
