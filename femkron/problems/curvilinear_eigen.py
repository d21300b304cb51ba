"""Eigenpairs of the Laplacian in curvilinear coordinates by nested diagonalization.

The angular axes are diagonalized once (the pole rule included, see
:mod:`femkron.kron.nested`); what remains is one small generalized eigenproblem of the
radial (banded) axis per angular mode.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> from scipy.special import jn_zeros
>>> D = fk.TensorSpace.disk(radius=1.0, cells=(8, 16), order=3)
>>> w, v = curvilinear_eigen(D, k=3)
>>> bool(np.allclose(w, [jn_zeros(0, 1)[0] ** 2] + [jn_zeros(1, 1)[0] ** 2] * 2, rtol=1e-5))
True
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int, check_vectors
from ..fem.bc import BoundaryConditions
from ..fem.tensor import mass, stiffness
from ..kron.nested import NestedDiagonalization

__all__ = ["curvilinear_eigen"]


def curvilinear_eigen(V, k=6, bc=None):
    """The ``k`` smallest eigenpairs of ``K u = λ M u`` on a curvilinear space.

    Returns ``(w, v)`` as :func:`femkron.eigen`: ``w`` ascending, ``v`` of shape
    ``(V.ndofs, k)`` on the full tensor grid, M-orthonormal with the metric mass.
    """
    bcs = BoundaryConditions(V, bc)
    k = as_int(k, "k", minimum=1, maximum=bcs.ndofs)
    A = stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    Ac, Mc = bcs.constrain(A), bcs.constrain(mass(V))
    nested = NestedDiagonalization(Ac, mass=Mc)
    w, X = nested.eigenpairs(k)
    check_vectors(V.ndofs, k, f"{k} eigenvectors of {V.ndofs} dofs")
    vecs = np.empty((V.ndofs, w.size))
    for j in range(w.size):
        vecs[:, j] = bcs.extend(X[:, j])
    return w, vecs
