"""Figures with matplotlib: solutions, meshes, basis functions, sparsity, convergence,
"""

from ._all import (  # noqa: F401
    plot_basis,
    plot_benchmark,
    plot_convergence,
    plot_function,
    plot_heat,
    plot_mesh,
    plot_modes,
    plot_solution,
    plot_spy,
    sample_points,
)

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
    "sample_points",
]
