"""The ``femkron`` command.

Subcommands::

    femkron solve [poisson|helmholtz|heat]   solve a manufactured problem, print its errors
    femkron solve PROBLEM.toml               solve a problem file (docs/guide/problem-files.md)
    femkron mms --exact EXPR                 manufactured solution → convergence table
    femkron convergence [poisson|helmholtz]  errors and rates over mesh refinements
    femkron eig                              first eigenvalues of the Laplacian vs exact ones
    femkron info                             versions, BLAS and threads
    femkron bench                            assembly and solver timings against baselines

``femkron solve`` with no arguments solves a built-in 2D manufactured Poisson problem and
prints the dofs, the method, the time and the L2/H1 errors.  Every error in the arguments (or
in a mesh file, or an unwritable output path) is one line on stderr and exit status 2; output
files are checked before any work is done and written atomically, so a failed run leaves
nothing half-written.

Python warnings raised while a command runs (a numpy overflow, a library's notice) never reach
stderr as extra lines: on success each distinct one is one ``femkron: warning: ...`` line of the
report (stdout, or stderr with ``--json -``); on an error only the error line is printed (a
warning that a filter turns into an error, ``python -W error``, is that line).  When the
reader of stdout goes away (``femkron convergence | head -2``) the command stops quietly with
exit status 141 (128 + SIGPIPE), as the usual Unix tools do.

This module holds the parser and :func:`main`; the subcommands are in :mod:`femkron.cli.commands`
and their output (report lines, figures, JSON) in :mod:`femkron.cli.output`.

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
import os
import sys
import warnings

import numpy as np

from .._version import __version__
from ..errors import FemkronError
from .commands import (  # the subcommands (importable from here as before)
    UsageError,
    cmd_bench,
    cmd_convergence,
    cmd_eig,
    cmd_info,
    cmd_mms,
    cmd_solve,
)
from .curvilinear import CLI_DOMAINS
from .output import say

__all__ = ["main", "build_parser"]


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message}")


# ---- parser -----------------------------------------------------------------------------
_FMT = argparse.RawDescriptionHelpFormatter


def _number(name, positive=False):
    """An argparse type: a finite number (``positive``: > 0); errors name the option."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if positive and not (np.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{name} must be a positive number, got {text!r}")
        if not np.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be finite, got {text!r}")
        return value

    return parse


def _kappa(text):
    """An argparse type: a positive number, or an expression (checked against the space)."""
    try:
        value = float(text)
    except ValueError:
        if not text.strip():
            raise argparse.ArgumentTypeError(
                f"--kappa must be a positive number or an expression, got {text!r}"
            ) from None
        return text  # a safe expression, checked once the coordinates are known
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"--kappa must be a positive number, got {text!r}")
    return value


def _space_options(p, cells_help="cells per axis, e.g. 32 or 64,16 (32)"):
    p.add_argument("--dim", type=int, choices=[1, 2, 3], help="dimension of the unit box (2)")
    p.add_argument("--cells", help=cells_help)
    p.add_argument("--order", type=int, help="polynomial order 1-24 (2)")
    p.add_argument("--nodes", choices=["gll", "equispaced"], help="node family (gll)")
    p.add_argument("--mesh", metavar="FILE", help="TOML mesh file (see meshes/); sets the box")


def _problem_argument(p, choices):
    p.add_argument(
        "problem", nargs="?", default="poisson", choices=choices, help="problem (poisson)"
    )


def _problem_options(p):
    """--method, --kappa and --wavenumber of `solve` and `convergence`."""
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "fdm", "amg", "cg", "direct"],
        help="linear solver (auto)",
    )
    p.add_argument(
        "--kappa",
        type=_kappa,
        help="diffusion κ: a number or an expression in x, y, z such as '1 + x*y' (1)",
    )
    p.add_argument("--wavenumber", type=_number("--wavenumber"), help="helmholtz: wavenumber k (5)")


