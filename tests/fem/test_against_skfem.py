"""femkron against scikit-fem on the same discrete problems (another code, its own element
tables, quadrature, assembly and dof numbering).

Both codes discretise by continuous Q1/Q2 Lagrange elements on the same non-uniform tensor
mesh: scikit-fem's ``ElementQuad2`` is the 9-node biquadratic element whose nodes are the
vertices, edge midpoints and centre of each cell, which are femkron's GLL nodes for ``p = 2``.
The dofs are matched by coordinates computed here from the mesh nodes (not read from femkron),
so a mirrored axis, swapped axes or a Fortran-order grid would show up as a mismatch; the
meshes are non-uniform with different nodes per axis precisely so that such errors change the
matrices.

Quadrature: femkron uses ``q`` Gauss points per cell and axis (``p + 1`` for coefficients,
``p + 1`` for loads); scikit-fem's ``intorder = 2q - 1`` selects the tensor Gauss rule with the
same ``q`` points (``ceil((intorder + 1) / 2)`` per axis), so the discrete problems are
identical even for a non-polynomial coefficient, and both codes may differ only by rounding.

Error model of the matrix tolerances: an entry is a sum over at most ``2**d`` cells of
``q**d`` quadrature terms, each exact to a few ulps, so two correct codes differ by at most
``ROUND * eps * max|A| * terms`` with ``terms = (2 q)**d`` (``ROUND = 4``: a few ulps per term).
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import femkron as fk

skfem = pytest.importorskip("skfem")
from skfem.helpers import dot, grad  # noqa: E402

EPS = np.finfo(float).eps
ROUND = 4.0  # ulps per quadrature term (products and sums of O(1) factors)

# Non-uniform nodes, different per axis (a mirrored or swapped axis changes the matrices).
NODES = [
    np.array([0.0, 0.13, 0.4, 0.55, 1.0]),
    np.array([0.0, 0.3, 0.7, 1.2, 1.45, 2.0]),
    np.array([0.0, 0.25, 0.35, 1.0]),
]
ELEMENTS = {
    (2, 1): skfem.ElementQuad1,
    (2, 2): skfem.ElementQuad2,
    (3, 1): skfem.ElementHex1,
}
CASES = [(2, 1), (2, 2), (3, 1)]
IDS = ["Q1-2d", "Q2-2d", "Q1-3d"]


# ---- the two discretisations and the dof map -------------------------------------------
def dof_nodes(nodes, p):
    """1D dof coordinates of continuous Q_p with nodes at the vertices and (p = 2) midpoints."""
    if p == 1:
        return nodes
    out = np.empty(2 * nodes.size - 1)
    out[0::2] = nodes
    out[1::2] = 0.5 * (nodes[:-1] + nodes[1:])
    return out


def femkron_space(dim, p, nodes=NODES):
    return fk.TensorSpace([fk.Space1D(fk.Mesh1D(n), order=p) for n in nodes[:dim]])


def skfem_basis(dim, p, nodes=NODES, intorder=None):
    mesh_type = skfem.MeshQuad if dim == 2 else skfem.MeshHex
    mesh = mesh_type.init_tensor(*nodes[:dim])
    return skfem.Basis(mesh, ELEMENTS[(dim, p)](), intorder=intorder)


def femkron_order(doflocs, axes, mirror=False):
    """``perm`` with ``perm[i_femkron] = i_skfem``: each scikit-fem dof is located on the
    per-axis dof grids ``axes`` (C order, last axis fastest) by its coordinates.

    ``mirror=True`` reverses axis 0: the deliberately wrong map of the negative controls.
    """
    index = []
    for d, xs in enumerate(axes):
        dist = np.abs(doflocs[d][:, None] - xs[None, :])
        i = dist.argmin(axis=1)
        assert dist.min(axis=1).max() < 1e-12, "a scikit-fem dof is not on the tensor grid"
        index.append(xs.size - 1 - i if (mirror and d == 0) else i)
    flat = np.ravel_multi_index(index, tuple(xs.size for xs in axes))
    assert np.array_equal(np.sort(flat), np.arange(flat.size)), "dof map is not a bijection"
    perm = np.empty_like(flat)
    perm[flat] = np.arange(flat.size)
    return perm


def reorder(A, perm):
    """scikit-fem matrix or vector in femkron's dof order."""
    if np.ndim(A) == 1:
        return np.asarray(A)[perm]
    return A.tocsr()[perm][:, perm].toarray()


