"""Results of the problems: :class:`Solution` and :class:`HeatSolution`.

A :class:`Solution` is one finite element function on a tensor space, a
:class:`HeatSolution` holds the snapshots of a time-dependent run.

Both hold values at the dofs on the grid of the space (axis 0 = x) and the
:class:`~femkron.SolveInfo` of the solve; a :class:`Solution` measures its error against an
exact solution, evaluates itself anywhere in the box, plots itself and writes VTK files.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
>>> sol = Solution(V, V.interpolate(lambda x, y: x * y))
>>> sol.values.shape, float(sol(np.array([0.5]), np.array([0.5]))[0, 0])
((9, 9), 0.25)
>>> bool(sol.error(lambda x, y: x * y, "max") < 1e-14)
True
"""

from __future__ import annotations

import numpy as np

from ..fem.norms import error as _error

__all__ = ["Solution", "HeatSolution"]


class Solution:
    """A finite element function on a :class:`TensorSpace`, the result of a solve.

    Attributes
    ----------
    V : TensorSpace
    values : ndarray, shape ``V.shape``
        Values at the dofs (axis 0 = x).
    info : SolveInfo
    problem : str
        ``"poisson"``, ``"helmholtz"``, ``"advection-diffusion"``, ``"heat"``, ...
    coefficient : dict
        How a coefficient was represented: ``path`` (``"lowrank"``, ``"matfree"`` or
        ``"assembled"``), for the low-rank path the expansion ``rank`` and ``error``, and the
        ``preconditioner`` of an fdm-preconditioned Krylov solve (empty when not reported).
    peclet : float or None
        The largest cell Péclet number ``|b| h / (2 ε p)`` of an advection–diffusion problem.
    conditions : BoundaryConditions, list of str or None
        The boundary conditions of the problem when it reports them (as lines of text in a
        solution read back by :func:`femkron.load_solution`).
    """

    def __init__(
        self,
        V,
        values,
        info=None,
        problem="poisson",
        coefficient=None,
        peclet=None,
        conditions=None,
    ):
        self.V = V
        self.values = np.asarray(values, dtype=float).reshape(V.shape)
        self.info = info
        self.problem = problem
        self.coefficient = dict(coefficient) if coefficient else {}
        self.peclet = peclet
        self.conditions = conditions

    def __repr__(self):
        return f"<Solution of {self.problem} on {self.V.shape} dofs ({self.info})>"

    @property
    def vector(self):
        """The values as a flat dof vector."""
        return self.values.reshape(-1)

    def error(self, exact, norm="L2", grad=None, quad=None):
        """Error against ``exact`` in ``"L2"``, ``"H1"`` or ``"max"``; see :func:`femkron.error`.

        ``"H1"`` is the seminorm and needs ``grad``; ``"max"`` is taken at the dofs.
        """
        return _error(self.V, self.values, exact, norm=norm, grad=grad, quad=quad)

    def __call__(self, *points):
        """Evaluate on the tensor grid of 1D point arrays, one per axis."""
        return self.V.evaluate(self.values, points)

    def plot(self, **kwargs):
        """Plot with :func:`femkron.plot.plot_solution` (matplotlib is imported here)."""
        from .. import plot

        return plot.plot_solution(self, **kwargs)

    def to_vtk(self, path, name="u"):
        """Write a ``.vtu`` file through meshio (extra ``femkron[io]``)."""
        from .. import io

        return io.write_vtk(path, self.V, {name: self.values})

    def to_xarray(self, name="u"):
        """The solution as an ``xarray.Dataset`` (extra ``femkron[io]``).

        Values on the dof grid with its coordinates, the mesh nodes, and attributes (problem,
        orders, node families, coordinates, solver info, version); see
        :func:`femkron.io.solution_to_xarray`.
        """
        from .. import io

        return io.solution_to_xarray(self, name=name)

    def save(self, path, name="u"):
        """Write a netCDF file atomically (extra ``femkron[io]``).

        Read it back with :func:`femkron.load_solution`, bit for bit.
        """
        from .. import io

        return io.save_solution(self, path, name=name)


class HeatSolution:
    """Snapshots of a heat-equation run.

    Attributes
    ----------
    V : TensorSpace
    t : ndarray
        Snapshot times.
    values : ndarray, shape ``(len(t),) + V.shape``
    info : SolveInfo
        Of the step solver: ``iterations`` the Krylov iterations of all steps (0 for a
        direct or fdm solve), ``residual`` the true relative residual of the last step.
    steps : int
        Time steps taken (0 for the modal integrator, which takes none).
    dt : float or None
        The step used, ``t_end / steps`` (it may be shorter than the ``dt`` asked for, see
        :func:`femkron.heat`); for the modal integrator the spacing unit of the times.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=1)
    >>> ht = fk.heat(V, 1.0, t_end=0.1, dt=0.03, snapshots=3, method="direct")
    >>> ht.steps, ht.dt, ht.t
    (4, 0.025, array([0.  , 0.05, 0.1 ]))
    >>> str(ht).split(",")[:2]
    ['direct: 4 steps of dt=0.025', ' 0 iterations']
    """

    def __init__(self, V, t, values, info, steps, dt=None):
        self.V = V
        self.t = np.asarray(t)
        self.values = np.asarray(values)
        self.info = info
        self.steps = steps
        self.dt = dt

    def __repr__(self):
        step = "" if self.dt is None else f" of dt={self.dt:.6g}"
        method = "" if self.info is None else f" ({self.info.method})"
        return (
            f"<HeatSolution {len(self.t)} snapshots, t_end={self.t[-1]:g}, "
            f"{self.steps} steps{step}{method}>"
        )

    def __str__(self):
        """What the run did, in the style of :class:`~femkron.SolveInfo`, counting steps."""
        step = "" if self.dt is None else f" of dt={self.dt:.6g}"
        if self.info is None:
            return f"{self.steps} steps{step}"
        info = self.info
        if info.method == "modal":
            return (
                f"modal: exact in time, {len(self.t)} snapshots, {self.steps} steps, "
                f"{info.seconds:.3g} s"
            )
        return (
            f"{info.method}: {self.steps} steps{step}, {info.iterations} iterations, "
            f"relative residual {info.residual:.2e} (last step), {info.seconds:.3g} s"
        )

    def snapshot(self, i):
        """Snapshot ``i`` as a :class:`Solution`."""
        return Solution(self.V, self.values[i], self.info, problem="heat")

    def to_xarray(self, name="u"):
        """The snapshots as an ``xarray.Dataset`` with a time dimension ``t``.

        Needs the extra ``femkron[io]``; see :func:`femkron.io.solution_to_xarray`.
        """
        from .. import io

        return io.solution_to_xarray(self, name=name)

    def save(self, path, name="u"):
        """Write the snapshots as a netCDF file atomically (extra ``femkron[io]``).

        Read it back with :func:`femkron.load_solution`, bit for bit.
        """
        from .. import io

        return io.save_solution(self, path, name=name)

    def animate(self, path, fps=10, **kwargs):
        """Write the snapshots as an animation (``.gif`` by Pillow; ``.mp4`` with ffmpeg).

        See :func:`femkron.plot.animate`; returns the path written.
        """
        from .. import plot

        return plot.animate(self, path, fps=fps, **kwargs)
