"""Figures with matplotlib: solutions, meshes, basis functions, sparsity, convergence,
eigenmodes, heat snapshots and benchmarks.

matplotlib is imported inside the functions only, so ``import femkron`` stays light.  Every
function draws into the axes it is given (``ax=``), or into a new axes of ``fig=``, or into a
new figure, and returns what it drew into: one ``Axes``, or a numpy array of ``Axes`` for
figures of several panels.  None calls ``show()``; save with ``ax.figure.savefig(...)``.

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

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import as_int, check_choice
from ..errors import FemkronTypeError, FemkronValueError, ResourceError
from ..fem.tensor import as_tensor_space

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

_AXES = ("x", "y", "z")
#: Most stored entries :func:`plot_spy` draws (one marker each).
SPY_MAX_NNZ = 2_000_000
_TITLE = 12
_LABEL = 11
_TICK = 10


# ---- axes, sampling and colorbars ---------------------------------------------------------
def _plt():
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax=None, fig=None, projection=None, figsize=(5.6, 4.4)):
    """The axes to draw into: ``ax``, a new subplot of ``fig``, or a new figure."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise FemkronTypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax
    kw = {} if projection is None else {"projection": projection}
    if fig is None:
        fig = _plt().figure(figsize=figsize, layout="constrained")
    elif not hasattr(fig, "add_subplot"):
        raise FemkronTypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    return fig.add_subplot(**kw)


def _panel_axes(n, ax=None, fig=None, ncols=3, panel=(3.4, 3.0), sharex=False, sharey=False):
    """``n`` axes: the given sequence ``ax``, or a grid in ``fig`` / a new figure."""
    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if axes.size < n:
            raise FemkronValueError(f"ax must hold at least {n} axes, got {axes.size}")
        return axes[:n]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = _plt().figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    elif not hasattr(fig, "subplots"):
        raise FemkronTypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    grid = np.atleast_1d(fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False))
    grid = grid.ravel()
    for extra in grid[n:]:
        extra.remove()
    return grid[:n]


def _style(ax, xlabel=None, ylabel=None, title=None):
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=_LABEL)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=_LABEL)
    if title:
        ax.set_title(title, fontsize=_TITLE)
    ax.tick_params(labelsize=_TICK)


def _aspect(ax, bounds):
    (a0, b0), (a1, b1) = bounds
    ratio = (b1 - a1) / (b0 - a0)
    if 0.25 <= ratio <= 4.0:
        ax.set_aspect("equal")


