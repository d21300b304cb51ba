"""The ``femkron`` command: :func:`main` parses the arguments and runs a subcommand.

:mod:`~femkron.cli.main` holds the parser, :mod:`~femkron.cli.commands` the subcommands,
:mod:`~femkron.cli.arguments` the checks of their arguments and :mod:`~femkron.cli.output` the
reports, figures and JSON records they write.
"""

from .commands import (
    cmd_bench,
    cmd_convergence,
    cmd_eig,
    cmd_info,
    cmd_mms,
    cmd_solve,
    exact_eigenvalues,
    info_record,
)
from .main import build_parser, main

__all__ = [
    "build_parser",
    "cmd_bench",
    "cmd_convergence",
    "cmd_eig",
    "cmd_info",
    "cmd_mms",
    "cmd_solve",
    "exact_eigenvalues",
    "info_record",
    "main",
]
