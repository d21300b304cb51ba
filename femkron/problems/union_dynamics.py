"""Time-dependent data and reaction–diffusion on a union of boxes.

:class:`UnionTimeData` gives, at any time, the load on the free dofs of a union and its
Dirichlet values from a source ``f(x, y[, z], t)`` and boundary data that may take the time
last (a callable without ``t`` stays constant; see :mod:`femkron.problems.timedata`).
:func:`femkron.heat` on a :class:`~femkron.BoxUnion` steps with it, and
:func:`union_reaction_diffusion` (what :func:`femkron.reaction_diffusion` runs on a union)
solves every species' implicit step by the union solve, set up once per species and stage.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> L = fk.BoxUnion.lshape(cells=4, order=1)
>>> data = UnionTimeData(L, {"boundary": fk.Dirichlet(lambda x, y, t: t)})
>>> load, lift = data.at(2.0)
>>> load.shape == (data.conds.ndofs,), float(lift.max())
(True, 2.0)
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_vector, check_choice, is_number
from ..errors import FemkronValueError
from ..fem.union_ops import UnionConditions, union_load, union_matrix, union_operator
from ..linalg.solve import make_solver
from ._imex import _imex_run, _StepSolvers
from .timedata import at_time, conditions_at, conditions_take_time, takes_time

__all__ = ["UnionTimeData", "union_reaction_diffusion", "UNION_RD_METHODS"]

#: Step solvers of reaction–diffusion on a union (``"auto"``: the union solve).
UNION_RD_METHODS = ("auto", "schur", "direct", "amg", "cg")


class UnionTimeData:
    """Source and boundary data of a union at any time.

    Parameters
    ----------
    U : BoxUnion
    bc : dict, Condition or None
        As for :func:`femkron.poisson` on a union; data may take the time last.
    f : number or callable
        ``f(x, y[, z])`` or ``f(x, y[, z], t)``.

    Attributes
    ----------
    U : BoxUnion
    conds : UnionConditions
        The conditions at ``t = 0`` (their free and Dirichlet dofs hold at every time).
    moving : bool
        Whether some datum takes the time.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4)
    >>> UnionTimeData(L, None, lambda x, y, t: t).moving
    True
    """

    def __init__(self, U, bc=None, f=0.0):
        self.U = U
        self._bc, self._f = bc, f
        self.moving = conditions_take_time(bc, U.dim) or takes_time(f, U.dim, "f")
        self.conds = UnionConditions(U, conditions_at(bc, 0.0, U.dim))
        self._constant = None

    def at(self, t):
        """``(load on the free dofs, Dirichlet values on the Dirichlet dofs or None)`` at ``t``.

        The load is ``∫ f v`` plus the Neumann and Robin face loads; the Dirichlet values
        are in the order of ``conds.fixed``.
        """
        if not self.moving and self._constant is not None:
            return self._constant
        U = self.U
        conds = self.conds
        if self.moving:
            conds = UnionConditions(U, conditions_at(self._bc, t, U.dim))
        load = union_load(U, conds, at_time(self._f, t, U.dim, "f"))[conds.free]
        lift = conds.values()
        out = (load, None if lift is None else lift[conds.fixed])
        if not self.moving:
            self._constant = out
        return out


class _UnionSpecies:
    """One species on a union: step operators and right-hand sides on the free dofs."""

    def __init__(self, U, D, bc):
        self.U, self.D = U, D
        self.data = UnionTimeData(U, bc)
        conds = self.conds = self.data.conds
        n = self.n = conds.ndofs
        self.M_ext = union_matrix(U, conds, kappa=0.0, sigma=1.0, robin=False)
        self.M_fd = self.M_ext[:n, n:]
        if D > 0:
            self.A = union_operator(U, conds, D, 0.0)
            self.A_fd = self.A.fixed_columns
        else:  # no diffusion: the Robin faces alone
            self.A = None
            self.A_fd = union_matrix(U, conds, kappa=0.0, sigma=0.0)[:n, n:]
        where = np.empty(int(np.prod(U.shape)), dtype=np.int64)
        where[U.dofs] = np.arange(U.ndofs)
        self.to_ext = where[np.concatenate([conds.free, conds.fixed])]
        self.key = (D, id(bc))

    def step_operator(self, c, h):
        """``c M + h (D K + Robin)`` on the free dofs (the union record when ``D > 0``)."""
        if self.A is not None:
            return union_operator(self.U, self.conds, self.D, c / h, scale=h)
        full = union_matrix(self.U, self.conds, kappa=0.0, sigma=c / h)
        return (h * full[: self.n, : self.n]).tocsr()

    def right_hand_side(self, z, c, h, t):
        """``M z + h F(t) - (c M + h A) G(t)`` on the free dofs (``z`` on the union's dofs)."""
        b = (self.M_ext @ z[self.to_ext])[: self.n]
        load, lift = self.data.at(t)
        b = b + h * load
        if lift is not None:
            b = b - (c * (self.M_fd @ lift) + h * (self.A_fd @ lift))
        return b

    def extend(self, w, t):
        """The union's dofs from the free values ``w`` and the Dirichlet data at ``t``."""
        _, lift = self.data.at(t)
        u_ext = np.zeros(self.U.ndofs)
        u_ext[: self.n] = w
        if lift is not None:
            u_ext[self.n :] = lift
        u = np.empty(self.U.ndofs)
        u[self.to_ext] = u_ext
        return u

    def with_boundary(self, u, t):
        """``u`` with its Dirichlet dofs set to the data at ``t``."""
        return self.extend(u[self.to_ext][: self.n], t)


def _initial_values(U, u, name):
    if callable(u) or is_number(u):
        return np.array(U.interpolate(u), dtype=float)
    a = np.asarray(u, dtype=float)
    if a.shape == tuple(U.shape):
        return U.from_full(a)
    return as_vector(a.reshape(-1), name, U.ndofs).copy()


def union_reaction_diffusion(
    U,
    initial,
    diffusion,
    bcs,
    reaction,
    react_mode,
    steps,
    h,
    t_end,
    scheme,
    snapshots,
    method,
    progress,
    several,
):
    """:func:`femkron.reaction_diffusion` on a union of boxes (arguments already checked).

    The reaction takes (and returns) the species' values at the union's dofs — arrays of
    shape ``(U.ndofs,)`` — and, by ``react_mode``, the coordinates ``U.points()`` and the
    time.  Every species' step ``c M + dt D A`` is one union solve (exact fdm per box, CG on
    the interfaces), set up once per species and scheme stage.  The snapshots are on the
    bounding grid with NaN outside the union.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4, order=1)
    >>> rd = fk.reaction_diffusion(L, 0.1, 1.0, lambda u: u * (1 - u), t_end=1.0, dt=0.01)
    >>> exact = 0.1 * np.e / (1 - 0.1 + 0.1 * np.e)     # the logistic solution at t = 1
    >>> rd.info.method, bool(np.nanmax(np.abs(rd.values[-1] - exact)) < 1e-4)
    ('schur', True)
    """
    from .reaction import ReactionDiffusionSolution, _reaction_values

    check_choice(method, "method", UNION_RD_METHODS)
    S = len(initial)
    species = [_UnionSpecies(U, diffusion[i], bcs[i]) for i in range(S)]
    coords = U.points()
    state = []
    for i, (sp_i, u) in enumerate(zip(species, initial)):
        name = f"u0[{i}]" if several else "u0"
        state.append(sp_i.with_boundary(_initial_values(U, u, name), 0.0))
    t_start = time.perf_counter()

    def make(sp_i, L):
        if sp_i.A is None and method in ("auto", "schur"):
            return make_solver(L, "direct")  # no diffusion: a mass matrix, no boxes to glue
        return make_solver(L, method)

    solvers = _StepSolvers(species, h, make)

    def react(V, t, n):
        args = list(V)
        if react_mode >= 1:
            args += list(coords)
        if react_mode == 2:
            args.append(t)
        try:
            out = reaction(*args)
        except Exception as err:
            if isinstance(err, FemkronValueError):
                raise
            raise FemkronValueError(
                f"reaction failed at step {n} (t = {t:.6g}): {type(err).__name__}: {err}",
                reason="failed",
            ) from err
        return _reaction_values(out, S, (U.ndofs,), n, t, several)

    times, values, info, operators = _imex_run(
        state, species, solvers, react, U.to_full, scheme=scheme, steps=steps, h=h,
        t_end=t_end, snapshots=snapshots, progress=progress, several=several,
        where=" on a union of boxes", t_start=t_start,
    )  # fmt: skip
    return ReactionDiffusionSolution(U, times, values, info, steps, h, scheme, diffusion, operators)
