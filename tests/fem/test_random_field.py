"""Matérn random fields by the SPDE route with the exact discrete eigenpairs.

Truth: the covariance of the dof values against dense linear algebra on the full 2D system
(``(κ²M + A)⁻¹ M (κ²M + A)⁻¹`` for α = 2, the full generalized eigenproblem for fractional
α); the continuous Matérn variance and correlation under refinement; and sampling statistics
within error bars computed from the Matérn covariance (the effective number of independent
samples), never tuned.
"""

import math

import numpy as np
import pytest
import scipy.linalg as sla

import femkron as fk
from femkron.fem.random_field import _MaternSampler, matern_marginal_std


def dense_pencil(V, periodic=False):
    Ks, Ms = [], []
    for s in V.spaces:
        K, M = s.stiffness().toarray(), s.mass().toarray()
        if periodic:
            n = s.ndofs
            P = np.zeros((n, n - 1))
            P[np.arange(n), np.arange(n) % (n - 1)] = 1.0
            K, M = P.T @ K @ P, P.T @ M @ P
        Ks.append(K)
        Ms.append(M)
    A = np.kron(Ks[0], Ms[1]) + np.kron(Ms[0], Ks[1])
    return A, np.kron(Ms[0], Ms[1])


def sampler_covariance(sampler):
    n = int(np.prod(sampler.shape))
    L = sampler.apply(np.eye(n).reshape((n,) + sampler.shape)).reshape(n, -1).T
    return L @ L.T, L


def test_covariance_alpha_two_equals_dense_formula():
    V = fk.TensorSpace.box([(0, 1), (0, 0.7)], cells=(5, 4), order=2)
    length, nu = 0.4, 1.0  # d = 2: α = 2
    sampler = _MaternSampler(V, length, nu, 1.3, "neumann")
    C, _ = sampler_covariance(sampler)
    A, M = dense_pencil(V)
    k2 = 8 * nu / length**2
    B = np.linalg.solve(k2 * M + A, np.eye(M.shape[0]))
    c = 1.3 / matern_marginal_std(length, nu, 2)
    ref = c**2 * B @ M @ B
    # rounding of two dense solves times the condition of κ²M + A (~1e3 here)
    assert np.abs(C - ref).max() <= 1e-10 * np.abs(ref).max()


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_fractional_covariance_equals_full_eigendecomposition(boundary):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(4, 5), order=2)
    length, nu = 0.3, 0.5  # α = 1.5: no matrix formula, the spectral one on the 2D pencil
    sampler = _MaternSampler(V, length, nu, 1.0, boundary)
    C, L = sampler_covariance(sampler)
    A, M = dense_pencil(V, periodic=boundary == "periodic")
    lam, Phi = sla.eigh(A, M)
    k2 = 8 * nu / length**2
    c = 1.0 / matern_marginal_std(length, nu, 2)
    ref = c**2 * (Phi * (k2 + lam) ** -1.5) @ Phi.T
    if boundary == "periodic":
        n0, n1 = (s.ndofs for s in V.spaces)
        P = np.zeros((n0, n0 - 1))
        P[np.arange(n0), np.arange(n0) % (n0 - 1)] = 1
        Q = np.zeros((n1, n1 - 1))
        Q[np.arange(n1), np.arange(n1) % (n1 - 1)] = 1
        E = np.kron(P, Q)
        ref = E @ ref @ E.T
    assert np.abs(C - ref).max() <= 1e-10 * np.abs(ref).max()
    # the pointwise variance is the diagonal
    var = fk.matern_variance(V, length, nu, boundary=boundary)
    assert np.abs(var.ravel() - np.diag(C)).max() <= 1e-12 * np.abs(var).max()


@pytest.mark.parametrize("nu", [0.5, 1.0])
def test_interior_variance_and_correlation_converge_to_matern(nu):
    # exact discrete statistics at the centre of [0, 2]² (5 correlation lengths from every
    # face: the reflected images change the variance by ρ(10 ρ_len)-ish, < 1e-6)
    length, errs, cerrs = 0.2, [], []
    target = fk.matern_correlation(length, length, nu)
    for cells in (20, 40, 80):
        V = fk.TensorSpace.box([(0, 2), (0, 2)], cells=cells, order=2)
        sampler = _MaternSampler(V, length, nu, 1.0, "neumann")
        var = sampler.variance()
        c = V.shape[0] // 2
        lag = int(round(length / (2.0 / (V.shape[0] - 1))))
        e = np.zeros(sampler.shape)
        e[c, c] = 1.0
        # covariance column C e = L Lᵀ e with Lᵀ = diag(a) (⊗Sᵀ): apply the transpose by hand
        W = e
        for d, S in enumerate(sampler.S):
            W = np.moveaxis(np.tensordot(S.T, W, axes=(1, d)), 0, d)
        col = sampler.apply((W * sampler.amplitude)[None])[0]
        corr = col[c + lag, c] / math.sqrt(var[c, c] * var[c + lag, c])
        errs.append(abs(var[c, c] - 1.0))
        cerrs.append(abs(corr - target))
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    # the spectrum's tail beyond the mesh frequency holds a fraction ~ (h/ρ)^{2ν}
    assert rates[-1] >= 2 * nu - 0.3, (errs, rates)
    assert errs[-1] < 0.01 and cerrs[-1] < 0.01, (errs, cerrs)