def dense(A):
    return A.toarray() if hasattr(A, "toarray") else np.asarray(A)


def matrix_tol(A, dim, q):
    """Rounding bound ``ROUND * eps * max|A| * (2 q)**dim`` (see the module docstring)."""
    return ROUND * EPS * np.abs(A).max() * (2 * q) ** dim


def tensor_case(dim, p):
    V = femkron_space(dim, p)
    axes = [dof_nodes(n, p) for n in NODES[:dim]]
    for xs, s in zip(axes, V.spaces):  # femkron's grid is the one this test computed
        assert np.allclose(s.x, xs, rtol=0, atol=1e-14)
    return V, axes


# ---- forms (scikit-fem side) ------------------------------------------------------------
def kappa_poly(*x):
    return 1.0 + x[0] * x[1] ** 2


def kappa_exp(*x):
    return np.exp(x[0] - 0.5 * x[1] ** 2)


@skfem.BilinearForm
def laplace(u, v, w):
    return dot(grad(u), grad(v))


@skfem.BilinearForm
def mass(u, v, w):
    return u * v


def weighted_laplace(kappa):
    @skfem.BilinearForm
    def form(u, v, w):
        return kappa(*w.x) * dot(grad(u), grad(v))

    return form


def weighted_mass(sigma):
    @skfem.BilinearForm
    def form(u, v, w):
        return sigma(*w.x) * u * v

    return form


# ---- constant-coefficient stiffness and mass --------------------------------------------
@pytest.mark.parametrize("dim, p", CASES, ids=IDS)
def test_stiffness_and_mass(dim, p):
    """fk.stiffness / fk.mass (Kronecker sums of 1D matrices) = scikit-fem's matrices."""
    V, axes = tensor_case(dim, p)
    basis = skfem_basis(dim, p)  # default rule: exact for these polynomial integrands
    perm = femkron_order(basis.doflocs, axes)
    q = p + 1  # Gauss points per axis that integrate every entry exactly (femkron's rule)
    for ours, form in ((fk.stiffness(V), laplace), (fk.mass(V), mass)):
        ref = form.assemble(basis)
        A, B = dense(ours.tocsr()), reorder(ref, perm)
        tol = matrix_tol(B, dim, q)
        assert np.abs(A - B).max() <= tol
        # negative control: a mirrored x axis misplaces the dofs of the non-uniform mesh
        wrong = reorder(ref, femkron_order(basis.doflocs, axes, mirror=True))
        assert np.abs(A - wrong).max() > 1e6 * tol


# ---- variable coefficients: element-by-element assembly ---------------------------------
@pytest.mark.parametrize("kappa", [kappa_poly, kappa_exp], ids=["1+xy2", "exp"])
@pytest.mark.parametrize("dim, p", CASES, ids=IDS)
def test_variable_coefficient_assembly(dim, p, kappa):
    """fk.assemble with κ (and σ) = scikit-fem with the same Gauss rule.

    Neither κ = 1 + x y² nor κ = exp(x - y²/2) is integrated exactly by femkron's default
    rule (p + 1 points per axis, exact to degree 2p + 1), so they only match because both
    codes put the same Gauss points in each cell (another rule, e.g. p + 3 points, changes
    entries by ~1e-6 relative on these meshes: 1e6 × the tolerance).
    """
    V, axes = tensor_case(dim, p)
    q = p + 1  # femkron's default for coefficients
    basis = skfem_basis(dim, p, intorder=2 * q - 1)  # the same q-point Gauss rule
    perm = femkron_order(basis.doflocs, axes)
    sigma = lambda *x: 2.0 + x[0] ** 2 * x[1]  # noqa: E731
    A = dense(fk.assemble(V, kappa=kappa, sigma=sigma))
    K_ref = weighted_laplace(kappa).assemble(basis)
    B = reorder(K_ref + weighted_mass(sigma).assemble(basis), perm)
    tol = matrix_tol(B, dim, q)
    assert np.abs(A - B).max() <= tol
    # negative control: κ frozen to its value at the origin (a coefficient ignored)
    B1 = reorder(laplace.assemble(basis) + weighted_mass(sigma).assemble(basis), perm)
    assert np.abs(A - B1).max() > 1e6 * tol


# ---- Robin: boundary mass and load on one face -----------------------------------------
ROBIN_FACE = {2: ("right", 0, 1.0), 3: ("back", 2, 1.0)}  # face name, axis, coordinate


