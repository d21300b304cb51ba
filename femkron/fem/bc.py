"""Boundary conditions on the faces of a box, kept in the 1D factors.

Faces are ``left``/``right`` (axis 0, x = a / x = b), ``bottom``/``top`` (axis 1) and
``front``/``back`` (axis 2).  A face not named is homogeneous Dirichlet; a periodic axis is
named by its axis, ``{"x": Periodic()}``.  A single condition object stands for every face.

How each condition keeps the Kronecker structure:

* Dirichlet faces remove the end dofs of that axis: the free set of the box is a product of 1D
  free sets, so the constrained operator is the Kronecker sum of restricted 1D factors; a
  non-zero value is a lifting ``b_f -= A_fb g``.
* Robin ``κ ∂u/∂n + α u = g`` adds the term ``α e eᵀ ⊗ M ⊗ …`` (a point matrix in the normal
  axis, 1D mass matrices in the others) and the load ``∫_face g v``.
* Neumann ``κ ∂u/∂n = g`` adds the load ``∫_face g v``.
* Periodic identifies the end dofs of an axis: ``Pᵀ A P`` with ``P`` the ``n × (n-1)``
  identification matrix of that axis.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> bcs = fk.BoundaryConditions(V, {"left": fk.Neumann(0.0), "y": fk.Periodic()})
>>> bcs.describe()
['x: left Neumann(0.0), right Dirichlet(0.0)', 'y: periodic']
>>> bcs.shape   # free dofs per axis
(4, 4)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import as_vector, evaluate, is_number
from ..errors import FemkronTypeError, FemkronValueError
from ..kron.operator import KronOperator
from ..kron.structure import pencils
from .conditions import Condition, Dirichlet, Neumann, Periodic, Robin

__all__ = [
    "Condition",
    "Dirichlet",
    "Neumann",
    "Robin",
    "Periodic",
    "BoundaryConditions",
    "FACES",
]

#: face name → (axis, side) with side 0 at the lower end and 1 at the upper end.
FACES = {
    "left": (0, 0),
    "right": (0, 1),
    "bottom": (1, 0),
    "top": (1, 1),
    "front": (2, 0),
    "back": (2, 1),
}
_AXES = {"x": 0, "y": 1, "z": 2}


def _face_data(cond):
    """``(g, label)`` of a Neumann or Robin condition with data not zero; else None."""
    if cond.kind == "neumann":
        g, label = cond.flux, "Neumann flux"
    elif cond.kind == "robin":
        g, label = cond.g, "Robin g"
    else:
        return None
    if is_number(g) and g == 0.0:
        return None
    return g, label


def _on_face(g, d, point):
    """Data ``g`` of all coordinates as a function on a face (axis ``d`` held at ``point``)."""
    if is_number(g):
        return float(g)

    def gf(*xs):
        full = list(xs)
        full.insert(d, np.full((1,) * len(xs), point))
        return g(*full)

    gf.__name__ = getattr(g, "__name__", "g")
    return gf


def _face_names(dim):
    return [name for name, (axis, _) in FACES.items() if axis < dim]


class BoundaryConditions:
    """The boundary conditions of one problem on one :class:`~femkron.TensorSpace`.

    Parameters
    ----------
    V : TensorSpace
    bc : dict, Condition or None
        ``{face or axis name: condition}``; a single condition applies to every face; ``None``
        means homogeneous Dirichlet everywhere.

    Attributes
    ----------
    axes : list
        Per axis either ``"periodic"`` or a pair ``(lower, upper)`` of conditions.
    P : list of scipy.sparse.csr_matrix
        Per-axis prolongation from constrained to full dofs (``n_d × m_d``).
    shape : tuple of int
        Constrained dofs per axis.
    singular : bool
        True when constants are in the kernel (no Dirichlet, no Robin with alpha ≠ 0).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=2)
    >>> bcs = BoundaryConditions(V, {"left": Neumann(), "top": Robin(1.0)})
    >>> V.shape, bcs.shape, bcs.singular
    ((7, 7), (6, 6), False)
    >>> BoundaryConditions(V, Neumann()).singular
    True
    """

    def __init__(self, V, bc=None):
        from .space import Space1D
        from .tensor import TensorSpace

        if isinstance(V, Space1D):
            V = TensorSpace([V])
        if not isinstance(V, TensorSpace):
            raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")
        self.V = V
        D = V.dim
        if bc is None:
            bc = {}
        if V.coordinates.curvilinear:
            from .curvilinear_bc import curvilinear_faces

            self.axes, poles = curvilinear_faces(V, bc)
            self._finish(V, poles)
            return
        if isinstance(bc, Condition):
            if isinstance(bc, Periodic):
                bc = {_axis_name(d): Periodic() for d in range(D)}
            else:
                bc = {name: bc for name in _face_names(D)}
                if D > 3:
                    raise FemkronValueError("a single condition for every face needs dim <= 3")
        if not isinstance(bc, dict):
            raise FemkronTypeError(
                f"bc must be a dict {{face: condition}}, a condition, or None, got "
                f"{type(bc).__name__}"
            )
        faces = [[Dirichlet(0.0), Dirichlet(0.0)] for _ in range(D)]
        periodic = [False] * D
        named = [[False, False] for _ in range(D)]
        valid = _face_names(D) + [_axis_name(d) for d in range(min(D, 3))]
        for key, cond in bc.items():
            if not isinstance(key, str) or key not in valid:
                raise FemkronValueError(
                    f"unknown face {key!r} in bc; accepted for {D}D: {', '.join(valid)}"
                )
            if not isinstance(cond, Condition):
                raise FemkronTypeError(
                    f"bc[{key!r}] must be Dirichlet, Neumann, Robin or Periodic, got "
                    f"{type(cond).__name__}"
                )
            if key in _AXES:
                if not isinstance(cond, Periodic):
                    raise FemkronValueError(
                        f"bc[{key!r}]: an axis name takes Periodic(); name the faces "
                        f"({', '.join(n for n, (a, _) in FACES.items() if a == _AXES[key])}) "
                        f"for other conditions"
                    )
                periodic[_AXES[key]] = True
                continue
            if isinstance(cond, Periodic):
                raise FemkronValueError(
                    f"bc[{key!r}]: Periodic() is named by its axis, e.g. "
                    f"{{{_axis_name(FACES[key][0])!r}: Periodic()}}"
                )
            axis, side = FACES[key]
            faces[axis][side] = cond
            named[axis][side] = True
        for d in range(D):
            if periodic[d] and any(named[d]):
                raise FemkronValueError(
                    f"axis {_axis_name(d)!r} is periodic and also has a condition on a face; "
                    "a periodic axis takes no face conditions"
                )
            if periodic[d] and V.spaces[d].ndofs < 3:
                raise FemkronValueError(
                    f"a periodic axis needs at least 2 dofs after identification; axis "
                    f"{_axis_name(d)!r} has {V.spaces[d].ndofs - 1}"
                )
        self.axes = ["periodic" if periodic[d] else tuple(faces[d]) for d in range(D)]
        self._finish(V)

    def _finish(self, V, poles=()):
        """Prolongations, shapes and flags from the per-axis conditions ``self.axes``."""
        D = V.dim
        self.P = [self._prolongation(d) for d in range(D)]
        self.shape = tuple(P.shape[1] for P in self.P)
        for d, m in enumerate(self.shape):
            if m == 0:
                raise FemkronValueError(
                    f"axis {_axis_name(d)!r} has no free dofs (one cell of order 1 between two "
                    "Dirichlet faces); refine the mesh"
                )
        self.ndofs = int(np.prod(self.shape, dtype=np.int64))
        self.singular = all(
            ax == "periodic"
            or all(c.kind == "neumann" or (c.kind == "robin" and c.alpha == 0.0) for c in ax)
            for ax in self.axes
        )
        self.has_dirichlet_data = any(
            ax != "periodic"
            and any(c.kind == "dirichlet" and not (is_number(c.value) and c.value == 0) for c in ax)
            for ax in self.axes
        )
        self.poles = tuple(poles)
        self._pole_P = None
        if self.poles:  # the conforming functions at poles (fem/curvilinear.py)
            from ..kron.nested import pole_prolongation

            self._pole_P = pole_prolongation(self.shape, self.poles)
            self.ndofs = int(self._pole_P.shape[1])

    # ---- description --------------------------------------------------------------------
    def describe(self):
        """One line per axis.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
        >>> BoundaryConditions(V, {"right": Robin(2.0, 1.0)}).describe()
        ['x: left Dirichlet(0.0), right Robin(2.0, 1.0)']
        """
        lines = []
        if self.V.coordinates.curvilinear:
            from .curvilinear_bc import describe

            return describe(self)
        for d, ax in enumerate(self.axes):
            name = _axis_name(d)
            if ax == "periodic":
                lines.append(f"{name}: periodic")
            else:
                lo, hi = (
                    (n for n, (a, _) in FACES.items() if a == d) if d < 3 else ("lower", "upper")
                )
                lines.append(f"{name}: {lo} {ax[0]!r}, {hi} {ax[1]!r}")
        return lines

    # ---- per-axis structure -------------------------------------------------------------
    def _prolongation(self, d):
        n = self.V.spaces[d].ndofs
        ax = self.axes[d]
        if ax == "periodic":
            rows = np.arange(n)
            cols = np.arange(n) % (n - 1)
            return sp.csr_matrix((np.ones(n), (rows, cols)), shape=(n, n - 1))
        keep = np.ones(n, dtype=bool)
        if ax[0].kind == "dirichlet":
            keep[0] = False
        if ax[1].kind == "dirichlet":
            keep[-1] = False
        free = np.flatnonzero(keep)
        return sp.csr_matrix(
            (np.ones(free.size), (free, np.arange(free.size))), shape=(n, free.size)
        )

    def free_dofs(self, d):
        """Indices of the unconstrained 1D dofs of axis ``d`` (periodic: all but the last).

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
        >>> bcs = BoundaryConditions(V, {"left": Neumann(), "y": Periodic()})
        >>> bcs.free_dofs(0).tolist(), bcs.free_dofs(1).tolist()
        ([0, 1], [0, 1])
        """
        return self.P[d].tocsc().indices[self.P[d].tocsc().indptr[:-1]]

    def robin_operator(self, masses=None):
        """The Robin boundary terms ``Σ α e eᵀ ⊗ M ⊗ …`` on the full space, or ``None``.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=2, order=1)
        >>> R = BoundaryConditions(V, {"left": Robin(3.0)}).robin_operator()
        >>> len(R.terms), round(float(R.tocsr().sum()), 12)   # 3 × the length of the face
        (1, 6.0)
        """
        V = self.V
        if V.coordinates.curvilinear:
            from .curvilinear_bc import robin_terms

            terms, roles = robin_terms(self)
            return KronOperator.kron_sum(terms, roles) if terms else None
        masses = masses or [s.mass() for s in V.spaces]
        terms, roles = [], []
        for d in range(V.dim):
            R = self.axis_robin(d)
            if R is not None:
                terms.append((1.0, tuple(R if e == d else masses[e] for e in range(V.dim))))
                roles.append(d)
        return KronOperator.kron_sum(terms, roles, masses) if terms else None

    def axis_robin(self, d):
        """The 1D Robin matrix ``Σ_sides α e eᵀ`` of axis ``d`` (CSR), or ``None``.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
        >>> BoundaryConditions(V, {"left": Robin(3.0)}).axis_robin(0).toarray()[0]
        array([3., 0., 0.])
        """
        ax = self.axes[d]
        if ax == "periodic":
            return None
        s = self.V.spaces[d]
        R = None
        for side, cond in enumerate(ax):
            if cond.kind == "robin" and cond.alpha != 0.0:
                E = cond.alpha * s.boundary("left" if side == 0 else "right")
                R = E if R is None else R + E
        return R

    def _face_points(self, d, side):
        """Coordinates of the face grid: broadcastable arrays, one per axis."""
        V = self.V
        coords = []
        for e, s in enumerate(V.spaces):
            shape = [1] * V.dim
            if e == d:
                value = s.mesh.a if side == 0 else s.mesh.b
                coords.append(np.full(shape, value))
            else:
                shape[e] = -1
                coords.append(s.x.reshape(shape))
        return coords

    def boundary_values(self):
        """Full-size grid with the Dirichlet data at the Dirichlet dofs, zero elsewhere.

        ``None`` when all Dirichlet data are zero.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
        >>> BoundaryConditions(V, {"right": Dirichlet(5.0)}).boundary_values()
        array([0., 0., 5.])
        """
        if not self.has_dirichlet_data:
            return None
        V = self.V
        U = np.zeros(V.shape)
        for d, ax in enumerate(self.axes):
            if ax == "periodic":
                continue
            for side, cond in enumerate(ax):
                if cond.kind != "dirichlet":
                    continue
                coords = self._face_points(d, side)
                face_shape = tuple(1 if e == d else n for e, n in enumerate(V.shape))
                values = evaluate(
                    cond.value, f"Dirichlet value on face {self._face(d, side)}", coords, face_shape
                )
                index = [slice(None)] * V.dim
                index[d] = slice(0, 1) if side == 0 else slice(-1, None)
                U[tuple(index)] = values
        return U.reshape(-1)

    def _face(self, d, side):
        if self.V.coordinates.curvilinear:
            names = [n for n, w in self.V.coordinates.faces.items() if w == (d, side)]
            return names[0] if names else f"axis {self.V.coordinates.axes[d]} side {side}"
        if d < 3:
            return [n for n, (a, s) in FACES.items() if a == d and s == side][0]
        return f"axis {d} side {side}"

    def boundary_load(self, quad=None):
        """Full-size load of the Neumann and Robin data ``∫_face g v`` (``None`` if zero).

        ``quad`` is the number of Gauss points per cell on the faces (default as in
        :func:`~femkron.load_vector`).

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=2, order=1)
        >>> b = BoundaryConditions(V, {"left": Neumann(1.5)}).boundary_load()
        >>> round(float(b.sum()), 12)                 # 1.5 × the length of the face
        3.0
        """
        out = None
        for d, ax in enumerate(self.axes):
            if ax == "periodic":
                continue
            for side, cond in enumerate(ax):
                data = _face_data(cond)
                if data is None:
                    continue
                g, label = data
                face_load = self._face_load(
                    d, side, g, f"{label} on face {self._face(d, side)}", quad
                )
                out = face_load if out is None else out + face_load
        return None if out is None else out.reshape(-1)

    def _face_load(self, d, side, g, name, quad=None):
        from .tensor import TensorSpace, load_vector

        V = self.V
        n = V.shape[d]
        point = V.spaces[d].mesh.a if side == 0 else V.spaces[d].mesh.b
        shape = list(V.shape)
        shape[d] = 1
        if V.dim == 1:
            value = float(evaluate(g, name, (np.array(point),), ()))
            face = np.array([value])
        else:
            others = [s for e, s in enumerate(V.spaces) if e != d]
            W = TensorSpace(others)
            if V.coordinates.curvilinear:  # the face's area element J / h_d
                from .curvilinear_bc import face_weighted

                g = face_weighted(V, d, point, g)
            try:
                face = load_vector(W, _on_face(g, d, point), quad=quad)
            except FemkronValueError as err:
                raise FemkronValueError(f"{name}: {err}") from None
        out = np.zeros(V.shape)
        index = [slice(None)] * V.dim
        index[d] = 0 if side == 0 else n - 1
        out[tuple(index)] = face.reshape([s for e, s in enumerate(V.shape) if e != d])
        return out

    def axis_matrices(self, kappa=1.0):
        """Constrained dense 1D ``(K_d, M_d)`` per axis for a constant ``kappa``.

        Robin terms are folded into ``K_d`` (so ``Σ_d M..K_d..M`` is the constrained
        stiffness); read from the separable record of the constrained operator.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
        >>> [(K, M)] = BoundaryConditions(V).axis_matrices()
        >>> K, M
        (array([[4.]]), array([[0.33333333]]))
        """
        from .tensor import stiffness

        A = stiffness(self.V, kappa)
        robin = self.robin_operator()
        if robin is not None:
            A = A + robin
        Ks, Ms, _ = pencils(self.constrain(A), split_1d=True)
        return [(_dense(K), _dense(M)) for K, M in zip(Ks, Ms)]

    # ---- restriction and extension ------------------------------------------------------
    def constrain(self, A):
        """The constrained operator ``(⊗P)ᵀ A (⊗P)`` (still a Kronecker sum).

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
        >>> BoundaryConditions(V).constrain(fk.stiffness(V)).shape   # interior dofs only
        (4, 4)
        """
        A = A.project(self.P)
        if self.poles:
            from ..kron.nested import PoleConstrainedOperator

            return PoleConstrainedOperator(A, self.poles)
        return A

    def restrict(self, b):
        """``(⊗P)ᵀ b`` for a full-size vector: the constrained right-hand side.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=3, order=1)
        >>> BoundaryConditions(V, Periodic()).restrict([1.0, 2.0, 3.0, 4.0])  # ends added
        array([5., 2., 3.])
        """
        op = KronOperator.kron(*[P.T.tocsr() for P in self.P])
        out = op @ as_vector(b, "b", self.V.ndofs)
        return out if self._pole_P is None else self._pole_P.T @ out

    def select(self, u):
        """Values of a full-size vector at the free dofs (injection; poles: one value each).

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=3, order=1)
        >>> BoundaryConditions(V).select([0.0, 1.0, 2.0, 0.0])
        array([1., 2.])
        """
        U = as_vector(u, "u", self.V.ndofs).reshape(self.V.shape)
        for d in range(self.V.dim):
            U = np.take(U, self.free_dofs(d), axis=d)
        if self._pole_P is None:
            return U.reshape(-1)
        from ..kron.nested import pole_select

        return pole_select(self.shape, self.poles, U)

    def extend(self, uc, lift=None):
        """Full-size dof vector from constrained values, plus the Dirichlet lifting.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=3, order=1)
        >>> BoundaryConditions(V).extend([1.0, 2.0])
        array([0., 1., 2., 0.])
        """
        op = KronOperator.kron(*self.P)
        uc = as_vector(uc, "uc", self.ndofs)
        if self._pole_P is not None:
            uc = self._pole_P @ uc
        u = op @ uc
        if lift is not None:
            u = u + as_vector(lift, "lift", self.V.ndofs)
        return u


def _axis_name(d):
    return ("x", "y", "z")[d] if d < 3 else f"x{d}"


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