def sample_points(space, per_cell=None, max_points=600):
    """Points of one axis for plotting: ``per_cell`` equally spaced points in every cell
    (default ``2p + 1``, and more on coarse meshes so that about 120 points show the curve),
    at most about ``max_points``.

    Examples
    --------
    >>> import femkron as fk
    >>> s = fk.Space1D(fk.Mesh1D.uniform(0, 1, 2), order=1)
    >>> sample_points(s, per_cell=3)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    m = space.mesh
    if per_cell is None:
        per_cell = max(2 * space.order + 1, -(-120 // m.cells) + 1)
    per_cell = as_int(per_cell, "per_cell", minimum=2)
    if m.cells >= max_points:  # more cells than a figure can show: sample the interval
        return np.linspace(m.a, m.b, max_points)
    per_cell = max(2, min(per_cell, max_points // m.cells + 1))
    t = np.linspace(0.0, 1.0, per_cell)[:-1]
    x = (m.nodes[:-1, None] + m.h[:, None] * t[None, :]).ravel()
    return np.append(x, m.b)


def _values(V, u):
    u = np.asarray(u, dtype=float)
    if u.size != V.ndofs:
        raise FemkronValueError(
            f"u must have {V.ndofs} values (shape {V.shape}), got shape {u.shape}"
        )
    if not np.all(np.isfinite(u)):
        raise FemkronValueError("u contains NaN or inf")
    return u.reshape(V.shape)


def _sampled(V, U, per_cell=None):
    pts = [sample_points(s, per_cell) for s in V.spaces]
    return pts, V.evaluate(U, pts)


def _draw_2d(ax, X, Y, Z, kind, cmap, levels, vmin=None, vmax=None):
    if kind == "pcolormesh":
        return ax.pcolormesh(X, Y, Z, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)
    if vmin is not None and vmax is not None:
        lo, hi = vmin, vmax
    else:
        lo, hi = float(Z.min()), float(Z.max())
    if hi - lo <= 1e-14 * max(1.0, abs(hi)):
        hi = lo + max(1e-12, 1e-6 * abs(lo) or 1.0)
    lev = np.linspace(lo, hi, levels + 1)
    return ax.contourf(X, Y, Z, levels=lev, cmap=cmap, extend="neither")


def _colorbar(ax, mappable, label, axes=None):
    fig = ax.figure
    cb = fig.colorbar(mappable, ax=axes if axes is not None else ax, shrink=0.9)
    from matplotlib import ticker

    cb.set_label(label, fontsize=_LABEL)
    cb.locator = ticker.MaxNLocator(nbins=6)
    cb.update_ticks()
    cb.ax.tick_params(labelsize=_TICK)
    return cb


# ---- solutions --------------------------------------------------------------------------
def plot_function(
    V,
    u,
    ax=None,
    fig=None,
    kind="contourf",
    label="u",
    title=None,
    cmap="viridis",
    levels=20,
    per_cell=None,
    colorbar=True,
    show_dofs=None,
    slices=None,
):
    """Plot the finite element function with dof values ``u`` on ``V``.

    1D: a line (evaluated between the dofs, so high-order elements show their curvature).
    2D: ``kind="contourf"`` (filled contours), ``"pcolormesh"`` or ``"surface"`` (3D surface),
    with a labelled colorbar.  3D: three orthogonal slices through ``slices`` (default the
    centre of the box) with a shared colour scale.

    Parameters
    ----------
    V : TensorSpace or Space1D
    u : array_like, shape ``V.shape`` or ``(V.ndofs,)``
    ax, fig : matplotlib Axes / Figure, optional
        Where to draw (3D: a sequence of three axes).
    kind : {"contourf", "pcolormesh", "surface"}
    label : str
        Name of the quantity (y axis in 1D, colorbar otherwise).
    per_cell : int, optional
        Evaluation points per cell and axis (default ``2p + 1``).
    show_dofs : bool, optional
        Mark the dofs (default: 1D only).

    Returns
    -------
    Axes, or an array of three Axes in 3D.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=3)
    >>> ax = plot_function(V, V.interpolate(lambda x: np.sin(3 * x)))
    >>> len(ax.lines)            # the function and its dofs
    2
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    V = as_tensor_space(V)
    U = _values(V, u)
    check_choice(kind, "kind", ("contourf", "pcolormesh", "surface"))
    levels = as_int(levels, "levels", minimum=2)
    orders = "".join(sorted(set(str(p) for p in V.orders)))
    if title is None:
        title = f"{label}: Q{orders}, {' × '.join(map(str, V.shape))} dofs"
    if V.dim == 1:
        ax = _new_axes(ax, fig, figsize=(5.6, 3.8))
        (x,), Z = _sampled(V, U, per_cell)
        ax.plot(x, Z, color="C0", lw=1.8, label=label)
        if show_dofs is None or show_dofs:
            ax.plot(V.coords[0], U, "o", color="C1", ms=3.5, label="dofs")
        _style(ax, "x", label, title)
        ax.grid(alpha=0.3)
        return ax
    if V.dim == 2:
        (x, y), Z = _sampled(V, U, per_cell)
        X, Y = np.meshgrid(x, y, indexing="ij")
        if kind == "surface":
            ax = _new_axes(ax, fig, projection="3d", figsize=(6.2, 5.0))
            surf = ax.plot_surface(X, Y, Z, cmap=cmap, linewidth=0, antialiased=True)
            _style(ax, "x", "y", title)
            ax.set_zlabel(label, fontsize=_LABEL)
            if colorbar:
                _colorbar(ax, surf, label)
            return ax
        ax = _new_axes(ax, fig)
        art = _draw_2d(ax, X, Y, Z, kind, cmap, levels)
        if show_dofs:
            GX, GY = V.grid()
            ax.plot(GX.ravel(), GY.ravel(), ".", color="k", ms=2)
        _style(ax, "x", "y", title)
        _aspect(ax, V.bounds)
        if colorbar:
            _colorbar(ax, art, label)
        return ax
    if V.dim == 3:
        return _slices3d(V, U, ax, fig, label, title, cmap, levels, per_cell, kind, slices)
    raise FemkronValueError(f"plots need 1 to 3 axes, got V.dim = {V.dim}")


