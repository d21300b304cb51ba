"""Eigenpairs of the Laplacian on a box, exactly from the 1D ones.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1)], cells=16, order=3)
>>> w, v = fk.eigen(V, k=2)
>>> np.round(w / np.pi**2, 6)
array([1., 4.])
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int, check_vectors
from ..fem.bc import BoundaryConditions
from ..fem.tensor import as_tensor_space, stiffness
from ..kron.diagonalize import FastDiagonalization
from ..kron.structure import pencils
from .union_problems import BoxUnion, union_eigen

__all__ = ["eigen"]


def eigen(V, k=6, bc=None):
    """The ``k`` smallest eigenpairs of ``K u = λ M u`` (the Laplacian) on the box.

    On a :class:`~femkron.BoxUnion`: shift-invert Lanczos with the union solve, ``v`` on the
    union's dofs (:func:`~femkron.problems.union_problems.union_eigen`).

    Computed exactly from 1D eigenpairs: ``λ = λ_x + λ_y (+ λ_z)``, eigenvectors are
    Kronecker products of 1D ones.  Returns ``(w, v)`` like ``scipy.sparse.linalg.eigsh``:
    ``w`` ascending of shape ``(k,)`` and ``v`` of shape ``(V.ndofs, k)`` (full dofs, zero on
    Dirichlet faces, M-orthonormal).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=16, order=3)
    >>> w, v = fk.eigen(V, k=4)
    >>> np.round(w, 5)
    array([2., 5., 5., 8.])
    """
    if isinstance(V, BoxUnion):  # shift-invert Lanczos with the union solve
        return union_eigen(V, k, bc)
    V = as_tensor_space(V)
    if V.coordinates.curvilinear:  # a small generalized eigenproblem per angular mode
        from .curvilinear_eigen import curvilinear_eigen

        return curvilinear_eigen(V, k, bc)
    bcs = BoundaryConditions(V, bc)
    n_free = bcs.ndofs
    k = as_int(k, "k", minimum=1, maximum=n_free)
    A = stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    Ks, Ms, sigma = pencils(bcs.constrain(A), split_1d=True)  # the carried pencils
    fdm = FastDiagonalization(stiffness=Ks, masses=Ms, sigma=sigma, singular=bcs.singular)
    lam = fdm.lam_grid
    # the k smallest sums only involve the k smallest 1D eigenvalues of each axis
    order1d = [np.argsort(l)[: min(k, l.size)] for l in fdm.lams]
    sub = lam[np.ix_(*order1d)]
    flat = np.argsort(sub, axis=None, kind="stable")[:k]
    idx = np.unravel_index(flat, sub.shape)
    w = sub.ravel()[flat]
    check_vectors(V.ndofs, k, f"{k} eigenvectors of {V.ndofs} dofs")
    vecs = np.empty((V.ndofs, k))
    for j in range(k):
        parts = [fdm.S[d][:, order1d[d][idx[d][j]]] for d in range(V.dim)]
        full = [bcs.P[d] @ p for d, p in enumerate(parts)]
        vec = full[0]
        for p in full[1:]:
            vec = np.multiply.outer(vec, p)
        vecs[:, j] = vec.reshape(-1)
    return w, vecs
