"""The import paths of femkron 0.1, kept for one release.

0.1 had one flat module per job (``femkron.solvers``, ``femkron.tensor``, ...); 0.2 groups
them in subpackages.  Importing an old path gives the new module itself (the same objects)
with a :class:`DeprecationWarning` naming the new path.  The paths that are still packages
(``femkron.kron``, ``femkron.problems``, ``femkron.io``, ``femkron.plot``, ``femkron.bench``,
``femkron.cli``, ``femkron.petsc``) export what their 0.1 modules did.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: 0.1 module → the 0.2 module that holds its contents.
OLD_PATHS = {
    "femkron.assembly": "femkron.fem.assembly",
    "femkron.bc": "femkron.fem.bc",
    "femkron.coefficients": "femkron.fem.coefficients",
    "femkron.elements": "femkron.fem.elements",
    "femkron.fdm": "femkron.kron.diagonalize",
    "femkron.krylov": "femkron.linalg.krylov",
    "femkron.linear_system": "femkron.problems.linear_system",
    "femkron.matfree": "femkron.fem.matfree",
    "femkron.mesh": "femkron.fem.mesh",
    "femkron.norms": "femkron.fem.norms",
    "femkron.quadrature": "femkron.fem.quadrature",
    "femkron.solution": "femkron.problems.solution",
    "femkron.solvers": "femkron.linalg.solve",
    "femkron.space": "femkron.fem.space",
    "femkron.tensor": "femkron.fem.tensor",
    "femkron.timestepping": "femkron.problems.timestepping",
}


class _OldPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves a 0.1 module path to its 0.2 module, with a deprecation warning."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in OLD_PATHS:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = OLD_PATHS[spec.name]
        warnings.warn(
            f"{spec.name} is the femkron 0.1 import path; use {new} (or the names of the "
            "femkron package itself). The old path goes in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module):
        """Nothing to run: the module is the 0.2 one, already imported."""


def install():
    """Put the finder of the 0.1 paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _OldPathFinder) for f in sys.meta_path):
        sys.meta_path.append(_OldPathFinder())


install()