def _slices3d(V, U, ax, fig, label, title, cmap, levels, per_cell, kind, slices):
    if kind == "surface":
        raise FemkronValueError("kind='surface' is for 2D functions; 3D draws slices")
    bounds = V.bounds
    if slices is None:
        slices = [0.5 * (a + b) for a, b in bounds]
    if len(slices) != 3:
        raise FemkronValueError(f"slices must give 3 coordinates (x, y, z), got {slices!r}")
    for d, (s, (a, b)) in enumerate(zip(slices, bounds)):
        if not a <= float(s) <= b:
            raise FemkronValueError(
                f"slices[{d}] = {s} lies outside the box interval [{a}, {b}] of axis {_AXES[d]}"
            )
    pts = [sample_points(s, per_cell, max_points=200) for s in V.spaces]
    panels = []
    for d in range(3):
        others = [e for e in range(3) if e != d]
        grid = list(pts)
        grid[d] = np.array([float(slices[d])])
        Z = V.evaluate(U, grid).squeeze(axis=d)
        X, Y = np.meshgrid(pts[others[0]], pts[others[1]], indexing="ij")
        panels.append((d, others, X, Y, Z))
    vmin = min(float(p[4].min()) for p in panels)
    vmax = max(float(p[4].max()) for p in panels)
    axes = _panel_axes(3, ax, fig, ncols=3, panel=(3.6, 3.3))
    art = None
    for a, (d, others, X, Y, Z) in zip(axes, panels):
        art = _draw_2d(a, X, Y, Z, kind, cmap, levels, vmin, vmax)
        _style(
            a,
            _AXES[others[0]],
            _AXES[others[1]],
            f"{_AXES[d]} = {float(slices[d]):.3g}",
        )
        _aspect(a, (bounds[others[0]], bounds[others[1]]))
    if art is not None and kind == "pcolormesh":
        for a in axes:
            for m in a.collections:
                m.set_clim(vmin, vmax)
    _colorbar(axes[0], art, label, axes=list(axes))
    axes[0].figure.suptitle(title, fontsize=_TITLE)
    return axes


