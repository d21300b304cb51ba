# %% [markdown]
# # The Bratu problem: a branch of solutions and its fold
#
# `-Δu = λ eᵘ` on the unit square with `u = 0` on the boundary (a model of thermal ignition).
# For small λ there are two solutions, a small one and a large one; they meet at a *fold*
# λ_c ≈ 6.80812, beyond which there is none. Newton at fixed λ cannot pass the fold (the
# Jacobian `F_u` is singular there), so `fk.continuation` follows the curve by its
# arclength instead (Keller's pseudo-arclength method): a tangent predictor, then Newton on
# the system bordered by the arclength equation, each iteration two fast solves with `F_u`
# (GMRES preconditioned by fast diagonalization of the Laplacian). The fold is where dλ/ds
# changes sign; it is located by regula falsi on dλ/ds = 0.

# %%
import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

LAMBDA_C = 6.80812  # the fold of the unit square, as usually quoted
LAMBDA_C_DIGITS = 6.808124423  # to more digits (consistent with the extrapolated runs below)


def bratu(u, lam):
    return lam * np.exp(u)


V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8 if SMALL else 24, order=2)
branch = fk.continuation(
    V, bratu, lam=(0.0, 7.0), ds=0.5, ds_max=0.5, max_norm=5.0, points=[5.0], progress=False
)
print(branch)
print(
    f"fold at λ = {branch.fold:.6f} (published λ_c = {LAMBDA_C}); max u there = "
    f"{branch.fold_solution.values.max():.4f}"
)
print(
    f"{branch.steps} steps, {sum(branch.newton_iterations)} corrector iterations, "
    f"{branch.linear_iterations} Krylov iterations in all"
)
low, high = branch.solutions
print(f"two solutions at λ = 5: max u = {low.values.max():.4f} and {high.values.max():.4f}")

# %% [markdown]
# ## The fold under refinement
#
# The fold is where `F_u` has a zero eigenvalue, a quantity of eigenvalue type, so the
# discrete fold should converge like the eigenvalues: at the rate `h^{2p}` (twice the order
# of the L2 error of the solution). Measured, with the errors against λ_c to more digits:

# %%
for order, cells in ((1, (8, 16, 32)), (2, (4, 8, 16))):
    folds = []
    for n in cells:
        Vn = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=order)
        br = fk.continuation(Vn, bratu, lam=(0.0, 7.0), ds=1.0, max_norm=1.6, progress=False)
        folds.append(br.fold)
        print(f"Q{order} {n:3d} cells: fold {br.fold:.8f}, error {br.fold - LAMBDA_C_DIGITS:.2e}")
    errors = np.array(folds) - LAMBDA_C_DIGITS
    rate = np.log2(errors[-2] / errors[-1])
    # differences of consecutive folds need no reference value
    self_rate = np.log2((folds[0] - folds[1]) / (folds[1] - folds[2]))
    # Richardson extrapolation with the expected rate
    extrapolated = folds[2] - (folds[1] - folds[2]) / (2 ** (2 * order) - 1)
    print(
        f"Q{order}: fold converges at rate {rate:.2f} (self-convergence {self_rate:.2f}, "
        f"expected {2 * order}); extrapolated fold {extrapolated:.7f}"
    )

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
branch.plot(ax=axes[0], reference=LAMBDA_C, title="Bratu branch (Q2)")
low.plot(ax=axes[1], title="λ = 5, lower solution", label="u")
high.plot(ax=axes[2], title="λ = 5, upper solution", label="u")
save_figure(fig, "bratu")
