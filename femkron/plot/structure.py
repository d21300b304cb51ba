"""Discretisation structure: meshes and their dofs, basis functions, sparsity patterns.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=2)
>>> ax = plot_mesh(V)
>>> ax.get_title()
'mesh: 2 × 2 cells, Q2'
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import as_int
from ..errors import FemkronTypeError, FemkronValueError, ResourceError
from ..fem.tensor import as_tensor_space
from ._style import _LABEL, _TICK, _TITLE, _aspect, _new_axes, _style
from .fields import sample_points

__all__ = ["plot_mesh", "plot_basis", "plot_spy"]

#: Most stored entries :func:`plot_spy` draws (one marker each).
SPY_MAX_NNZ = 2_000_000


def plot_mesh(mesh, ax=None, fig=None, show_dofs=None, title=None, color="0.25"):
    """Draw a tensor mesh: cell boundaries and, for a space, its dofs.

    Parameters
    ----------
    mesh : Mesh1D, TensorMesh, Space1D or TensorSpace
    show_dofs : bool, optional
        Mark the dofs (default: when a space is given, unless it has more than 5000 dofs).

    Returns
    -------
    Axes (3D axes for a 3D mesh)

    Examples
    --------
    >>> import femkron as fk
    >>> m = fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 4), fk.Mesh1D.graded(0, 1, 6, ratio=1.3)])
    >>> ax = plot_mesh(m)
    >>> ax.get_title()
    'mesh: 4 × 6 cells'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from ..fem.mesh import Mesh1D, TensorMesh
    from ..fem.space import Space1D
    from ..fem.tensor import TensorSpace

    V = None
    if isinstance(mesh, (Space1D, TensorSpace)):
        V = as_tensor_space(mesh)
        mesh = V.mesh
    elif isinstance(mesh, Mesh1D):
        mesh = TensorMesh([mesh])
    if not isinstance(mesh, TensorMesh):
        raise FemkronTypeError(
            f"mesh must be a Mesh1D, TensorMesh, Space1D or TensorSpace, got {type(mesh).__name__}"
        )
    if show_dofs is None:
        show_dofs = V is not None and V.ndofs <= 5000
    if show_dofs and V is None:
        raise FemkronValueError("show_dofs needs a space (Space1D or TensorSpace), not a mesh")
    if title is None:
        title = f"mesh: {' × '.join(map(str, mesh.shape))} cells"
        if V is not None:
            title += f", Q{''.join(sorted(set(str(p) for p in V.orders)))}"
    nodes = [m.nodes for m in mesh.meshes]
    if mesh.dim == 1:
        ax = _new_axes(ax, fig, figsize=(6.4, 1.9))
        x = nodes[0]
        ax.plot([x[0], x[-1]], [0, 0], color=color, lw=1)
        ax.plot(x, np.zeros_like(x), "|", color=color, ms=18, mew=1.5, label="vertices")
        if show_dofs:
            ax.plot(V.coords[0], np.zeros(V.shape[0]), "o", color="C1", ms=4, label="dofs")
            ax.legend(loc="upper center", ncol=2, fontsize=_TICK, frameon=False)
        ax.set_yticks([])
        ax.set_ylim(-1, 1)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        _style(ax, "x", None, title)
        return ax
    if mesh.dim == 2:
        ax = _new_axes(ax, fig)
        x, y = nodes
        ax.vlines(x, y[0], y[-1], color=color, lw=0.8)
        ax.hlines(y, x[0], x[-1], color=color, lw=0.8)
        if show_dofs:
            GX, GY = V.grid()
            ax.plot(GX.ravel(), GY.ravel(), ".", color="C1", ms=3)
        _style(ax, "x", "y", title)
        _aspect(ax, mesh.bounds)
        return ax
    if mesh.dim == 3:
        ax = _new_axes(ax, fig, projection="3d", figsize=(6.0, 5.2))
        x, y, z = nodes
        kw = {"color": color, "lw": 0.6}
        # grid lines on the three faces x = a, y = b, z = a (the back of the default view)
        for yy in y:
            ax.plot([x[0]] * 2, [yy] * 2, [z[0], z[-1]], **kw)
            ax.plot([x[0], x[-1]], [yy] * 2, [z[0]] * 2, **kw)
        for zz in z:
            ax.plot([x[0]] * 2, [y[0], y[-1]], [zz] * 2, **kw)
            ax.plot([x[0], x[-1]], [y[-1]] * 2, [zz] * 2, **kw)
        for xx in x:
            ax.plot([xx] * 2, [y[-1]] * 2, [z[0], z[-1]], **kw)
            ax.plot([xx] * 2, [y[0], y[-1]], [z[0]] * 2, **kw)
        if show_dofs:
            GX, GY, GZ = V.grid()
            ax.scatter(GX.ravel(), GY.ravel(), GZ.ravel(), s=2, color="C1")
        _style(ax, "x", "y", title)
        ax.set_zlabel("z", fontsize=_LABEL)
        return ax
    raise FemkronValueError(f"plot_mesh draws 1 to 3 axes, got {mesh.dim}")


