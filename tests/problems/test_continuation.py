"""fk.continuation: pseudo-arclength continuation of -Δu = s(u, λ).

Truth: the Bratu fold λ_c = 6.808124423 on the unit square (published: 6.80812 to the digits
usually quoted; the further digits are consistent with the Richardson extrapolation below) and
the rate at which the discrete fold converges to it, measured on three meshes per order; a
linear source whose whole branch is one sparse solve per point (scipy); failures."""

import math
import warnings

import matplotlib
import numpy as np
import pytest
import scipy.sparse.linalg as spla

import femkron as fk

matplotlib.use("Agg")

LAMBDA_C = 6.808124423


def bratu(u, lam):
    return lam * np.exp(u)


def fold(order, n):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=order)
    br = fk.continuation(V, bratu, lam=(0.0, 7.0), ds=1.0, max_norm=1.6, progress=False)
    return br


@pytest.mark.parametrize("order, cells", [(1, (8, 16, 32)), (2, (4, 8, 16))])
def test_bratu_fold_converges_at_rate_2p(order, cells):
    branches = [fold(order, n) for n in cells]
    folds = np.array([br.fold for br in branches])
    for br in branches:
        assert len(br.folds) == 1 and br.stopped == "norm"
        # the fold is where dλ/ds changes sign; located to |dλ/ds| <= 1e-6
        k = int(np.argmax(br.lam))
        assert br.lam[k] == br.fold and abs(br.dlam[k]) <= 1e-6
        assert np.all(br.dlam[:k] > 0) and np.all(br.dlam[k + 1 :] < 0)
        assert br.fold_solution is not None
    # the fold is an eigenvalue-type quantity (F_u φ = 0): its error is C h^{2p} (1 + O(h²)).
    # Measured without the reference (differences of consecutive folds) and against it; the
    # rate from the two finest meshes within 0.1 (Q1) / 0.2 (Q2, coarser meshes) of 2p
    self_rate = math.log2((folds[0] - folds[1]) / (folds[1] - folds[2]))
    errors = folds - LAMBDA_C
    ref_rate = math.log2(errors[1] / errors[2])
    tol = 0.1 if order == 1 else 0.2
    assert abs(self_rate - 2 * order) < tol, folds
    assert abs(ref_rate - 2 * order) < tol, errors
    assert np.all(errors > 0)  # conforming elements: the discrete fold lies above
    # Richardson extrapolation with the measured rate reproduces the published 6.80812
    # (quoted to 5 decimals: ±5e-6), within the extrapolation's error (next term, O(h^{2p+2}))
    extrapolated = folds[2] - (folds[1] - folds[2]) / (2 ** (2 * order) - 1)
    assert abs(extrapolated - 6.80812) <= 5e-6 + 0.1 * abs(folds[2] - LAMBDA_C), extrapolated


def test_linear_branch_is_exact():
    # -Δu = λ(1 + u): u(λ) = λ (K - λM)⁻¹ M 1, one sparse solve per point (scipy)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    br = fk.continuation(V, lambda u, lam: lam * (1 + u), lam=(0.0, 15.0), points=[5.0, 12.0])
    bcs = fk.BoundaryConditions(V)
    K = bcs.constrain(fk.stiffness(V)).tocsr()
    M = bcs.constrain(fk.mass(V)).tocsr()
    b = bcs.restrict(fk.load_vector(V, 1.0))

    def exact(lam):
        return spla.spsolve((K - lam * M).tocsc(), lam * b)

    assert br.fold is None and br.stopped == "range" and br.lam[-1] > 15.0
    assert np.all(np.diff(br.lam) > 0)
    # every point on the branch: corrector tolerance 1e-9 relative, times cond(K - λM)
    # (≤ 1e2 here, λ < 2π²·0.8) → 1e-7
    for lam, size in zip(br.lam, br.norm):
        u = exact(lam)
        assert abs(size - np.abs(u).max()) <= 1e-7 * max(1.0, np.abs(u).max())
    assert br.solution_lam.tolist() == [5.0, 12.0]
    for lam, sol in zip(br.solution_lam, br.solutions):
        u = exact(lam)
        assert np.max(np.abs(bcs.restrict(sol.vector) - u)) <= 1e-7 * np.abs(u).max()


