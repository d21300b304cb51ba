# %% [markdown]
# # Helmholtz: waves need enough points per wavelength
#
# `-Δu − k²u = f` is indefinite; with constant coefficients it is still a Kronecker sum
# (`K⊗M + M⊗K − k² M⊗M`), and fast diagonalization solves it exactly as long as `k²` is
# not an eigenvalue. Left: the field of a small source in a closed box (a cavity). Right: the
# error against a manufactured wave for orders 1, 2 and 4, as a function of the number of
# dofs per wavelength — higher order needs far fewer (the "pollution" of low order).

# %%


import matplotlib.pyplot as plt
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

K_WAVE = 15.0  # k² = 225 lies between the Dirichlet eigenvalues 20π² and 25π²


def exact(x, y):
    return np.sin(3 * np.pi * x) * np.sin(2 * np.pi * y)


def source(x, y):
    return (13 * np.pi**2 - K_WAVE**2) * exact(x, y)


curves = {}
for p in (1, 2, 4):
    pts, errs = [], []
    for n in [4, 8, 16, 32] if SMALL else [4, 8, 16, 32, 64, 128]:
        if n * p > 256:
            break
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=p)
        sol = fk.helmholtz(V, source, wavenumber=K_WAVE)
        wavelength = 2 * np.pi / K_WAVE
        pts.append(n * p * wavelength)  # dofs per wavelength along an axis
        errs.append(sol.error(exact) / 0.5)  # relative to ‖u‖ = 1/2
    curves[p] = (np.array(pts), np.array(errs))
    rate = np.log2(errs[-2] / errs[-1])  # the last two meshes: h and h/2
    print(
        f"Q{p}: relative L2 error {errs[-1]:.2e} at {pts[-1]:.0f} dofs per wavelength, "
        f"rate {rate:.2f} (expected {p + 1})"
    )

# a localized source: f = Gaussian bump, homogeneous Dirichlet walls
V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=24 if SMALL else 40, order=3)
k = 25.0  # k²/π² = 63.3, between the cavity eigenvalues 61π² and 65π²
field = fk.helmholtz(
    V, lambda x, y: 1e3 * np.exp(-2e3 * ((x - 0.3) ** 2 + (y - 0.6) ** 2)), wavenumber=k
)
print(field.info)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
field.plot(
    ax=axes[0], cmap="RdBu_r", label="u", title=f"small source in a closed cavity, k = {k:g}, Q3"
)
for p, (pts, errs) in curves.items():
    axes[1].loglog(pts, errs, "o-", label=f"Q{p}")
axes[1].set_xlabel("dofs per wavelength", fontsize=11)
axes[1].set_ylabel("relative L2 error", fontsize=11)
axes[1].set_title(f"manufactured wave, k = {K_WAVE:g}", fontsize=12)
axes[1].grid(True, which="both", alpha=0.3)
axes[1].xaxis.set_minor_formatter(plt.NullFormatter())
axes[1].legend()
save_figure(fig, "helmholtz")