def test_boundary_inflation_and_periodic_without_it():
    V = fk.TensorSpace.box([(0, 2), (0, 2)], cells=64, order=1)
    var = fk.matern_variance(V, 0.2, 1.0)
    c = V.shape[0] // 2
    # a reflecting face doubles the variance, a corner quadruples it (images of the field)
    assert abs(var[0, c] / var[c, c] - 2.0) < 1e-3
    assert abs(var[0, 0] / var[c, c] - 4.0) < 1e-3
    per = fk.matern_variance(V, 0.2, 1.0, boundary="periodic")
    assert np.ptp(per) <= 1e-12 * per.max()  # translation invariant on a uniform torus


def test_sample_statistics_match_matern_within_sampling_error():
    length, nu, std, S = 0.2, 1.0, 1.5, 200
    V = fk.TensorSpace.box([(0, 2), (0, 2)], cells=80, order=2)  # dofs 0.0125 apart
    fields = fk.random_field(V, length, nu, std, seed=7, samples=S)
    U = np.stack([f.values for f in fields])
    x = V.spaces[0].x
    inner = np.flatnonzero((x >= 2 * length - 1e-12) & (x <= 2 - 2 * length + 1e-12))
    h = x[1] - x[0]
    lag = int(round(length / h))
    assert abs(lag * h - length) < 1e-12
    a = U[:, inner[:-lag]][:, :, inner]
    b = U[:, inner[lag:]][:, :, inner]
    var_hat = np.mean(a * a) / std**2
    corr_hat = np.mean(a * b) / math.sqrt(np.mean(a * a) * np.mean(b * b))
    # standard errors from the Matérn covariance of the points used (every 3rd, the sums are
    # smooth Riemann sums): for Gaussian fields Cov(u_i u_j, u_k u_l) = ρ_ik ρ_jl + ρ_il ρ_jk
    sub = inner[:-lag:3]
    X, Y = np.meshgrid(x[sub], x[sub], indexing="ij")
    px, py = X.ravel(), Y.ravel()
    dx, dy = px[:, None] - px[None, :], py[:, None] - py[None, :]
    rho = lambda ex: fk.matern_correlation(np.hypot(dx + ex, dy), length, nu)
    r0 = rho(0.0)
    var_var = 2 * np.mean(r0**2) / S  # of the mean of u² / std²
    var_prod = np.mean(r0**2 + rho(length) * rho(-length)) / S  # of the mean of u_a u_b
    rho_l = float(fk.matern_correlation(length, length, nu))
    se_var = math.sqrt(var_var)
    se_corr = math.sqrt(var_prod) + rho_l * se_var  # bound of the ratio's error (Cauchy-Schwarz)
    # bias of the discretisation (exact discrete statistics, previous test): below 0.01
    assert abs(var_hat - 1.0) <= 4 * se_var + 0.01, (var_hat, se_var)
    assert abs(corr_hat - rho_l) <= 4 * se_corr + 0.01, (corr_hat, rho_l, se_corr)
    assert 0.13 < rho_l < 0.15 and se_var < 0.02 and se_corr < 0.03  # the test has power


def test_reproducible_and_transformed():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    a = fk.random_field(V, 0.3, seed=11)
    b = fk.random_field(V, 0.3, seed=11)
    c = fk.random_field(V, 0.3, seed=12)
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)
    many = fk.random_field(V, 0.3, seed=11, samples=4)
    assert np.array_equal(many[0].values, a.values)
    assert not np.array_equal(many[1].values, many[0].values)
    k = fk.random_field(V, 0.3, std=0.5, mean=1.0, seed=11, transform=np.exp)
    assert np.allclose(k.values, np.exp(1.0 + 0.5 * a.values), rtol=1e-14)
    pts = np.random.default_rng(0).uniform(0, 1, (2, 30))
    assert np.allclose(k(*pts), np.exp(1.0 + 0.5 * a(*pts)), rtol=1e-13)
    assert k.separable_rank is None and a.separable_rank > 1


def test_bad_input():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    with pytest.raises(fk.FemkronValueError, match="length"):
        fk.random_field(V, -1.0)
    with pytest.raises(fk.FemkronValueError, match="smoothness"):
        fk.random_field(V, 0.1, smoothness=0.0)
    with pytest.raises(fk.FemkronValueError, match="boundary"):
        fk.random_field(V, 0.1, boundary="dirichlet")
    with pytest.raises(fk.FemkronTypeError, match="seed"):
        fk.random_field(V, 0.1, seed="x")
    with pytest.raises(fk.FemkronValueError, match="samples"):
        fk.random_field(V, 0.1, samples=0)
    with pytest.raises(fk.FemkronTypeError, match="transform"):
        fk.random_field(V, 0.1, transform=3.0)
