"""The modal heat integrator in curvilinear coordinates (the nested eigenbasis).

Independent truths: the exact semi-discrete solution by dense ``scipy.linalg.expm``, Bessel
modes decaying as ``exp(-λ t)`` (``scipy.special.jn_zeros``) with measured spatial rates, and
Crank–Nicolson converging to it at second order in ``dt``.
"""

import numpy as np
import pytest
import scipy.linalg
from scipy.special import jn_zeros, jv

import femkron as fk
from femkron.kron.nested import NestedDiagonalization


def _semi_discrete(V, u0, f, t, bc):
    """``w(t)`` of ``M w' + A w = b`` by dense expm (homogeneous Dirichlet data), full grid."""
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    A = bcs.constrain(A).toarray()
    M = bcs.constrain(fk.mass(V)).toarray()
    load = fk.load_vector(V, f)
    extra = bcs.boundary_load()  # Neumann/Robin face data
    b = bcs.restrict(load if extra is None else load + extra)
    w0 = bcs.select(V.interpolate(u0).reshape(-1))
    w_inf = np.linalg.solve(A, b)
    w = w_inf + scipy.linalg.expm(-t * np.linalg.solve(M, A)) @ (w0 - w_inf)
    return bcs.extend(w, None).reshape(V.shape)


CASES = [
    (fk.TensorSpace.disk(radius=1.0, cells=(3, 8), order=2), {"outer": fk.Dirichlet(0.0)}),
    (fk.TensorSpace.annulus(0.5, 1.0, cells=(3, 8), order=2), {"outer": fk.Robin(2.0, 0.5)}),
    (
        fk.TensorSpace.cylinder(1.0, 1.0, cells=(2, 6, 2), order=1),
        {"outer": fk.Dirichlet(0.0), "top": fk.Robin(1.0, 0.0)},
    ),
    (
        fk.TensorSpace.spherical_shell(0.5, 1.0, cells=(2, 4, 6), order=1),
        {"outer": fk.Dirichlet(0.0)},
    ),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_modal_is_the_exact_semi_discrete_solution(case):
    V, bc = CASES[case]
    dim = V.dim
    u0 = (lambda r, t: r * np.sin(t) + 1.0) if dim == 2 else (lambda r, t, z: r * np.cos(t) + z)
    f = (lambda r, t: 1.0 + r * np.cos(t)) if dim == 2 else (lambda r, t, z: 1.0 + r + 0 * t * z)
    ht = fk.heat(V, u0, t_end=0.2, dt=0.1, bc=bc, f=f, scheme="modal", snapshots=3)
    assert ht.info.method == "modal" and ht.steps == 0
    for t, frame in zip(ht.t, ht.values):
        ref = _semi_discrete(V, u0, f, t, bc)
        # rounding × the condition of the M-orthonormal basis (~1e2 here)
        assert np.abs(frame - ref).max() < 1e-11 * np.abs(ref).max(), (case, t)


def test_bessel_modes_decay_exactly_up_to_the_spatial_error():
    # u0 = J0(j01 r) + J1(j11 r) cos θ on the unit disk, u = 0 on r = 1: each mode decays as
    # exp(-j² t).  The modal integrator adds no time error: the L2 error is the spatial one,
    # C h^{p+1} (Q2: rate 3, measured 2.95/3.02)
    j0, j1 = jn_zeros(0, 1)[0], jn_zeros(1, 1)[0]
    T = 0.05

    def u0(r, t):
        return jv(0, j0 * r) + jv(1, j1 * r) * np.cos(t)

    def exact(r, t):
        return np.exp(-(j0**2) * T) * jv(0, j0 * r) + np.exp(-(j1**2) * T) * jv(1, j1 * r) * np.cos(
            t
        )

    errs = []
    for n in (4, 8, 16):
        D = fk.TensorSpace.disk(radius=1.0, cells=(n, 4 * n), order=2)
        ht = fk.heat(D, u0, t_end=T, dt=T, scheme="modal", bc={"outer": fk.Dirichlet(0.0)})
        errs.append(fk.error(D, ht.values[-1], exact))
    rates = np.log2(np.array(errs[:-1]) / errs[1:])
    assert np.all(rates > 2.75), (rates, errs)


def test_crank_nicolson_converges_to_modal_at_second_order():
    # pure Neumann on the annulus (the zero mode grows linearly with the net flux): CN's
    # error against the exact-in-time modal solution is C dt² once dt resolves the initial
    # transient (measured 2.1e-6, 5.4e-7: ratio 4.0), so halving dt divides it by 4
    A = fk.TensorSpace.annulus(0.5, 1.0, cells=(4, 16), order=2)
    kw = dict(
        t_end=0.1,
        bc={"inner": fk.Neumann(1.0), "outer": fk.Neumann(0.5)},
        f=lambda r, t: r * np.cos(t),
        snapshots=2,
    )
    u0 = lambda r, t: r * np.sin(t)  # noqa: E731
    modal = fk.heat(A, u0, dt=0.1, scheme="modal", **kw).values[-1]
    diffs = [
        np.abs(fk.heat(A, u0, dt=dt, theta=0.5, **kw).values[-1] - modal).max()
        for dt in (0.001, 0.0005)
    ]
    assert 3.5 < diffs[0] / diffs[1] < 4.5, diffs
    assert diffs[1] < 1e-5


def test_nested_eigenbasis_is_m_orthonormal_and_diagonalizes_the_pencil():
    D = fk.TensorSpace.disk(radius=1.0, cells=(3, 8), order=2)
    bcs = fk.BoundaryConditions(D, {"outer": fk.Dirichlet(0.0)})
    A, M = bcs.constrain(fk.stiffness(D)), bcs.constrain(fk.mass(D))
    nd = NestedDiagonalization(A, mass=M)
    x = np.random.default_rng(3).standard_normal(A.shape[0])
    C = nd.modal_coefficients(M @ x)
    assert np.abs(nd.from_modal(C) - x).max() < 1e-12 * np.abs(x).max()  # X Xᵀ M = I
    lam = nd.modal_eigenvalues()
    Ad, Md = A.toarray(), M.toarray()
    ref = np.linalg.solve(Md, Ad @ x)  # X Λ Xᵀ M = M⁻¹ A
    assert np.abs(nd.from_modal(lam * C) - ref).max() < 1e-11 * np.abs(ref).max()
    w = scipy.linalg.eigh(Ad, Md, eigvals_only=True)
    assert np.allclose(np.sort(lam[lam != 0]), w, rtol=1e-10)


@pytest.mark.parametrize("general", [False, True])
def test_explicit_euler_stability_bound_on_a_disk(general):
    # forward Euler is stable iff dt <= 2 / λ_max(M⁻¹A): λ_max from a dense eigh of the same
    # constrained matrices (assembled with the metric for a general κ)
    D = fk.TensorSpace.disk(radius=1.0, cells=(3, 8), order=1)
    bc = {"outer": fk.Dirichlet(0.0)}
    kappa = (lambda r, t: 2 + r * np.cos(t)) if general else 1.0
    bcs = fk.BoundaryConditions(D, bc)
    if general:
        A = fk.assemble(D, kappa=kappa, bcs=bcs).toarray()
        M = fk.MatrixFreeOperator.mass(D, bcs=bcs).tocsr().toarray()
    else:
        A = bcs.constrain(fk.stiffness(D)).toarray()
        M = bcs.constrain(fk.mass(D)).toarray()
    bound = 2.0 / scipy.linalg.eigh(A, M, eigvals_only=True)[-1]
    u0 = lambda r, t: 1 - r**2  # noqa: E731
    kw = dict(theta=0.0, kappa=kappa, bc=bc, snapshots=2)
    ok = bound * (1 - 1e-6)  # the bound is checked with a relative slack of 1e-10
    fk.heat(D, u0, t_end=4 * ok, dt=ok, **kw)
    with pytest.raises(fk.FemkronValueError) as err:
        fk.heat(D, u0, t_end=4.04 * bound, dt=1.01 * bound, **kw)
    assert err.value.reason == "unstable"