def test_two_bratu_solutions_below_the_fold():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    br = fk.continuation(V, bratu, lam=(0.0, 7.0), ds=1.0, max_norm=3.0, points=[5.0])
    assert br.solution_lam.tolist() == [5.0, 5.0]
    low, high = (sol.values.max() for sol in br.solutions)
    assert low < 1.39 < high  # the fold has max u ≈ 1.39: one on each side
    # the lower one is the solution Newton finds from u = 0
    direct = fk.nonlinear_poisson(V, 0.0, reaction=lambda u: -5.0 * np.exp(u))
    assert np.max(np.abs(direct.values - br.solutions[0].values)) <= 1e-8
    ax = br.plot(reference=LAMBDA_C)
    assert ax.get_xlabel() == "λ" and ax.get_ylabel() == "max |u|"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_no_direction_at_a_singular_start():
    # -u'' = μ_h u + λ with μ_h the first discrete eigenvalue: F_u = K - μ_h M is singular
    # and F_λ = -M 1 is not in its range (the eigenvector is positive)
    V = fk.TensorSpace.box([(0, 1)], cells=16, order=1)
    w, _ = fk.eigen(V, k=1)
    with pytest.raises(fk.FemkronValueError) as err:
        fk.continuation(V, lambda u, lam: w[0] * u + lam, lam=(0.0, 1.0))
    assert err.value.reason == "no-direction"


def test_cannot_continue_where_the_source_stops():
    # √λ is not defined below 0: the branch ends at λ = 0 and the step shrinks to ds_min; the
    # branch traced down to there is returned, its last λ within a few ds_min of 0
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    br = fk.continuation(V, lambda u, lam: np.sqrt(lam) * (1 + u), lam=(1.0, -1.0), ds=0.3)
    assert br.stopped == "step-too-small" and br.steps > 0
    assert 0.0 <= br.lam[-1] < br.lam[0] and br.lam[-1] < 0.3


def test_no_solution_at_the_start():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    with pytest.raises(fk.ConvergenceError) as err:
        fk.continuation(V, bratu, lam=(8.0, 9.0))  # beyond the fold: no solution
    assert err.value.reason == "no-start"


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(source="lam * exp(u)"), fk.FemkronTypeError),
        (dict(lam=(1.0, 1.0)), fk.FemkronValueError),
        (dict(lam=7.0), fk.FemkronValueError),
        (dict(lam=("a", 1.0)), fk.FemkronTypeError),
        (dict(ds=-0.1), fk.FemkronValueError),
        (dict(ds=1.0, ds_max=0.5), fk.FemkronValueError),
        (dict(norm="H1"), fk.FemkronValueError),
        (dict(max_steps=0), fk.FemkronValueError),
        (dict(dsource=lambda u, lam: lam), fk.FemkronValueError),
        (dict(bc=fk.Neumann(0.0)), fk.FemkronValueError),
        (dict(source=lambda u, lam: np.ones(3)), fk.FemkronValueError),
    ],
)
def test_bad_input(kwargs, error):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    args = dict(source=bratu, lam=(0.0, 1.0))
    args.update(kwargs)
    with pytest.raises(error):
        fk.continuation(V, args.pop("source"), **args)


def test_branch_declares_its_attributes():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    br = fk.continuation(V, lambda u, lam: lam * (1 + u), lam=(0.0, 3.0), points=[1.0])
    declared = set(fk.Branch.__doc__.split("Attributes")[1].split())
    assert set(vars(br)) <= declared, set(vars(br)) - declared
    assert len(br.lam) == len(br.norm) == len(br.s) == len(br.dlam) == br.steps + 1
    assert np.all(np.diff(br.s) > 0) and br.s[0] == 0.0


