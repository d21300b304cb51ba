"""Results of the problems: :class:`Solution` (one finite element function on a tensor space)
and :class:`HeatSolution` (snapshots of a time-dependent run).

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
    """

    def __init__(self, V, values, info=None, problem="poisson", coefficient=None, peclet=None):
        self.V = V
        self.values = np.asarray(values, dtype=float).reshape(V.shape)
        self.info = info
        self.problem = problem
        self.coefficient = dict(coefficient) if coefficient else {}
        self.peclet = peclet

    def __repr__(self):
        return f"<Solution of {self.problem} on {self.V.shape} dofs ({self.info})>"

    @property
    def vector(self):
        """The values as a flat dof vector."""
        return self.values.reshape(-1)

    def error(self, exact, norm="L2", grad=None, quad=None):
        """Error against ``exact`` in ``"L2"``, ``"H1"`` (seminorm, needs ``grad``) or
        ``"max"`` (at the dofs); see :func:`femkron.error`.
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


class HeatSolution:
    """Snapshots of a heat-equation run.

    Attributes
    ----------
    t : ndarray
        Snapshot times.
    values : ndarray, shape ``(len(t),) + V.shape``
    info : SolveInfo of the step solver (from the first step)
    """

    def __init__(self, V, t, values, info, steps):
        self.V = V
        self.t = np.asarray(t)
        self.values = np.asarray(values)
        self.info = info
        self.steps = steps

    def __repr__(self):
        return f"<HeatSolution {len(self.t)} snapshots, t_end={self.t[-1]:g}, {self.steps} steps>"

    def snapshot(self, i):
        """Snapshot ``i`` as a :class:`Solution`."""
        return Solution(self.V, self.values[i], self.info, problem="heat")
