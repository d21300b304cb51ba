"""Files: mesh descriptions in TOML and VTK export through meshio.

Mesh files are in :mod:`~femkron.io.meshfile`, VTK export in :mod:`~femkron.io.vtk`.
"""

from .meshfile import MeshFileError, load_mesh, mesh_text, read_mesh_text, save_mesh
from .vtk import MissingDependencyError, vtk_cells, write_vtk

__all__ = [
    "load_mesh",
    "save_mesh",
    "read_mesh_text",
    "mesh_text",
    "write_vtk",
    "vtk_cells",
    "MeshFileError",
    "MissingDependencyError",
]