def _output_options(p, **helps):
    """Add the output files a command offers, as ``--NAME FILE`` options in the order given.

    E.g. ``plot="save a figure"`` adds ``--plot FILE``.
    """
    for name, text in helps.items():
        p.add_argument(f"--{name.replace('_', '-')}", metavar="FILE", help=text)


def _command(sub, name, func, summary, description, examples):
    """Add the subcommand ``name`` run by ``func``.

    It has a one-line ``summary`` (in ``femkron --help``), a ``description`` and example
    command lines (in its ``--help``).
    """
    p = sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=_FMT,
    )
    p.set_defaults(func=func)
    return p


def build_parser():
    """The argparse parser of the ``femkron`` command."""
    parser = _ArgumentParser(
        prog="femkron",
        description="Finite elements on boxes as Kronecker sums of 1D matrices.",
        epilog=(
            "examples:\n"
            "  femkron solve                      built-in 2D Poisson problem\n"
            "  femkron solve heat --dim 1 --plot heat.png\n"
            "  femkron solve examples/problems/mixed_faces.toml\n"
            "  femkron mms --exact 'sin(pi*x)*exp(y)' --kappa '1 + x*y' --bc right=neumann\n"
            "  femkron convergence --order 3 --plot rates.png\n"
            "  femkron eig --dim 2 -k 8\n"
            "  femkron info\n"
            "  femkron bench --sizes 1e4          assembly and solver timings\n"
            "Run `femkron COMMAND --help` for the options of a command."
        ),
        formatter_class=_FMT,
    )
    parser.add_argument("--version", action="version", version=f"femkron {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _command(
        sub,
        "solve",
        cmd_solve,
        "solve a manufactured problem or a problem file; print dofs, method, time, errors",
        "Solve a problem with the manufactured solution u = Π sin(π x_i / L_i) on a box\n"
        "(homogeneous Dirichlet) and report the L2 and H1 errors against it:\n"
        "  poisson    -∇·(κ∇u) = f   (--kappa a number or an expression: f follows)\n"
        "  helmholtz  -∇·(κ∇u) - k²u = f\n"
        "  heat       u_t = κΔu from u(0) = u, θ-scheme, error at t_end\n"
        "(--domain disk|annulus|cylinder|shell: poisson or helmholtz on a curvilinear domain\n"
        "with an exact solution in Cartesian form, zero on every face; --kappa there too),\n"
        "or solve a problem file PROBLEM.toml (domain, equation, boundary conditions, exact\n"
        "solution, outputs: see docs/guide/problem-files.md).",
        [
            "femkron solve",
            "femkron solve --dim 3 --cells 16 --order 2 --method amg",
            "femkron solve helmholtz --wavenumber 4 --plot u.png --json result.json",
            "femkron solve heat --dim 1 --t-end 0.1 --dt 1e-3 --theta 0.5",
            "femkron solve --mesh meshes/boundary_layer.toml --order 3 --vtk u.vtu",
            "femkron solve --kappa '1 + x*y' --plot-error err.png",
            "femkron solve examples/problems/mixed_faces.toml --json result.json",
            "femkron solve --domain disk --cells 16 --order 3 --plot disk.png",
            "femkron solve --domain shell --order 2",
        ],
    )
    p.add_argument(
        "problem",
        nargs="?",
        default="poisson",
        metavar="PROBLEM",
        help="poisson, helmholtz, heat (built-in problems; poisson), or a problem file .toml",
    )
    _space_options(p)
    p.add_argument(
        "--domain",
        choices=list(CLI_DOMAINS),
        help="box (the unit box, or --mesh; default) or a curvilinear domain with an exact "
        "solution in Cartesian form: disk (unit disk, polar), annulus (0.5 < r < 1), cylinder "
        "(r < 1, 0 < z < 1), shell (spherical, 0.5 < r < 1); --cells n scales the default "
        "cells per axis (disk n × 4n, annulus n × 8n, cylinder n × 4n × n, shell n × 2n × 4n) "
        "or gives one count per axis",
    )
    _problem_options(p)
    p.add_argument(
        "--t-end", type=_number("--t-end", positive=True), help="heat: final time (0.05)"
    )
    p.add_argument("--dt", type=_number("--dt", positive=True), help="heat: time step (t_end / 50)")
    p.add_argument(
        "--theta",
        type=_number("--theta"),
        help="heat: θ of the θ-scheme, 0.5 Crank–Nicolson, 1 backward Euler (0.5)",
    )
    _output_options(
        p,
        plot="save a figure (.png, .pdf, .svg, ...)",
        plot_error="save a figure of the error u_h - u (the exact solution is known)",
        vtk="write the solution as .vtu (needs meshio)",
        json="write the results as JSON ('-': stdout)",
    )

    p = _command(
        sub,
        "convergence",
        cmd_convergence,
        "table of errors and rates over mesh refinements",
        "Solve the manufactured problem on a sequence of meshes and print the L2 and H1\n"
        "errors with the observed rates (expected p+1 and p for order p).",
        [
            "femkron convergence",
            "femkron convergence --order 3 --cells 2,4,8,16 --plot rates.png",
            "femkron convergence helmholtz --dim 1 --order 4",
            "femkron convergence --mesh meshes/chebyshev.toml --levels 3",
        ],
    )
    _problem_argument(p, ("poisson", "helmholtz"))
    _space_options(p, cells_help="cells per axis of each level, e.g. 4,8,16,32 (default)")
    p.add_argument(
        "--levels",
        type=int,
        default=3,
        help="with --mesh: number of levels, each halving every cell (3)",
    )
    _problem_options(p)
    _output_options(
        p,
        plot="save the log-log plot (.png, .pdf, ...)",
        json="write the table as JSON ('-': stdout)",
    )

    p = _command(
        sub,
        "mms",
        cmd_mms,
        "manufactured solution: f and face data from an exact u, convergence table",
        "The method of manufactured solutions: from an exact u (an expression in x, y, z),\n"
        "compute f = -∇·(κ∇u) + σu and the data of the Dirichlet, Neumann and Robin faces\n"
        "symbolically, solve on each mesh and order, and print the L2 and H1 errors with\n"
        "their rates against the expected p+1 and p.",
        [
            "femkron mms --exact 'sin(pi*x)*exp(y)'",
            "femkron mms --exact 'cos(x)*y**2' --kappa '1 + x*y' --bc right=neumann "
            "top=robin:2 --orders 1 2 3",
            "femkron mms --exact 'x*sin(y)' --domain '[0,2]x[0,1]' --cells 4,8,16 "
            "--json rates.json --plot rates.png",
        ],
    )
    p.add_argument("--exact", required=True, metavar="EXPR", help="the exact solution u")
    p.add_argument("--kappa", default="1", metavar="EXPR", help="diffusion κ(x, ...) (1)")
    p.add_argument(
        "--sigma", default="0", metavar="EXPR", help="reaction σ(x, ...) (0; < 0: Helmholtz)"
    )
    p.add_argument("--domain", metavar="BOX", help="the box, e.g. '[0,1]x[0,2]' (unit box)")
    p.add_argument(
        "--dim", type=int, choices=[1, 2, 3], help="dimension (default: from --domain or --exact)"
    )
    p.add_argument(
        "--bc",
        nargs="+",
        metavar="FACE=KIND",
        help="face conditions: dirichlet, neumann, robin:ALPHA, or AXIS=periodic "
        "(faces not named: dirichlet)",
    )
    p.add_argument(
        "--orders", type=int, nargs="+", default=[1, 2, 3], help="polynomial orders (1 2 3)"
    )
    p.add_argument("--cells", default="4,8,16", help="cells per axis of each level (4,8,16)")
    p.add_argument("--nodes", default="gll", choices=["gll", "equispaced"], help="node family")
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "fdm", "amg", "cg", "direct"],
        help="linear solver (auto)",
    )
    _output_options(
        p,
        plot="save the log-log plot of the errors",
        json="write the table as JSON ('-': stdout)",
    )

    p = _command(
        sub,
        "eig",
        cmd_eig,
        "first eigenvalues of the Laplacian against the exact ones",
        "The k smallest eigenvalues of K u = λ M u (the Dirichlet Laplacian) on a box,\n"
        "computed from 1D eigenpairs, next to the exact Σ (π m_i / L_i)².",
        [
            "femkron eig",
            "femkron eig --dim 2 --cells 8 --order 4 -k 12 --plot modes.png",
            "femkron eig --mesh meshes/channel.toml -k 6",
            "femkron eig --domain disk --cells 16 --order 3 -k 9",
        ],
    )
    _space_options(p, cells_help="cells per axis, e.g. 16 or 16,8 (16)")
    p.add_argument("-k", type=int, default=6, help="number of eigenvalues (6)")
    p.add_argument(
        "--domain",
        choices=["box", "disk"],
        default="box",
        help="box (the unit box, or --mesh) or disk: the unit disk in polar coordinates, "
        "--cells radial cells (4 × as many in θ), compared with Bessel zeros (box)",
    )
    _output_options(
        p, plot="save a figure of the modes", json="write the eigenvalues as JSON ('-': stdout)"
    )

    p = _command(
        sub,
        "info",
        cmd_info,
        "versions, BLAS and thread count",
        "Print the versions of femkron and its dependencies, the BLAS and threads.",
        ["femkron info", "femkron info --json -"],
    )
    _output_options(p, json="write the same as JSON ('-': stdout)")

    p = _command(
        sub,
        "bench",
        cmd_bench,
        "time assembly and solvers against baselines (scipy, scikit-fem, pyamg)",
        "Benchmark tocsr, matrix-free apply and the fdm solver against scipy "
        "kron sums, element-by-element assembly, scikit-fem, CSR SpMV, pyamg, CG and LU.",
        [
            "femkron bench --sizes 1e4 1e5",
            "femkron bench --sizes 1e6 --orders 1 3 --threads 2 --json b.json --plot b.png",
            "femkron bench --kind solve --scale",
        ],
    )
    from ..bench import add_arguments as bench_arguments

    bench_arguments(p)
    return parser


