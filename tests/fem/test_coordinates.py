"""Curvilinear spaces: weighted Kronecker operators against brute-force assembly, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp

import femkron as fk
from femkron.fem.coordinates import coordinates


def _lagrange(nodes, x):
    """Values and derivatives of the Lagrange polynomials on ``nodes`` at ``x`` (written here)."""
    n = len(nodes)
    V = np.ones((x.size, n))
    dV = np.zeros((x.size, n))
    for i in range(n):
        others = [nodes[j] for j in range(n) if j != i]
        denom = np.prod([nodes[i] - o for o in others])
        V[:, i] = np.prod([x - o for o in others], axis=0) / denom if others else 1.0
        total = np.zeros(x.size)
        for k in range(len(others)):
            rest = [o for m, o in enumerate(others) if m != k]
            total += np.prod([x - o for o in rest], axis=0) if rest else 1.0
        dV[:, i] = total / denom
    return V, dV


def _brute_force(V, weights, mass_weight=None, q=14):
    """Element-by-element assembly of ``Σ_d ∫ w_d ∂_d u ∂_d v dq`` on the full tensor grid.

    ``weights[d]`` is a callable of all coordinates (the metric weight ``J / h_d²``); every 2D
    cell is integrated with a ``q × q`` Gauss rule; no Kronecker structure is used.
    """
    xi, wq = np.polynomial.legendre.leggauss(q)
    s0, s1 = V.spaces
    n0, n1 = s0.ndofs, s1.ndofs
    A = np.zeros((n0 * n1, n0 * n1))
    for c0 in range(s0.mesh.cells):
        a0, b0 = s0.mesh.nodes[c0], s0.mesh.nodes[c0 + 1]
        x0 = 0.5 * (a0 + b0) + 0.5 * (b0 - a0) * xi
        d0 = s0.cell_dofs[c0]
        B0, dB0 = _lagrange(s0.x[d0], x0)
        for c1 in range(s1.mesh.cells):
            a1, b1 = s1.mesh.nodes[c1], s1.mesh.nodes[c1 + 1]
            x1 = 0.5 * (a1 + b1) + 0.5 * (b1 - a1) * xi
            d1 = s1.cell_dofs[c1]
            B1, dB1 = _lagrange(s1.x[d1], x1)
            W = np.outer(wq, wq) * 0.25 * (b0 - a0) * (b1 - a1)
            X0, X1 = np.meshgrid(x0, x1, indexing="ij")
            gdofs = (d0[:, None] * n1 + d1[None, :]).ravel()
            # basis (i0, i1) at (q0, q1): B0[q0, i0] B1[q1, i1]
            g0 = np.einsum("ai,bj->abij", dB0, B1)
            g1 = np.einsum("ai,bj->abij", B0, dB1)
            local = np.einsum("ab,abij,abkl->ijkl", W * weights[0](X0, X1), g0, g0)
            local += np.einsum("ab,abij,abkl->ijkl", W * weights[1](X0, X1), g1, g1)
            if mass_weight is not None:
                v = np.einsum("ai,bj->abij", B0, B1)
                local += np.einsum("ab,abij,abkl->ijkl", W * mass_weight(X0, X1), v, v)
            m = len(d0) * len(d1)
            A[np.ix_(gdofs, gdofs)] += local.reshape(m, m)
    return A


def _periodic_then_pole(V, pole):
    """The prolongation from the conforming dofs to the tensor grid, built here.

    θ periodic (last dof = first), and with a pole every r = 0 dof is one unknown.
    """
    n0, n1 = V.shape
    m1 = n1 - 1
    cols = []
    for i in range(n0):
        for j in range(n1):
            jj = j % m1
            if pole:
                cols.append(0 if i == 0 else 1 + (i - 1) * m1 + jj)
            else:
                cols.append(i * m1 + jj)
    ncols = max(cols) + 1
    return sp.csr_matrix((np.ones(len(cols)), (np.arange(len(cols)), cols)), shape=(n0 * n1, ncols))


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("domain", ["disk", "annulus"])
def test_polar_operator_equals_brute_force_assembly(domain, order):
    # the weighted forms ∫ (r u_r v_r + u_θ v_θ / r + σ r u v) dr dθ assembled cell by cell with
    # a 14-point rule; the Kronecker operator uses 2p+8 points for 1/r (error ~ 5.8^-2q ≈ 1e-15
    # on the second cell, exact on the first), so both agree to rounding × the entry size
    if domain == "disk":
        V = fk.TensorSpace.disk(radius=1.5, cells=(3, 5), order=order)
    else:
        V = fk.TensorSpace.annulus(0.5, 1.5, cells=(3, 5), order=order)
    sigma = 2.5
    bcs = fk.BoundaryConditions(V, {"outer": fk.Neumann()} if domain == "disk" else fk.Neumann())
    A = bcs.constrain(fk.stiffness(V) + sigma * fk.mass(V)).tocsr().toarray()
    brute = _brute_force(
        V,
        (lambda r, t: r, lambda r, t: 1.0 / r),
        mass_weight=lambda r, t: sigma * r,
    )
    P = _periodic_then_pole(V, pole=domain == "disk").toarray()
    ref = P.T @ brute @ P
    assert A.shape == ref.shape
    assert np.abs(A - ref).max() <= 1e-11 * np.abs(ref).max()


def test_robin_face_measure_is_the_arc_length():
    # α ∫_{r=R} u v R dθ: on u = v = 1 it is α·2πR (independent truth: the circumference)
    V = fk.TensorSpace.annulus(0.5, 2.0, cells=(3, 8), order=2)
    bcs = fk.BoundaryConditions(V, {"outer": fk.Robin(3.0), "inner": fk.Robin(1.0)})
    R = bcs.robin_operator()
    ones = np.ones(V.ndofs)
    assert abs(ones @ (R @ ones) - (3.0 * 2 * np.pi * 2.0 + 1.0 * 2 * np.pi * 0.5)) < 1e-12
    b = fk.BoundaryConditions(V, {"outer": fk.Neumann(lambda r, t: np.cos(t) ** 2)}).boundary_load()
    assert abs(b.sum() - np.pi * 2.0) < 1e-10  # ∫ cos²θ R dθ = πR


def test_volumes_and_loads_carry_the_metric():
    # areas/volumes by formula; the load of f = 1 integrates J
    cases = [
        (fk.TensorSpace.disk(radius=2.0, cells=(3, 8), order=2), 4 * np.pi),
        (fk.TensorSpace.annulus(1.0, 2.0, cells=(3, 8), order=1), 3 * np.pi),
        (fk.TensorSpace.sector(0.0, 1.0, angle=(0.0, np.pi / 3), cells=(2, 3), order=2), np.pi / 6),
        (fk.TensorSpace.cylinder(radius=1.0, height=3.0, cells=(2, 6, 2), order=2), 3 * np.pi),
        (fk.TensorSpace.spherical_shell(1.0, 2.0, cells=(2, 4, 6), order=2), 4 * np.pi / 3 * 7),
    ]
    for V, exact in cases:
        assert abs(V.volume - exact) < 1e-12 * exact
        # (sin θ is integrated by a (p+4)-point Gauss rule per cell: error ~ (h/2)^(2p+8))
        assert abs(fk.load_vector(V, 1.0).sum() - exact) < 1e-10 * exact


def test_coordinates_weights_and_maps():
    c = coordinates("cylindrical")
    assert c.stiffness_powers == ((1, 0, 0), (-1, 0, 0), (1, 0, 0))
    assert coordinates("axisymmetric").stiffness_powers == ((1, 0), (1, 0))
    x, y, z = c.to_cartesian(2.0, np.pi, 1.0)
    assert np.allclose([x, y, z], [-2.0, 0.0, 1.0])
    x, y, z = coordinates("spherical").to_cartesian(1.0, np.pi / 2, np.pi / 2)
    assert np.allclose([x, y, z], [0.0, 1.0, 0.0])
    D = fk.TensorSpace.disk(cells=(2, 6), order=1)
    X, Y = D.to_cartesian(*D.grid())
    assert np.allclose(np.hypot(X, Y), D.grid()[0])
    assert D.coordinates.name == "polar"
    general = fk.TensorSpace(D.spaces, coordinates="polar")
    assert general.poles == D.poles and general.periodic_axes == (1,)


def test_pole_rows_of_the_inverse_radius_mass_are_never_formed():
    D = fk.TensorSpace.disk(cells=(3, 6), order=2)
    from femkron.fem.curvilinear import weighted_matrix

    M = weighted_matrix(D, 0, "M", -1)
    assert abs(M[0]).sum() == 0 and abs(M[:, 0]).sum() == 0
    assert np.all(np.isfinite(M.data))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: fk.TensorSpace.disk(radius=0.0), "radius must be > 0"),
        (lambda: fk.TensorSpace.disk(radius=-2.0), "radius must be > 0"),
        (lambda: fk.TensorSpace.annulus(1.0, 0.5), "inner must be smaller than outer"),
        (lambda: fk.TensorSpace.annulus(-0.1, 0.5), "inner must be >= 0"),
        (lambda: fk.TensorSpace.sector(0.5, 1.0, angle=(1.0, 0.2)), "angle must be increasing"),
        (lambda: fk.TensorSpace.sector(0.5, 1.0, angle=(0.0, 7.0)), "at most a full turn"),
        (lambda: fk.TensorSpace.disk(cells=(4, 1)), "cells of axis 'theta' must be >= 3"),
        (lambda: fk.TensorSpace.cylinder(height=0.0), "height must be > 0"),
        (lambda: fk.TensorSpace.spherical_shell(0.0, 1.0), "ball"),
        (
            lambda: fk.TensorSpace(
                [fk.Space1D(fk.Mesh1D.uniform(-1, 1, 2)), fk.Space1D(fk.Mesh1D.uniform(0, 1, 2))],
                coordinates="polar",
            ),
            "r >= 0",
        ),
        (
            lambda: fk.TensorSpace([fk.Space1D(fk.Mesh1D.uniform(0, 1, 2))] * 2, "polr"),
            "coordinates must be one of",
        ),
    ],
)
def test_bad_spaces_are_refused_naming_the_argument(make, match):
    with pytest.raises(fk.FemkronValueError, match=match):
        make()


def test_bad_faces_and_callables():
    S = fk.TensorSpace.sector(0.5, 1.0, angle=(0.0, 1.0), cells=(2, 2), order=1)
    with pytest.raises(fk.FemkronValueError, match="cannot be periodic"):
        fk.BoundaryConditions(S, {"theta": fk.Periodic()})
    with pytest.raises(fk.FemkronValueError, match="inner, outer, start, end"):
        fk.BoundaryConditions(S, {"left": fk.Neumann()})
    D = fk.TensorSpace.disk(cells=(2, 4), order=1)
    with pytest.raises(fk.FemkronValueError, match="faces of this polar space are: outer"):
        fk.BoundaryConditions(D, {"inner": fk.Neumann()})
    with pytest.raises(fk.FemkronTypeError, match=r"\(r, theta\)"):
        fk.load_vector(D, lambda x: x)
    with pytest.raises(fk.FemkronTypeError, match="separable"):
        fk.stiffness(D, kappa=lambda r, t: 1 + r)
