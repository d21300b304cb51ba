"""Lazy import of petsc4py and mpi4py, and the error raised when they are missing.

Nothing in femkron imports petsc4py or mpi4py at module level: every function of
:mod:`femkron.petsc` that needs them calls :func:`import_petsc`, which raises
:class:`PetscUnavailableError` (a :class:`~femkron.errors.MissingDependencyError`, hence an
``ImportError``) naming the install routes when they cannot be imported.

Examples
--------
>>> available() in (True, False)
True
>>> issubclass(PetscUnavailableError, ImportError)
True
"""

from __future__ import annotations

import os

from ..errors import MissingDependencyError

__all__ = ["PetscUnavailableError", "available", "import_petsc"]

_INSTALL = (
    "install PETSc for Python: with the distribution's packages, e.g. Debian/Ubuntu "
    "`apt-get install python3-petsc4py python3-mpi4py mpi-default-bin` and run femkron with "
    "that system Python (/usr/bin/python3), or `pip install petsc petsc4py mpi4py`, which "
    "compiles PETSc from source and needs MPI compilers"
)


class PetscUnavailableError(MissingDependencyError):
    """petsc4py or mpi4py cannot be imported (the message names the install routes)."""


def import_petsc():
    """``(PETSc, MPI)``, or :class:`PetscUnavailableError` with the install routes."""
    try:
        from petsc4py import PETSc
    except ImportError as err:
        hint = ""
        debian = "/usr/lib/petscdir"
        if os.path.isdir(debian) and not os.environ.get("PETSC_DIR"):
            versions = sorted(os.listdir(debian))
            if versions:
                hint = (
                    f"; PETSc is installed under {debian} but petsc4py is not found: set "
                    f"PETSC_DIR={debian}/{versions[-1]}/x86_64-linux-gnu-real (or the arch "
                    "directory there), or also install petsc-dev"
                )
        raise PetscUnavailableError(
            f"femkron.petsc needs petsc4py, which cannot be imported ({err}); {_INSTALL}{hint}"
        ) from err
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise PetscUnavailableError(
            f"femkron.petsc needs mpi4py, which cannot be imported ({err}); {_INSTALL}"
        ) from err
    return PETSc, MPI


def available():
    """True when petsc4py and mpi4py can be imported.

    Examples
    --------
    >>> available() in (True, False)
    True
    """
    try:
        import_petsc()
    except PetscUnavailableError:
        return False
    return True