def plot_solution(sol, ax=None, fig=None, **kwargs):
    """Plot a :class:`~femkron.Solution` (see :func:`plot_function` for the options).

    ``sol.plot(...)`` is the same.  The default title names the problem and the space.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 2), (0, 1)], cells=(8, 4), order=2)
    >>> sol = fk.poisson(V, 1.0)
    >>> ax = sol.plot(kind="pcolormesh", label="temperature")
    >>> ax.get_title()
    'poisson solution: Q2, 17 × 9 dofs'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if not hasattr(sol, "V") or not hasattr(sol, "values"):
        raise FemkronTypeError(
            f"sol must be a femkron Solution (with .V and .values), got {type(sol).__name__}"
        )
    if getattr(sol, "values", None) is not None and np.ndim(sol.values) != sol.V.dim:
        raise FemkronTypeError(
            "sol has several snapshots (a HeatSolution); use plot_heat, or sol.snapshot(i)"
        )
    if "title" not in kwargs:
        orders = "".join(sorted(set(str(p) for p in sol.V.orders)))
        shape = " × ".join(map(str, sol.V.shape))
        kwargs["title"] = f"{getattr(sol, 'problem', 'finite element')} solution: Q{orders}, "
        kwargs["title"] += f"{shape} dofs"
    return plot_function(sol.V, sol.values, ax=ax, fig=fig, **kwargs)


# ---- meshes and basis functions ---------------------------------------------------------
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


# ---- studies ----------------------------------------------------------------------------
def _series(errors, labels):
    if isinstance(errors, dict):
        return [(str(k), np.asarray(v, dtype=float)) for k, v in errors.items()]
    arr = np.asarray(errors, dtype=float)
    if arr.ndim == 1:
        return [(labels[0] if labels else "error", arr)]
    if arr.ndim == 2:
        names = labels or [f"error {i + 1}" for i in range(arr.shape[0])]
        if len(names) != arr.shape[0]:
            raise FemkronValueError(f"labels must give {arr.shape[0]} names, got {len(names)}")
        return list(zip(names, arr))
    raise FemkronValueError("errors must be a 1D array, a 2D array (one row per series) or a dict")


def plot_convergence(
    h,
    errors,
    ax=None,
    fig=None,
    labels=None,
    fit_last=None,
    xlabel="h (cell size)",
    ylabel="error",
    title="convergence",
):
    """Log–log plot of errors against the cell size with the fitted slopes annotated.

    Each series gets a dashed least-squares line through its points (or its last
    ``fit_last`` points) and its slope, measured by :func:`femkron.convergence_rate`, in the
    legend.

    Parameters
    ----------
    h : array_like
        Cell sizes (or any refinement parameter).
    errors : array_like or dict
        One series, a 2D array (one row per series), or ``{label: errors}``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([0.25, 0.125, 0.0625])
    >>> ax = plot_convergence(h, {"L2": 0.3 * h**3, "H1": 2 * h**2})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['L2: slope 3.00', 'H1: slope 2.00']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from ..fem.norms import convergence_rate

    h = np.asarray(h, dtype=float)
    if h.ndim != 1 or h.size < 2:
        raise FemkronValueError(f"h must be a 1D array of at least 2 sizes, got shape {h.shape}")
    ax = _new_axes(ax, fig)
    for i, (name, e) in enumerate(_series(errors, labels)):
        if e.shape != h.shape:
            raise FemkronValueError(
                f"errors {name!r} has {e.size} values but h has {h.size}; give one per h"
            )
        k = h.size if fit_last is None else as_int(fit_last, "fit_last", minimum=2)
        hs, es = h[-k:], e[-k:]
        slope = convergence_rate(hs, es)
        c = np.polyfit(np.log(hs), np.log(es), 1)
        color = f"C{i % 10}"
        ax.loglog(h, e, "o-", color=color, lw=1.6, ms=5, label=f"{name}: slope {slope:.2f}")
        ax.loglog(hs, np.exp(np.polyval(c, np.log(hs))), "--", color=color, lw=1.0, alpha=0.7)
    from matplotlib import ticker

    if h.size <= 8:  # label the cell sizes themselves instead of sparse decades
        ax.set_xticks(h)
        ax.xaxis.set_major_formatter(ticker.FixedFormatter([f"{v:.3g}" for v in h]))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=_TICK, loc="best")
    _style(ax, xlabel, ylabel, title)
    return ax


