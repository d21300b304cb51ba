"""Reaction–diffusion systems ``∂u_i/∂t = D_i Δu_i + R_i(u)`` by implicit–explicit steps.

Diffusion is implicit, the reaction explicit (IMEX): every step of every species is one solve
with that species' step operator ``c M + dt D_i A``, set up once (fast diagonalization for a
box with constant ``D_i``), while the reaction — any nonlinear function of the nodal values —
only needs evaluating.  The reaction enters as ``M r`` with ``r`` the nodal values of
``R(u)`` (the interpolant of the reaction: a group finite element).

Schemes (Ascher, Ruuth & Wetton 1995):

* ``"imex-euler"`` (order 1):
  ``(M + dt A) uⁿ⁺¹ = M (uⁿ + dt rⁿ)``;
* ``"sbdf2"`` (order 2), the second-order semi-implicit BDF:
  ``(3/2 M + dt A) uⁿ⁺¹ = M (2uⁿ - ½uⁿ⁻¹ + dt (2rⁿ - rⁿ⁻¹))``,
  started by one IMEX-Euler step.  That starter's local error is ``O(dt²)``; SBDF2 is
  zero-stable, so an ``O(dt²)`` error in ``u¹`` stays ``O(dt²)`` at every later time and the
  global order remains 2 (measured in the tests).

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=1)
>>> rd = reaction_diffusion(V, 0.1, 1.0, lambda u: u * (1 - u), t_end=1.0, dt=0.01)
>>> exact = 0.1 * np.e / (1 - 0.1 + 0.1 * np.e)     # the logistic solution at t = 1
>>> bool(abs(rd.values[-1] - exact).max() < 1e-4)
True
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import (
    as_int,
    as_real,
    as_vector,
    callable_name,
    check_choice,
    check_vectors,
    is_number,
)
from ..errors import FemkronError, FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions, Condition, Neumann
from ..fem.tensor import as_tensor_space, mass, stiffness
from ..linalg.solve import LOCAL_METHODS, make_solver
from ._imex import _imex_run, _StepSolvers
from .solution import HeatSolution, Solution
from .timedata import conditions_at, conditions_take_time, positional_count
from .timestepping import MAX_STEPS, _number_of_steps
from .union_dynamics import UNION_RD_METHODS, union_reaction_diffusion
from .union_problems import BoxUnion

__all__ = ["reaction_diffusion", "ReactionDiffusionSolution", "RD_SCHEMES"]

#: Time integrators of :func:`reaction_diffusion`.
RD_SCHEMES = ("sbdf2", "imex-euler")


class ReactionDiffusionSolution:
    """Snapshots of a reaction–diffusion run.

    Attributes
    ----------
    V : TensorSpace
    t : ndarray
        Snapshot times (equally spaced, including 0 and ``t_end``).
    values : ndarray
        Shape ``(len(t), species) + V.shape``; for one species ``(len(t),) + V.shape``.
    species : int
        Number of species.
    diffusion : tuple of float
        The diffusion coefficient of each species.
    scheme : str
        ``"sbdf2"`` or ``"imex-euler"``.
    steps : int
        Time steps taken.
    dt : float
        The step used, ``t_end / steps`` (never larger than the ``dt`` asked for).
    info : SolveInfo
        The step solves: ``method`` of the step solver, ``iterations`` summed over all steps
        and species (0 for fdm or direct), ``residual`` the largest true relative residual
        of the last step's solves, ``setup_seconds`` the set-up of all step operators,
        ``seconds`` the whole run.
    operators : int or None
        Step operators set up (one per species and scheme stage; species with the same
        coefficient and conditions share theirs); None for a result read back from a file.
    problem : str
        ``"reaction-diffusion"`` (the title of plots and the ``problem`` of saved files).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    >>> rd = fk.reaction_diffusion(V, (1.0, 0.0), (1.0, 0.5), lambda a, b: (-a * b, a * b),
    ...                            t_end=0.1, dt=0.01, snapshots=3)
    >>> rd.values.shape, rd.species, rd.steps
    ((3, 2, 5, 5), 2, 10)
    >>> rd.component(1).values.shape
    (3, 5, 5)
    """

    def __init__(self, V, t, values, info, steps, dt, scheme, diffusion, operators):
        self.V = V
        self.t = np.asarray(t)
        self.values = np.asarray(values)
        self.species = len(diffusion)
        self.diffusion = tuple(diffusion)
        self.scheme = scheme
        self.steps = steps
        self.dt = dt
        self.info = info
        self.operators = operators
        self.problem = "reaction-diffusion"

    def __repr__(self):
        return (
            f"<ReactionDiffusionSolution {self.species} species, {len(self.t)} snapshots, "
            f"t_end={self.t[-1]:g}, {self.steps} {self.scheme} steps of dt={self.dt:.6g}>"
        )

    def __str__(self):
        info = self.info
        if info is None:
            return f"{self.scheme}: {self.steps} steps of dt={self.dt:.6g}, {self.species} species"
        operators = ""
        if self.operators is not None:
            operators = f", {self.operators} step operators set up once"
        return (
            f"{self.scheme}/{info.method}: {self.steps} steps of dt={self.dt:.6g}, "
            f"{self.species} species{operators}, "
            f"relative residual {info.residual:.2e} (last step), {info.seconds:.3g} s"
        )

    def _species_index(self, species):
        i = as_int(species, "species")
        if not -self.species <= i < self.species:
            raise FemkronValueError(
                f"species must be in [0, {self.species}) (or negative from the end), got {i}"
            )
        return i % self.species

    def component(self, species=0):
        """The snapshots of one species as a :class:`HeatSolution` (time × grid)."""
        i = self._species_index(species)
        values = self.values[:, i] if self.values.ndim == 2 + self.V.dim else self.values
        return HeatSolution(self.V, self.t, values, self.info, self.steps, dt=self.dt)

    def snapshot(self, k=-1, species=0):
        """Snapshot ``k`` (default: the last) of one species as a :class:`Solution`."""
        k = as_int(k, "k")
        if not -len(self.t) <= k < len(self.t):
            raise FemkronValueError(f"k must index one of {len(self.t)} snapshots, got {k}")
        frame = self.component(species).values[k]
        return Solution(self.V, frame, self.info, problem="reaction-diffusion")

    def plot(self, species=0, **kwargs):
        """Plot the last state of one species (see :func:`femkron.plot.plot_function`)."""
        i = self._species_index(species)
        if "title" not in kwargs:
            name = f"species {i}" if self.species > 1 else "u"
            kwargs["title"] = f"reaction–diffusion, {name} at t = {self.t[-1]:g}"
        return self.snapshot(-1, i).plot(**kwargs)

    def to_xarray(self, name="u"):
        """The snapshots as an ``xarray.Dataset`` with dims ``(t, [species,] axes)``.

        Needs the extra ``femkron[io]``; see :func:`femkron.io.solution_to_xarray`.  One
        species has no ``species`` dimension.
        """
        from .. import io

        return io.solution_to_xarray(self, name=name)

    def save(self, path, name="u"):
        """Write the snapshots as a netCDF file atomically (extra ``femkron[io]``).

        Read it back with :func:`femkron.load_solution`, bit for bit (the step operators
        are not stored: ``operators`` of the result read back is None).
        """
        from .. import io

        return io.save_solution(self, path, name=name)

    def animate(self, path, species=0, fps=10, **kwargs):
        """Write the snapshots of one species as an animation (``.gif``; ``.mp4`` with ffmpeg).

        See :func:`femkron.plot.animate`; returns the path written.
        """
        i = self._species_index(species)
        if "label" not in kwargs and self.species > 1:
            kwargs["label"] = f"species {i}"
        from .. import plot

        return plot.animate(self, path, fps=fps, species=i, **kwargs)


def reaction_diffusion(
    V,
    u0,
    diffusion,
    reaction,
    t_end,
    dt,
    scheme="sbdf2",
    bc=None,
    snapshots=11,
    method="auto",
    progress=None,
):
    """Solve ``∂u_i/∂t = D_i Δu_i + R_i(u)`` for one or several species ``u_i``.

    Diffusion is taken implicitly, the reaction explicitly (see
    :mod:`femkron.problems.reaction` for the schemes).  Each species' step operator
    ``c M + dt D_i A`` (``c = 1`` for IMEX Euler, ``3/2`` for SBDF2, whose first step is one
    IMEX-Euler step) is set up once through :func:`femkron.make_solver` — fast
    diagonalization on a box — so one step costs one fast solve and one mass product per
    species, plus the reaction.

    Parameters
    ----------
    V : TensorSpace or BoxUnion
        On a union of boxes every species' step is one union solve (see
        :func:`femkron.problems.union_dynamics.union_reaction_diffusion`): the reaction then
        takes and returns arrays of the values at the union's dofs, shape ``(V.ndofs,)``.
    u0 : number, callable, array or tuple of them
        The initial value; a tuple (or list) gives one per species.  An array has shape
        ``V.shape`` (or ``V.ndofs``).  Dirichlet dofs take the boundary data at ``t = 0``.
    diffusion : number or sequence of numbers >= 0
        ``D_i``; one number is every species'.
    reaction : callable
        ``R(u1, …, uS)`` of the species' nodal values (arrays of shape ``V.shape``), and
        optionally of the coordinates and the time: ``R(u1, …, uS, x, y)`` or
        ``R(u1, …, uS, x, y, t)`` (decided by the number of required arguments; a last
        argument named ``t`` with a default also counts).  It returns one array of shape
        ``V.shape`` (or a number) per species — a tuple for several species.
    t_end, dt : float
        Final time and largest step.  The step used is ``t_end / n`` with ``n`` the smallest
        multiple of ``snapshots - 1`` whose step does not exceed ``dt``.
    scheme : {"sbdf2", "imex-euler"}
    bc : dict, Condition, None or a sequence of them (one per species)
        Boundary conditions as for :func:`femkron.poisson` (Neumann: ``D ∂u/∂n = g``); data
        may take the time last.  ``None`` means **zero flux** (homogeneous Neumann on every
        face), a closed reactor — unlike the stationary problems, where ``None`` is
        homogeneous Dirichlet.
    snapshots : int
        Number of equally spaced snapshot times, including 0 and ``t_end``.
    method : {"auto", "fdm", "direct", "amg", "cg"}
        The step solver (see :func:`femkron.make_solver`).
    progress : bool, optional
        A tqdm progress bar over the steps (``None``: only on a terminal).

    Returns
    -------
    ReactionDiffusionSolution
        ``.t`` and ``.values`` (time × species × grid; no species axis for one species).

    Raises
    ------
    FemkronValueError
        A bad argument; a reaction that returns the wrong number of arrays or the wrong
        shape (``reason="shape"``), or values that are not finite (``reason="not-finite"``,
        naming the step and the time where the run blew up).
    FemkronTypeError
        A reaction that is not callable or takes the wrong number of arguments.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    >>> u0 = lambda x, y: np.cos(np.pi * x) * np.cos(np.pi * y)
    >>> rd = fk.reaction_diffusion(V, u0, 0.01, lambda u: u - u**3, t_end=1.0, dt=0.05)
    >>> rd.values.shape, rd.info.method
    ((11, 9, 9), 'fdm')
    """
    union = isinstance(V, BoxUnion)
    V = V if union else as_tensor_space(V)
    t_end = as_real(t_end, "t_end", nonnegative=True)
    dt = as_real(dt, "dt", positive=True)
    check_choice(scheme, "scheme", RD_SCHEMES)
    check_choice(method, "method", UNION_RD_METHODS if union else LOCAL_METHODS)
    snapshots = as_int(snapshots, "snapshots", minimum=2)
    several = isinstance(u0, (tuple, list))
    initial = list(u0) if several else [u0]
    S = len(initial)
    if S == 0:
        raise FemkronValueError("u0 must give at least one species, got an empty sequence")
    D = _diffusion(diffusion, S)
    bcs_given = _species_conditions(bc, S)
    mode = _reaction_mode(reaction, S, V.dim)
    if t_end / dt > MAX_STEPS or _number_of_steps(t_end, dt, snapshots) > MAX_STEPS:
        raise FemkronValueError(
            f"dt={dt:g} needs more than {MAX_STEPS} steps to reach t_end={t_end:g}; use a "
            "larger dt or fewer snapshots"
        )
    steps = _number_of_steps(t_end, dt, snapshots)
    h = t_end / steps if steps else dt
    check_vectors(V.ndofs, S * (snapshots + 8), f"{snapshots} snapshots of {S} species")
    if union:  # every species' step one union solve (exact fdm per box, CG on interfaces)
        return union_reaction_diffusion(
            V, initial, D, bcs_given, reaction, mode, steps, h, t_end, scheme, snapshots,
            method, progress, several,
        )  # fmt: skip

    t_start = time.perf_counter()
    K, M = stiffness(V), mass(V)
    coords = V.grid(sparse=True)
    species = [_Species(V, K, M, D[i], bcs_given[i]) for i in range(S)]
    U = []
    for i, (sp_i, u) in enumerate(zip(species, initial)):
        name = f"u0[{i}]" if several else "u0"
        if callable(u) or is_number(u):
            Ui = np.array(V.interpolate(u), dtype=float).reshape(-1)
        else:
            Ui = as_vector(np.asarray(u, dtype=float).reshape(-1), name, V.ndofs).copy()
        U.append(sp_i.with_boundary(Ui, 0.0))
    solvers = _StepSolvers(species, h, lambda sp_i, L: make_solver(L, method, check=False))

    def react(U, t, n):
        args = [u.reshape(V.shape) for u in U]
        if mode >= 1:
            args += list(coords)
        if mode == 2:
            args.append(t)
        try:
            out = reaction(*args)
        except FemkronError:
            raise
        except Exception as err:
            raise FemkronValueError(
                f"reaction ({callable_name(reaction)}) failed at step {n} (t = {t:.6g}): "
                f"{type(err).__name__}: {err}",
                reason="failed",
            ) from err
        return _reaction_values(out, S, V.shape, n, t, several)

    times, values, info, operators = _imex_run(
        U, species, solvers, react, lambda u: u.reshape(V.shape), scheme=scheme, steps=steps,
        h=h, t_end=t_end, snapshots=snapshots, progress=progress, several=several, where="",
        t_start=t_start,
    )  # fmt: skip
    return ReactionDiffusionSolution(V, times, values, info, steps, h, scheme, D, operators)


class _Species:
    """One species: its conditions, step operators and right-hand sides on the free dofs."""

    def __init__(self, V, K, M, D, bc):
        self.V, self.M, self.D, self.bc = V, M, D, bc
        self.moving = conditions_take_time(bc, V.dim)
        self.bcs = BoundaryConditions(V, conditions_at(bc, 0.0, V.dim))
        A = K if D == 1.0 else D * K
        robin = self.bcs.robin_operator()
        self.A_full = A if robin is None else A + robin
        self.A = self.bcs.constrain(self.A_full)
        self.Mc = self.bcs.constrain(M)
        self.plain = all(P.shape[0] == P.shape[1] for P in self.bcs.P)  # nothing constrained
        self.key = (D, id(bc))
        self._data = {}

    def step_operator(self, c, h):
        return c * self.Mc + h * self.A

    def _data_at(self, t):
        """``(face load, lifting)`` at ``t`` (full size or None), cached when constant."""
        if not self.moving:
            if None not in self._data:
                self._data[None] = (self.bcs.boundary_load(), self.bcs.boundary_values())
            return self._data[None]
        bcs = BoundaryConditions(self.V, conditions_at(self.bc, t, self.V.dim))
        return bcs.boundary_load(), bcs.boundary_values()

    def right_hand_side(self, z, c, h, t):
        """``(⊗P)ᵀ (M z + h F(t) - (c M + h A) G(t))`` on the free dofs."""
        b = self.M @ z
        load, lift = self._data_at(t)
        if load is not None:
            b = b + h * load
        if lift is not None:
            b = b - (c * (self.M @ lift) + h * (self.A_full @ lift))
        return b if self.plain else self.bcs.restrict(b)

    def extend(self, w, t):
        if self.plain:
            return w
        return self.bcs.extend(w, self._data_at(t)[1])

    def with_boundary(self, u, t):
        """``u`` with its Dirichlet dofs set to the data at ``t`` (periodic ends made equal)."""
        lift = self._data_at(t)[1]
        if self.plain and lift is None:
            return u
        return self.bcs.extend(_free_values(self.bcs, u), lift)


def _free_values(bcs, u):
    U = np.asarray(u).reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)


def _diffusion(diffusion, S):
    if isinstance(diffusion, (tuple, list, np.ndarray)):
        values = list(np.asarray(diffusion, dtype=object).reshape(-1))
        if len(values) != S:
            raise FemkronValueError(
                f"diffusion must be one number or {S} numbers (one per species), got "
                f"{len(values)}: {diffusion!r}"
            )
    else:
        values = [diffusion] * S
    out = []
    for i, d in enumerate(values):
        d = as_real(d, f"diffusion[{i}]" if S > 1 else "diffusion", nonnegative=True)
        out.append(d)
    return tuple(out)


def _species_conditions(bc, S):
    if bc is None:
        return [Neumann(0.0)] * S
    if isinstance(bc, (dict, Condition)):
        return [bc] * S
    if isinstance(bc, (tuple, list)):
        if len(bc) != S:
            raise FemkronValueError(f"bc given per species must have {S} entries, got {len(bc)}")
        return [Neumann(0.0) if b is None else b for b in bc]
    raise FemkronTypeError(
        f"bc must be a dict {{face: condition}}, a condition, None, or one of them per "
        f"species, got {type(bc).__name__}"
    )


def _reaction_mode(reaction, S, dim):
    """0: ``R(u…)``; 1: ``R(u…, x, y)``; 2: ``R(u…, x, y, t)`` — from the signature."""
    if not callable(reaction):
        raise FemkronTypeError(f"reaction must be a callable R(u1, ..., uS), got {reaction!r}")
    forms = (
        f"R({', '.join(f'u{i + 1}' for i in range(S))}), "
        f"R(..., {', '.join('xyz'[:dim]) if dim <= 3 else 'coordinates'}) or R(..., t) with "
        "the coordinates before t"
    )
    counted = positional_count(reaction)
    if counted is None:
        return 0
    required, accepted, names, varargs = counted
    if required == S + dim + 1 or (accepted >= S + dim + 1 and names[S + dim] == "t"):
        return 2
    if required == S + dim:
        return 1
    if required <= S and (accepted >= S or varargs):
        return 0
    raise FemkronTypeError(
        f"reaction ({callable_name(reaction)}) takes {required} required argument(s) for "
        f"{S} species in {dim}D; accepted: {forms}"
    )


def _reaction_values(out, S, shape, n, t, several):
    """The reaction's output as ``S`` flat finite arrays; errors name the step and time."""
    where = f"at step {n} (t = {t:.6g})"
    if S == 1 and not isinstance(out, (tuple, list)):
        out = [out]
    if not isinstance(out, (tuple, list)) or len(out) != S:
        got = f"{len(out)} values" if isinstance(out, (tuple, list)) else type(out).__name__
        raise FemkronValueError(
            f"reaction must return {S} arrays (one per species), got {got} {where}",
            reason="shape",
        )
    values = []
    for i, r in enumerate(out):
        r = np.asarray(r, dtype=float) if not np.iscomplexobj(r) else r
        name = f"reaction[{i}]" if several else "reaction"
        if np.iscomplexobj(r):
            raise FemkronValueError(f"{name} returned complex values {where}", reason="not-finite")
        if r.ndim == 0:
            r = np.full(shape, float(r))
        elif r.shape != tuple(shape) and r.shape != (int(np.prod(shape)),):
            raise FemkronValueError(
                f"{name} returned shape {r.shape} {where}; expected {tuple(shape)} (the "
                "grid of the space) or a number",
                reason="shape",
            )
        bad = ~np.isfinite(r)
        if bad.any():
            raise FemkronValueError(
                f"{name} is not finite {where} at {int(bad.sum())} of {r.size} dofs: the run "
                "blew up (a smaller dt, or a bounded reaction, may help)",
                reason="not-finite",
            )
        values.append(r.reshape(-1))
    return values
