# %% [markdown]
# # Monte Carlo with a random coefficient
#
# `-∇·(κ∇u) = 1` on the unit square, `u = 0` on the boundary, with a log-normal
# conductivity `κ = exp(g)`: `g` a Matérn Gaussian random field (smoothness ν = 1,
# correlation length 0.2, standard deviation 0.5). `fk.random_field` samples `g` exactly by the
# SPDE route: the discrete eigenpairs of the 1D pencils give every sample from one
# fast-diagonalization apply. Each sample's Poisson problem is then solved by conjugate
# gradients preconditioned with fast diagonalization of a separable fit of κ.
#
# The field is made with periodic conditions, so its variance is the same everywhere (natural
# conditions would double it on the boundary). We estimate the mean and standard deviation of
# `u` and of the compliance `J = ∫ f u`, and check the estimates against what is known exactly:
#
# * `E[κ] = exp(σ²/2)` at every dof, with `σ²` the exact discrete variance of `g`
#   (`fk.matern_variance`);
# * the discrete compliance `J(κ) = bᵀA(κ)⁻¹b` is convex in κ and concave in 1/κ (it is a
#   maximum of functions linear in κ and a minimum of functions linear in 1/κ), so by Jensen's
#   inequality, for Q1 (whose interpolant has at most the largest dof variance `σ²_max` at any
#   point), `J₁ e^{−σ²_max/2} ≤ E[J] ≤ J₁ e^{σ²_max/2}`, with `J₁` the compliance of κ = 1.
#   These are the arithmetic/harmonic (Voigt–Reuss) bounds of homogenisation.

# %%
import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure
from tqdm.auto import tqdm

import femkron as fk

cells, samples = (16, 40) if SMALL else (48, 400)
length, smoothness, sigma = 0.2, 1.0, 0.5
V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=cells, order=1)
var = fk.matern_variance(V, length, smoothness, std=sigma, boundary="periodic")
print(
    f"log κ: Matérn ν = {smoothness}, length {length}, std {sigma} (periodic); exact discrete "
    f"variance at the dofs {var.min():.4f} to {var.max():.4f}"
)

# %%
fields = fk.random_field(
    V,
    length,
    smoothness,
    std=sigma,
    seed=2024,
    transform=np.exp,
    samples=samples,
    boundary="periodic",
)
b = fk.load_vector(V, 1.0)
total = np.zeros(V.shape)
total_sq = np.zeros(V.shape)
J, kappa_mean, iterations = [], [], []
for kappa in tqdm(fields, desc="Poisson solves"):
    sol = fk.poisson(V, 1.0, kappa=kappa)
    total += sol.values
    total_sq += sol.values**2
    J.append(float(b @ sol.vector))
    kappa_mean.append(float(kappa.values.mean()))
    iterations.append(sol.info.iterations)
mean_u = total / samples
std_u = np.sqrt(np.maximum(total_sq / samples - mean_u**2, 0.0) * samples / (samples - 1))
print(f"{samples} samples, {sol.info.method}: {np.mean(iterations):.1f} iterations per solve")

# %%
se = lambda x: np.std(x, ddof=1) / np.sqrt(len(x))
exact_kappa = float(np.exp(var / 2).mean())
print(
    f"mean of κ over the dofs: Monte Carlo {np.mean(kappa_mean):.5f} ± {se(kappa_mean):.5f} "
    f"(standard error), exact {exact_kappa:.5f}"
)
J1 = float(b @ fk.poisson(V, 1.0).vector)
lo, hi = J1 * np.exp(-var.max() / 2), J1 * np.exp(var.max() / 2)
print(
    f"compliance: Monte Carlo {np.mean(J):.6f} ± {se(J):.6f}; κ = 1: {J1:.6f}; "
    f"bounds {lo:.6f} to {hi:.6f}"
)
c = V.shape[0] // 2
print(f"u at the centre: mean {mean_u[c, c]:.5f}, standard deviation {std_u[c, c]:.5f}")
print(f"largest standard deviation of u: {std_u.max():.5f}")

# %% [markdown]
# In two dimensions the effective conductivity of an isotropic log-normal medium is the
# geometric mean of κ (Matheron), here 1: the mean compliance lands close to that of κ = 1,
# well inside the bounds.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
fk.plot.plot_function(
    V,
    fields[0].values,
    ax=axes[0],
    kind="pcolormesh",
    label="κ",
    cmap="cividis",
    title="one sample of κ = exp(g)",
)
fk.plot.plot_function(V, mean_u, ax=axes[1], label="mean of u", title="mean of u")
fk.plot.plot_function(
    V, std_u, ax=axes[2], label="std of u", cmap="magma", title="standard deviation of u"
)
save_figure(fig, "monte_carlo")
