"""Figures with matplotlib: solutions, meshes, bases, sparsity, convergence, modes, heat, timings.

matplotlib is imported inside the functions only, so ``import femkron`` stays light.  Every
function draws into the axes it is given (``ax=``), or into a new axes of ``fig=``, or into a
new figure, and returns what it drew into: one ``Axes``, or a numpy array of ``Axes`` for
figures of several panels.  None calls ``show()``; save with ``ax.figure.savefig(...)``.

The functions live in modules of one subject each: :mod:`~femkron.plot.fields` (finite element
functions and solutions), :mod:`~femkron.plot.structure` (meshes, basis functions, sparsity),
:mod:`~femkron.plot.convergence` (convergence and benchmark studies) and
:mod:`~femkron.plot.modes` (eigenmodes and heat snapshots).

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> sol = fk.poisson(V, 1.0)
>>> ax = fk.plot.plot_solution(sol)
>>> ax.get_xlabel(), ax.get_ylabel()
('x', 'y')
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from .animation import animate
from .branch import plot_branch
from .convergence import plot_benchmark, plot_convergence
from .curvilinear3d import plot_curvilinear_slices
from .fields import plot_function, plot_solution, sample_points
from .modes import plot_heat, plot_modes
from .structure import plot_basis, plot_mesh, plot_spy
from .union import plot_union

__all__ = [
    "plot_solution",
    "plot_function",
    "plot_mesh",
    "plot_basis",
    "plot_spy",
    "plot_convergence",
    "plot_modes",
    "plot_heat",
    "plot_benchmark",
    "plot_branch",
    "sample_points",
    "plot_union",
    "plot_curvilinear_slices",
    "animate",
]