def plot_modes(V, w, v, ax=None, fig=None, ncols=3, exact=None, cmap="RdBu_r", levels=20):
    """A grid of eigenmodes, each titled with its eigenvalue (and the exact one if given).

    Parameters
    ----------
    V : TensorSpace (1D or 2D; 3D modes are drawn on the slice ``z = centre``)
    w : array_like, shape ``(k,)``
        Eigenvalues.
    v : array_like, shape ``(V.ndofs, k)``
        Eigenvectors (columns), as returned by :func:`femkron.eigen`.
    exact : array_like, optional
        Exact eigenvalues to show next to the computed ones.

    Returns
    -------
    array of Axes

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=8, order=4)
    >>> w, v = fk.eigen(V, k=4)
    >>> axes = plot_modes(V, w, v, ncols=2)
    >>> axes[0].get_title()
    'mode 1: λ = 2.0000'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    V = as_tensor_space(V)
    w = np.asarray(w, dtype=float).ravel()
    v = np.asarray(v, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape != (V.ndofs, w.size):
        raise FemkronValueError(
            f"v must have shape (V.ndofs, len(w)) = {(V.ndofs, w.size)}, got {v.shape}"
        )
    if exact is not None:
        exact = np.asarray(exact, dtype=float).ravel()
        if exact.size < w.size:
            raise FemkronValueError(f"exact must give {w.size} eigenvalues, got {exact.size}")
    axes = _panel_axes(w.size, ax, fig, ncols=ncols, panel=(3.2, 3.0))
    for j, a in enumerate(axes):
        U = v[:, j].reshape(V.shape)
        scale = np.max(np.abs(U)) or 1.0
        t = f"mode {j + 1}: λ = {w[j]:.4f}"
        if exact is not None:
            t += f"\nexact {exact[j]:.4f}"
        if V.dim == 1:
            (x,), Z = _sampled(V, U / scale)
            a.plot(x, Z, lw=1.6)
            a.axhline(0, color="0.6", lw=0.6)
            _style(a, "x", None, t)
            continue
        if V.dim == 2:
            (x, y), Z = _sampled(V, U / scale)
        elif V.dim == 3:
            pts = [sample_points(s, max_points=120) for s in V.spaces]
            z0 = 0.5 * sum(V.bounds[2])
            Z = V.evaluate(U / scale, [pts[0], pts[1], np.array([z0])])[:, :, 0]
            x, y = pts[0], pts[1]
            t += f" (z = {z0:.3g})"
        else:
            raise FemkronValueError(f"plot_modes draws 1 to 3 axes, got V.dim = {V.dim}")
        X, Y = np.meshgrid(x, y, indexing="ij")
        a.contourf(X, Y, Z, levels=np.linspace(-1, 1, levels + 1), cmap=cmap)
        _style(a, "x", "y", t)
        _aspect(a, V.bounds[:2])
    return axes


def plot_heat(ht, ax=None, fig=None, snapshots=None, cmap="inferno", label="u", levels=20):
    """Snapshots of a :class:`~femkron.HeatSolution`.

    1D: one axes, a curve per snapshot coloured by time.  2D: a grid of panels with one
    shared colour scale and colorbar (3D: the slice ``z = centre``).

    Parameters
    ----------
    snapshots : sequence of int, optional
        Which snapshots (default: up to six, evenly spaced, first and last included).

    Returns
    -------
    Axes (1D) or array of Axes

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=8, order=2)
    >>> ht = fk.heat(V, lambda x: np.sin(np.pi * x), t_end=0.1, dt=0.01, snapshots=5)
    >>> ax = plot_heat(ht)
    >>> len(ax.lines)
    5
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if not hasattr(ht, "t") or not hasattr(ht, "values") or not hasattr(ht, "V"):
        raise FemkronTypeError(f"ht must be a HeatSolution, got {type(ht).__name__}")
    V = ht.V
    n = len(ht.t)
    if snapshots is None:
        snapshots = np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
    snapshots = [int(i) for i in snapshots]
    for i in snapshots:
        if not -n <= i < n:
            raise FemkronValueError(f"snapshots: index {i} out of range for {n} snapshots")
    if V.dim == 1:
        ax = _new_axes(ax, fig, figsize=(6.8, 4.0))
        cm = _plt().get_cmap("viridis")
        for k, i in enumerate(snapshots):
            (x,), Z = _sampled(V, ht.values[i])
            color = cm(k / max(1, len(snapshots) - 1))
            ax.plot(x, Z, color=color, lw=1.6, label=f"t = {ht.t[i]:.3g}")
        ax.legend(fontsize=_TICK, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.grid(alpha=0.3)
        _style(ax, "x", label, f"heat equation: {ht.steps} steps")
        return ax
    frames = []
    for i in snapshots:
        if V.dim == 2:
            (x, y), Z = _sampled(V, ht.values[i])
        elif V.dim == 3:
            pts = [sample_points(s, max_points=120) for s in V.spaces]
            z0 = 0.5 * sum(V.bounds[2])
            Z = V.evaluate(ht.values[i], [pts[0], pts[1], np.array([z0])])[:, :, 0]
            x, y = pts[0], pts[1]
        else:
            raise FemkronValueError(f"plot_heat draws 1 to 3 axes, got V.dim = {V.dim}")
        frames.append((i, x, y, Z))
    vmin = min(float(f[3].min()) for f in frames)
    vmax = max(float(f[3].max()) for f in frames)
    axes = _panel_axes(len(frames), ax, fig, ncols=3, panel=(3.3, 3.0))
    art = None
    for a, (i, x, y, Z) in zip(axes, frames):
        X, Y = np.meshgrid(x, y, indexing="ij")
        art = _draw_2d(a, X, Y, Z, "contourf", cmap, levels, vmin, vmax)
        _style(a, "x", "y", f"t = {ht.t[i]:.3g}")
        _aspect(a, V.bounds[:2])
    _colorbar(axes[0], art, label, axes=list(axes))
    return axes


def plot_benchmark(results, ax=None, fig=None, x="dofs", y="seconds", by="method", title=None):
    """Time against problem size, one line per method, on log–log axes.

    Parameters
    ----------
    results : list of dict or dict
        Rows such as ``{"method": "fdm", "dofs": 4225, "seconds": 0.01}``, or
        ``{method: (dofs, seconds)}``.
    x, y, by : str
        Keys of the rows for the horizontal axis, the vertical axis and the series.

    Returns
    -------
    Axes

    Examples
    --------
    >>> rows = [{"method": m, "dofs": n, "seconds": c * n * 1e-7}
    ...         for m, c in (("fdm", 1), ("amg", 5)) for n in (1e3, 1e4, 1e5)]
    >>> ax = plot_benchmark(rows)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['fdm', 'amg', '∝ N (reference)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    series = {}
    if isinstance(results, dict):
        for name, pair in results.items():
            try:
                xs, ys = pair
            except (TypeError, ValueError):
                raise FemkronValueError(
                    f"results[{name!r}] must be a pair (sizes, times), got {pair!r}"
                ) from None
            series[str(name)] = (np.asarray(xs, float), np.asarray(ys, float))
    else:
        try:
            rows = list(results)
        except TypeError:
            raise FemkronTypeError("results must be a list of dicts or a dict") from None
        for r, row in enumerate(rows):
            if not isinstance(row, dict) or any(k not in row for k in (x, y)):
                raise FemkronValueError(f"results[{r}] must be a dict with keys {x!r} and {y!r}")
            name = str(row.get(by, "time"))
            xs, ys = series.setdefault(name, ([], []))
            xs.append(float(row[x]))
            ys.append(float(row[y]))
        series = {k: (np.asarray(a), np.asarray(b)) for k, (a, b) in series.items()}
    if not series:
        raise FemkronValueError("results holds no measurements")
    ax = _new_axes(ax, fig)
    xmin, xmax, ymid = np.inf, 0.0, []
    for i, (name, (xs, ys)) in enumerate(series.items()):
        order = np.argsort(xs)
        ax.loglog(xs[order], ys[order], "o-", color=f"C{i % 10}", lw=1.6, ms=5, label=name)
        xmin, xmax = min(xmin, xs.min()), max(xmax, xs.max())
        ymid.append(np.exp(np.mean(np.log(ys[ys > 0]))) if np.any(ys > 0) else 1.0)
    if xmax > xmin:
        xr = np.array([xmin, xmax])
        y0 = min(ymid)
        xm = np.sqrt(xmin * xmax)
        ax.loglog(xr, y0 * xr / xm, ":", color="0.4", lw=1.2, label="∝ N (reference)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=_TICK, loc="best")
    _style(
        ax,
        "degrees of freedom" if x == "dofs" else x,
        "time [s]" if y == "seconds" else y,
        title or "benchmark",
    )
    return ax