def robin_g(*x):
    return 1.0 + x[0] * x[1] ** 2 + np.cos(x[-1])


@pytest.mark.parametrize("dim, p", CASES, ids=IDS)
def test_robin_terms(dim, p):
    """The Robin term α ∫_face u v and load ∫_face g v = scikit-fem's FacetBasis forms, and
    fk.assemble with Dirichlet + Robin = scikit-fem's matrix restricted to the free dofs.
    """
    alpha = 2.5
    face, axis, where = ROBIN_FACE[dim]
    V, axes = tensor_case(dim, p)
    q = p + 1  # femkron's default for coefficients
    basis = skfem_basis(dim, p, intorder=2 * q - 1)
    perm = femkron_order(basis.doflocs, axes)
    mesh = basis.mesh
    facets = mesh.facets_satisfying(lambda X: np.isclose(X[axis], where))
    # femkron's face load uses p + 1 Gauss points per axis: the same rule on the facets
    fbasis = skfem.FacetBasis(mesh, basis.elem, facets=facets, intorder=2 * (p + 1) - 1)

    @skfem.BilinearForm
    def robin_mass(u, v, w):
        return alpha * u * v

    @skfem.LinearForm
    def robin_load(v, w):
        return robin_g(*w.x) * v

    bcs = fk.BoundaryConditions(V, {face: fk.Robin(alpha, robin_g), "left": fk.Neumann(0.0)})
    R, R_ref = dense(bcs.robin_operator().tocsr()), reorder(robin_mass.assemble(fbasis), perm)
    tol_R = matrix_tol(R_ref, dim - 1, p + 1)  # a face entry: (2 (p + 1))**(d - 1) terms
    assert np.abs(R - R_ref).max() <= tol_R
    # a wrong α (here 1 % off) or the opposite face changes entries by ≥ 1e-2 · max|R|
    assert np.abs(R - 1.01 * R_ref).max() > 1e6 * tol_R
    b, b_ref = bcs.boundary_load(), reorder(robin_load.assemble(fbasis), perm)
    tol_b = ROUND * EPS * np.abs(b_ref).max() * (2 * (p + 1)) ** (dim - 1)
    assert np.abs(b - b_ref).max() <= tol_b
    assert np.abs(b - 1.01 * b_ref).max() > 1e6 * tol_b

    # whole operator on the free dofs: the unnamed faces are homogeneous Dirichlet, "left" is
    # Neumann and the Robin face is free; the free set is computed here from coordinates
    A = dense(fk.assemble(V, kappa=kappa_poly, bcs=bcs))
    full = reorder(weighted_laplace(kappa_poly).assemble(basis), perm) + R_ref
    grid = np.meshgrid(*axes, indexing="ij")
    dirichlet = np.zeros(V.shape, dtype=bool)
    for d in range(dim):
        lo, hi = NODES[d][0], NODES[d][-1]
        if d != 0:
            dirichlet |= np.isclose(grid[d], lo)
        if (d, hi) != (axis, where):
            dirichlet |= np.isclose(grid[d], hi)
    free = np.flatnonzero(~dirichlet.ravel())
    B = full[np.ix_(free, free)]
    assert A.shape == B.shape
    assert np.abs(A - B).max() <= matrix_tol(full, dim, q)
    # negative control: without the Robin term the face rows differ by α ∫ φ_i φ_j
    B0 = (full - R_ref)[np.ix_(free, free)]
    assert np.abs(A - B0).max() > 1e6 * matrix_tol(full, dim, q)


# ---- a whole Poisson problem: κ = 1 + x y², Dirichlet and Robin data -------------------
ALPHA = 1.5


def exact(x, y):
    return np.sin(2 * x + 1) * np.exp(0.5 * y)


def source(x, y):
    """f = -∇·(κ∇u) for κ = 1 + x y² and the exact solution above."""
    k, kx, ky = 1 + x * y**2, y**2, 2 * x * y
    ux = 2 * np.cos(2 * x + 1) * np.exp(0.5 * y)
    uxx, uy, uyy = -4 * exact(x, y), 0.5 * exact(x, y), 0.25 * exact(x, y)
    return -(kx * ux + k * uxx + ky * uy + k * uyy)


def robin_data(x, y):
    """g = κ ∂u/∂n + α u on the face x = 1 (outward normal +x)."""
    return (1 + x * y**2) * 2 * np.cos(2 * x + 1) * np.exp(0.5 * y) + ALPHA * exact(x, y)


