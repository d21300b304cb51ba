"""The ``femkron bench`` command line: options, validation, the case loop, the report.

BLAS and FFT threads: the numbers depend on them, so ``--threads`` re-runs the benchmark in a
fresh Python process with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` set
before numpy is imported.  :func:`add_arguments` and :func:`run` are what :mod:`femkron.cli`
uses; :func:`main` runs the command on its own (``python -m femkron.bench.command``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from .._validate import as_int
from ..errors import FemkronValueError, ResourceError
from .cases import ASSEMBLY_METHODS, SOLVE_METHODS, assembly_case, solve_case
from .coordinates import COORDINATE_DOMAINS, coordinates_case
from .kappa import KAPPA_METHODS, KAPPA_ORDERS, kappa_case
from .reaction import reaction_case
from .report import _threads_env, plot_rows, print_report, write_json
from .scale import scale_run
from .targets import targets
from .union import union_case

__all__ = ["add_arguments", "run", "main"]


def add_arguments(parser):
    """Add the ``femkron bench`` options to an argparse parser."""
    parser.add_argument(
        "--kind",
        choices=["assembly", "solve", "kappa", "reaction", "union", "coordinates", "all"],
        default="all",
        help="what to benchmark: all = assembly and solve; kappa = the variable-coefficient "
        "solve (femkron's auto choice against pyamg SA-CG on the same matrix), run for the "
        "--dims, --orders (2D: 1-4, 3D: 1-2) and --sizes; "
        "reaction = Gray-Scott SBDF2 steps (Q1, periodic) against one fdm solve, per --sizes "
        "(2.6e5 is 512 x 512 cells); "
        "union = the L-shape Poisson problem, the union solve against pyamg SA-CG on the "
        "same matrix, per --orders and --sizes; coordinates = disk and annulus Poisson and "
        "the 3D cylinder (--domains) by nested diagonalization against fdm on a square (cube) "
        "of the same size and pyamg SA-CG on the same matrix, per --orders and --sizes",
    )
    parser.add_argument(
        "--domains",
        nargs="+",
        choices=list(COORDINATE_DOMAINS),
        default=list(COORDINATE_DOMAINS),
        help="--kind coordinates: the domains (disk annulus cylinder)",
    )
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3], help="dimensions (2 3)")
    parser.add_argument("--orders", type=int, nargs="+", default=[1], help="orders (1)")
    parser.add_argument(
        "--sizes",
        type=float,
        nargs="+",
        default=[1e4, 1e5],
        help="approximate dofs per case (1e4 1e5); the targets are judged only at 1e6 "
        "(the scale run's at 1e8), else reported as not run at this size",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help=f"subset of {', '.join(ASSEMBLY_METHODS + SOLVE_METHODS + KAPPA_METHODS[:1])}",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="rounds per measurement (3): the methods of a case run interleaved (A, B, A, "
        "B, ...) and the report gives the median and the best",
    )
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
    parser.add_argument(
        "--scale-trace",
        action="store_true",
        help="--scale also counts, by tracemalloc, the full-size arrays each step holds at once",
    )
    parser.add_argument("--json", metavar="FILE", help="write all rows and targets as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="log-log time vs dofs figure")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _argv(args):
    """The ``femkron bench`` command line of parsed ``args`` (for the re-run)."""
    argv = ["bench", "--kind", args.kind, "--repeats", str(args.repeats)]
    argv += ["--dims", *map(str, args.dims), "--orders", *map(str, args.orders)]
    argv += ["--sizes", *(f"{s:g}" for s in args.sizes), "--threads", str(args.threads)]
    if getattr(args, "domains", None) and list(args.domains) != list(COORDINATE_DOMAINS):
        argv += ["--domains", *args.domains]
    if args.methods:
        argv += ["--methods", *args.methods]
    if args.scale:
        argv += ["--scale", "--scale-dofs", f"{args.scale_dofs:g}"]
        if args.scale_trace:
            argv.append("--scale-trace")
    for flag, value in (("--json", args.json), ("--plot", args.plot)):
        if value is not None:
            argv += [flag, value]
    if args.no_progress:
        argv.append("--no-progress")
    return argv


def run(args):
    """Run ``femkron bench`` with parsed ``args``; returns the exit status."""
    from tqdm.auto import tqdm

    from .._files import check_writable

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
    if args.json is not None:  # --json "" is an error, not "no file"
        check_writable(args.json, "--json")
    if args.plot is not None:
        check_writable(args.plot, "--plot")
    cases, skipped = [], []
    if args.kind == "kappa":
        for dim in args.dims:
            for order in args.orders:
                if order in KAPPA_ORDERS.get(dim, ()):
                    cases += [("kappa", dim, order, int(size)) for size in args.sizes]
                else:
                    covered = list(KAPPA_ORDERS.get(dim, ()))
                    skipped.append(("kappa", dim, order, f"{dim}D kappa covers orders {covered}"))
    if args.kind == "reaction":
        cases = [("reaction", 2, 1, int(size)) for size in args.sizes]
    if args.kind == "coordinates":
        cases = [("coordinates", 2, p, int(size)) for p in args.orders for size in args.sizes]
    if args.kind == "union":
        cases = [("union", 2, order, int(size)) for order in args.orders for size in args.sizes]
    for kind in ("assembly", "solve"):
        if args.kind in (kind, "all"):
            for dim in args.dims:
                for order in args.orders:
                    for size in args.sizes:
                        cases.append((kind, dim, order, int(size)))
    rows = [
        {
            "kind": kind,
            "dim": dim,
            "order": order,
            "dofs": 0,
            "method": "-",
            "seconds": None,
            "times": [],
            "max_diff": None,
            "note": f"skipped: {why}",
        }
        for kind, dim, order, why in skipped
    ]
    # the bar is for a terminal: None disables it when stderr is not one (a log, a pipe)
    bar = tqdm(cases, desc="femkron bench", disable=True if args.no_progress else None, leave=False)
    for kind, dim, order, size in bar:
        bar.set_postfix_str(f"{kind} {dim}D Q{order} ~{size:.0e}")
        try:
            if kind == "assembly":
                rows += assembly_case(dim, order, size, repeats, methods)
            elif kind == "kappa":
                rows += kappa_case(order, size, repeats, methods=kappa_methods, dim=dim)
            elif kind == "reaction":
                rows += reaction_case(size, repeats=repeats)
            elif kind == "coordinates":
                for domain in getattr(args, "domains", None) or COORDINATE_DOMAINS:
                    rows += coordinates_case(domain, order, size, repeats)
            elif kind == "union":
                rows += union_case(order, size, repeats=repeats)
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
        progress = not args.no_progress and sys.stderr.isatty()
        rows.append(scale_run(int(args.scale_dofs), progress=progress, trace=args.scale_trace))
    goals = targets(rows)
    print_report(rows, goals)
    if args.json:
        write_json(args.json, rows, goals)
    if args.plot:
        plot_rows(rows, args.plot)
    return 0


def main(argv=None):  # pragma: no cover - convenience for ``python -m femkron.bench.command``
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run ``femkron bench``."""
    import argparse

    parser = argparse.ArgumentParser(prog="femkron bench")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