def main(argv=None):
    """Entry point of the ``femkron`` console script; returns the exit status.

    Examples
    --------
    >>> main(["solve", "--cells", "-3"])
    2
    """
    parser = build_parser()
    try:
        with warnings.catch_warnings(record=True) as caught:
            args = parser.parse_args(argv)
            say.to_stderr = getattr(args, "json", None) == "-"
            if args.command is None:
                parser.print_help()
                status = 0
            else:
                status = args.func(args)
        _report_warnings(caught)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        return _broken_pipe()
    except UsageError as err:
        print(_one_line(err), file=sys.stderr)  # an argument may hold a line break
        return 2
    except (FemkronError, OSError, ValueError, MemoryError) as err:
        print(f"femkron: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except Warning as err:  # a warnings filter set to "error" (python -W error, PYTHONWARNINGS)
        print(f"femkron: error: {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("femkron: interrupted", file=sys.stderr)
        return 130


#: At most this many distinct warnings are reported; a count stands for the rest.
_MAX_WARNINGS = 5


def _report_warnings(caught):
    """Report the warnings ``caught`` during a successful command, one line per distinct one.

    Routed through :func:`~femkron.cli.output.say` (the report's stream), never through
    Python's ``warnings`` printing, so stderr stays empty on success.
    """
    seen = []
    for w in caught:
        line = f"{w.category.__name__}: {_one_line(w.message)}"
        if line not in seen:
            seen.append(line)
    for line in seen[:_MAX_WARNINGS]:
        say(f"femkron: warning: {line}")
    if len(seen) > _MAX_WARNINGS:
        say(f"femkron: warning: {len(seen) - _MAX_WARNINGS} more warning(s) not shown")


def _broken_pipe():
    """Stop quietly after the reader of stdout went away; returns 141 (128 + SIGPIPE).

    As the Python documentation on SIGPIPE recommends, stdout is pointed at devnull so that
    the interpreter's final flush does not fail a second time.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    return 141


def _one_line(err):
    text = str(err) or type(err).__name__
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
