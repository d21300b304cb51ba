"""Assembly and solve benchmarks behind ``femkron bench``.
"""

from ._all import (  # noqa: F401
    ASSEMBLY_METHODS,
    KAPPA_METHODS,
    SOLVE_METHODS,
    add_arguments,
    assembly_case,
    kappa_case,
    kappa_coefficient,
    run,
    scale_run,
    solve_case,
    targets,
)

__all__ = [
    "ASSEMBLY_METHODS",
    "SOLVE_METHODS",
    "KAPPA_METHODS",
    "assembly_case",
    "solve_case",
    "kappa_case",
    "kappa_coefficient",
    "scale_run",
    "targets",
    "add_arguments",
    "run",
]
