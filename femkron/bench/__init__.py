"""Assembly and solve benchmarks behind ``femkron bench``.

The package holds one idea per module:

* :mod:`~femkron.bench.cases` — the assembly and constant-coefficient solve benchmarks
  (:func:`assembly_case`, :func:`solve_case`), their timing helpers and baselines;
* :mod:`~femkron.bench.kappa` — the 2D variable-coefficient benchmark (:func:`kappa_case`);
* :mod:`~femkron.bench.scale` — the 3D Poisson run at 10^8 unknowns (:func:`scale_run`);
* :mod:`~femkron.bench.targets` — the measured ratios against their goals (:func:`targets`);
* :mod:`~femkron.bench.report` — the printed table, the JSON file, the figure;
* :mod:`~femkron.bench.command` — the command line (:func:`add_arguments`, :func:`run`).
"""

from .cases import ASSEMBLY_METHODS, SOLVE_METHODS, assembly_case, solve_case
from .command import add_arguments, run
from .kappa import KAPPA_METHODS, kappa_case, kappa_coefficient
from .scale import scale_run
from .targets import targets

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