def plot_basis(element, ax=None, fig=None, derivative=False, title=None, legend=None):
    """Draw the basis functions of a 1D element or of a whole 1D space.

    Parameters
    ----------
    element : Lagrange or Space1D
        A reference element (drawn on [-1, 1], nodes marked) or a space (its global,
        piecewise-polynomial basis functions on the mesh).
    derivative : bool
        Draw the first derivatives instead.
    legend : bool, optional
        Default: when there are at most 10 functions.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import femkron as fk
    >>> ax = plot_basis(fk.Lagrange(3))
    >>> ax.get_title()
    'Lagrange basis, order 3 (gll nodes)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from ..fem.elements import Lagrange
    from ..fem.space import Space1D

    ax = _new_axes(ax, fig, figsize=(6.6, 4.0))
    what = "derivatives of the " if derivative else ""
    if isinstance(element, Lagrange):
        xi = np.linspace(-1.0, 1.0, 401)
        vals = element.derivatives(xi) if derivative else element.values(xi)
        for j in range(vals.shape[1]):
            ax.plot(xi, vals[:, j], lw=1.6, label=f"φ{_sub(j)}")
        if not derivative:
            ax.plot(element.nodes, np.ones_like(element.nodes), "ko", ms=4)
        ax.plot(element.nodes, np.zeros_like(element.nodes), "k|", ms=10)
        n = vals.shape[1]
        xlabel = "ξ (reference interval)"
        if title is None:
            title = f"{what}Lagrange basis, order {element.order} ({element.family} nodes)"
    elif isinstance(element, Space1D):
        x = sample_points(element, per_cell=max(24, 4 * element.order + 1))
        E = element.eval_matrix(x, derivative=1 if derivative else 0).toarray()
        for j in range(E.shape[1]):
            ax.plot(x, E[:, j], lw=1.4, label=f"φ{_sub(j)}")
        ax.plot(element.mesh.nodes, np.zeros(element.mesh.cells + 1), "k|", ms=12)
        n = E.shape[1]
        xlabel = "x"
        if title is None:
            title = (
                f"{what}basis of the space: order {element.order}, {element.mesh.cells} "
                f"cells, {element.ndofs} dofs"
            )
    else:
        raise FemkronTypeError(
            f"element must be a Lagrange element or a Space1D, got {type(element).__name__}"
        )
    ax.axhline(0.0, color="0.6", lw=0.6)
    _style(ax, xlabel, "φ′" if derivative else "φ", title)
    ax.grid(alpha=0.3)
    if legend is None:
        legend = n <= 10
    if legend:
        ax.legend(fontsize=_TICK, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def _sub(j):
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(j))


# ---- operators --------------------------------------------------------------------------
def plot_spy(op, ax=None, fig=None, blocks=True, markersize=None, title=None):
    """Sparsity pattern of an operator, with its Kronecker block structure drawn.

    For a :class:`~femkron.KronOperator` on a grid of shape ``(n0, n1, ...)`` the matrix is an
    ``n0 × n0`` array of blocks of size ``n1·n2·…`` (the first factor picks the block, the
    other factors fill it); the block boundaries are drawn as thin lines.

    Parameters
    ----------
    op : KronOperator, scipy sparse matrix or 2D array
    blocks : bool or int
        Draw block lines (a KronOperator's own block size), or an explicit block size.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    >>> ax = plot_spy(fk.stiffness(V))
    >>> ax.get_title()
    '16 × 16, 100 nonzeros, 2 Kronecker terms'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from ..kron.operator import KronOperator

    block = None
    terms = None
    if isinstance(op, KronOperator):
        if op.nnz_bound() > SPY_MAX_NNZ:
            raise ResourceError(
                f"op has about {op.nnz_bound()} stored entries, more than a spy plot can draw "
                f"(SPY_MAX_NNZ = {SPY_MAX_NNZ}); plot the same operator on a coarser space, "
                "whose block pattern is the same"
            )
        A = op.tocsr()
        terms = len(op.terms)
        if op.naxes > 1:
            block = int(np.prod(op.out_shape[1:]))
    elif sp.issparse(op):
        A = sp.csr_matrix(op)
    elif isinstance(op, np.ndarray) and op.ndim == 2:
        A = sp.csr_matrix(op)
    else:
        raise FemkronTypeError(
            f"op must be a KronOperator, a sparse matrix or a 2D array, got {type(op).__name__}"
        )
    if not isinstance(blocks, bool):
        block = as_int(blocks, "blocks", minimum=1)
    A = A.copy()
    A.eliminate_zeros()
    ax = _new_axes(ax, fig, figsize=(5.2, 5.0))
    if markersize is None:
        markersize = float(np.clip(200.0 / max(A.shape), 0.3, 6.0))
    ax.spy(A, markersize=markersize, color="C0")
    if blocks and block and block < max(A.shape):
        edges = np.arange(block, A.shape[0], block) - 0.5
        ax.hlines(edges, -0.5, A.shape[1] - 0.5, color="C3", lw=0.6, alpha=0.7)
        ax.vlines(edges, -0.5, A.shape[0] - 0.5, color="C3", lw=0.6, alpha=0.7)
    if title is None:
        title = f"{A.shape[0]} × {A.shape[1]}, {A.nnz} nonzeros"
        if terms is not None:
            title += f", {terms} Kronecker term{'s' if terms != 1 else ''}"
    ax.set_title(title, fontsize=_TITLE, pad=24)
    ax.set_xlabel("column", fontsize=_LABEL)
    ax.set_ylabel("row", fontsize=_LABEL)
    ax.tick_params(labelsize=_TICK)
    return ax