def test_disk_fold_converges_to_the_exact_value_two():
    # on the unit disk the Bratu branch is u = 2 ln((1 + β)/(1 + β r²)), λ = 8β/(1 + β)²:
    # the fold is at β = 1, λ_c = 2 exactly, with max u = 2 ln 2 (Liouville's solution)
    folds, tops = [], []
    for n in (2, 4, 8):
        D = fk.TensorSpace.disk(radius=1.0, cells=(n, 4 * n), order=2)
        br = fk.continuation(D, bratu, lam=(0.0, 3.0), ds=0.5, max_norm=2.0, progress=False)
        folds.append(br.fold)
        tops.append(br.fold_solution.values.max())
    errors = np.array(folds) - 2.0
    # O(h^{2p}) = h⁴ for Q2: the rate of the two finest meshes within 0.2 of 4
    assert np.all(errors > 0) and abs(math.log2(errors[1] / errors[2]) - 4) < 0.2, errors
    assert abs(tops[-1] - 2 * math.log(2)) < 1e-3  # the solution at the fold, O(h³) at dofs


def test_fold_is_a_singular_point_of_the_independently_assembled_jacobian():
    # F_u = K - M[λ eᵘ] assembled by fk.stiffness and fk.mass (the coefficient from the
    # solution evaluated at the Gauss points), its generalized eigenvalues by dense LAPACK:
    # singular at the located fold, positive definite on the lower branch, one negative
    # eigenvalue on the upper branch (the unstable solution)
    import scipy.linalg as sla

    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    br = fk.continuation(V, bratu, lam=(0.0, 7.0), ds=1.0, max_norm=3.0, points=[5.0])
    bcs = fk.BoundaryConditions(V)
    K = bcs.constrain(fk.stiffness(V)).tocsr().toarray()
    M = bcs.constrain(fk.mass(V)).tocsr().toarray()
    mu1 = sla.eigh(K, M, eigvals_only=True)[0]  # the first Dirichlet eigenvalue (≈ 2π²)

    def spectrum(sol, lam):
        def coef(x, y):
            return lam * np.exp(sol(np.ravel(x), np.ravel(y)))

        # the Gauss rule of continuation's nonlinear terms: p + 2 points per axis
        Ms = bcs.constrain(fk.mass(V, coef, quad=3)).tocsr().toarray()
        return sla.eigh(K - Ms, M, eigvals_only=True)

    # located where |dλ/ds| <= 1e-6; the smallest eigenvalue vanishes linearly with dλ/ds
    # (both are linear in the distance along the branch), with a factor O(μ₁): 1e-5 μ₁
    at_fold = spectrum(br.fold_solution, br.fold)
    assert abs(at_fold[0]) <= 1e-5 * mu1 and at_fold[1] > 0.5 * mu1, (at_fold[:2], mu1)
    low, high = (spectrum(s, 5.0) for s in br.solutions)
    assert low[0] > 0.1 * mu1
    assert high[0] < -0.1 * mu1 and high[1] > 0.1 * mu1


def test_a_branch_that_runs_off_is_returned_with_its_fold():
    # Bratu without max_norm: past the fold the upper branch runs back towards λ = 0 with
    # ‖u‖ growing without bound, so λ never leaves (0, 8); the continuation must return the
    # branch (fold included: the Q1 8×8 fold 6.89217 of the refinement test) when the step
    # shrinks below ds_min there, quietly (overflowing trial points are handled, not warned)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # floating-point warnings only
        br = fk.continuation(V, lambda u, lam: lam * np.exp(u), lam=(0.0, 8.0), max_steps=200)
    assert br.stopped == "step-too-small"
    assert br.fold == pytest.approx(6.89217, abs=1e-4)
    assert br.norm[-1] > 10 * br.norm[np.argmax(br.lam)]
