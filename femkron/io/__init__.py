"""Files: mesh descriptions in TOML, VTK export through meshio, results as netCDF.

Mesh files are in :mod:`~femkron.io.meshfile`, VTK export in :mod:`~femkron.io.vtk`,
results as data (xarray, netCDF) in :mod:`~femkron.io.netcdf`.
"""

from .meshfile import MeshFileError, load_mesh, mesh_text, read_mesh_text, save_mesh
from .netcdf import load_solution, save_solution, solution_to_xarray
from .vtk import MissingDependencyError, vtk_cells, write_vtk

__all__ = [
    "load_mesh",
    "save_mesh",
    "read_mesh_text",
    "mesh_text",
    "write_vtk",
    "solution_to_xarray",
    "save_solution",
    "load_solution",
    "vtk_cells",
    "MeshFileError",
    "MissingDependencyError",
]