def refine(nodes, times):
    for _ in range(times):
        mid = 0.5 * (nodes[:-1] + nodes[1:])
        nodes = np.sort(np.concatenate([nodes, mid]))
    return nodes


def solve_both(p, level):
    nodes = [refine(NODES[0], level), refine(NODES[1], level)]
    V = femkron_space(2, p, nodes)
    bc = {
        "left": fk.Dirichlet(exact),
        "bottom": fk.Dirichlet(exact),
        "top": fk.Dirichlet(exact),
        "right": fk.Robin(ALPHA, robin_data),
    }
    sol = fk.poisson(V, source, kappa=kappa_poly, bc=bc, method="direct", coefficient="assembled")

    basis = skfem_basis(2, p, nodes, intorder=2 * (p + 1) - 1)  # femkron's coefficient rule
    mesh = basis.mesh
    fbasis = skfem.FacetBasis(
        mesh,
        basis.elem,
        facets=mesh.facets_satisfying(lambda X: np.isclose(X[0], 1.0)),
        intorder=2 * (p + 1) - 1,
    )

    @skfem.BilinearForm
    def robin_mass(u, v, w):
        return ALPHA * u * v

    @skfem.LinearForm
    def load(v, w):
        return source(*w.x) * v

    @skfem.LinearForm
    def robin_load(v, w):
        return robin_data(*w.x) * v

    A = weighted_laplace(kappa_poly).assemble(basis) + robin_mass.assemble(fbasis)
    lbasis = skfem.Basis(mesh, basis.elem, intorder=2 * (p + 1) - 1)  # femkron's load rule
    b = load.assemble(lbasis) + robin_load.assemble(fbasis)
    X = basis.doflocs
    D = np.flatnonzero(np.isclose(X[0], 0.0) | np.isclose(X[1], 0.0) | np.isclose(X[1], 2.0))
    u = np.zeros(basis.N)
    u[D] = exact(X[0][D], X[1][D])  # nodal interpolation, as femkron's lifting
    u = skfem.solve(*skfem.condense(A, b, x=u, D=D))
    axes = [dof_nodes(n, p) for n in nodes]
    return sol.vector, u, basis, femkron_order(basis.doflocs, axes), A, D


def spd_condition(A):
    """2-norm condition number of a sparse SPD matrix from its extreme eigenvalues."""
    A = A.tocsc()
    top = spla.eigsh(A, k=1, which="LA", return_eigenvectors=False)[0]
    bottom = spla.eigsh(A, k=1, sigma=0.0, which="LM", return_eigenvectors=False)[0]
    assert bottom > 0
    return top / bottom


def l2_error(basis, u):
    """‖u_h - u‖_L2 by scikit-fem's quadrature (a 2p+6 rule: the norm's own error is tiny)."""
    fine = skfem.Basis(basis.mesh, basis.elem, intorder=2 * basis.elem.maxdeg + 6)

    @skfem.Functional
    def err2(w):
        return (w["uh"] - exact(*w.x)) ** 2

    return float(np.sqrt(err2.assemble(fine, uh=fine.interpolate(u))))


@pytest.mark.parametrize("p", [1, 2])
def test_poisson_with_robin(p):
    """The same discrete Poisson problem solved by both codes agrees to rounding times the
    condition number, and both converge like h^{p+1} in L2 (norm measured by scikit-fem).
    """
    errors = []
    for level in range(3):
        ours, ref, basis, perm, A, D = solve_both(p, level)
        # rounding model: data perturbed by ~(2q)^2 ε relative, amplified by cond(A_free)
        free = np.setdiff1d(np.arange(basis.N), D)
        cond = spd_condition(A[free][:, free])
        tol = ROUND * EPS * (2 * (p + 2)) ** 2 * cond * np.abs(ref).max()
        assert np.abs(ours - ref[perm]).max() <= tol
        inverse = np.empty_like(perm)
        inverse[perm] = np.arange(perm.size)
        errors.append((l2_error(basis, ours[inverse]), l2_error(basis, ref)))
    errors = np.array(errors)
    rates = np.log2(errors[:-1] / errors[1:])
    # the mesh is halved exactly: rate → p + 1; 0.25 allows the pre-asymptotic O(h) correction
    assert np.all(rates > p + 1 - 0.25), rates
    assert np.all(rates < p + 1 + 0.5), rates  # a super-convergent rate would be suspicious
