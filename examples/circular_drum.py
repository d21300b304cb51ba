# %% [markdown]
# # The circular drum: Bessel zeros from a Kronecker sum in polar coordinates
#
# On the unit disk the vibration modes solve $-\Delta u = \lambda u$ with $u = 0$ on the
# rim.  In polar coordinates $(r, \theta)$ the finite element stiffness is still a short
# Kronecker sum of *weighted* 1D matrices, $K_r[r] \otimes M_\theta + M_r[1/r] \otimes
# K_\theta$, and the mass is $M_r[r] \otimes M_\theta$.  femkron diagonalizes the periodic
# $\theta$ axis once and solves one small radial eigenproblem per angular mode.
#
# The centre $r = 0$ is one point for every $\theta$: the conforming functions are constant
# in $\theta$ there.  In the $\theta$ eigenbasis the constant is the mode with eigenvalue 0,
# so that mode keeps its centre dof and every other mode vanishes at the centre (the
# *pole rule*); the divergent entry $\int \varphi_0^2 / r$ is never formed.
#
# The exact eigenvalues are $(j_{m,n}/R)^2$, $j_{m,n}$ the zeros of the Bessel functions
# $J_m$, double for $m \ge 1$ ($\cos m\theta$ and $\sin m\theta$).

# %%
from example_setup import SMALL, save_figure
from scipy.special import jn_zeros

import femkron as fk

R = 1.0
cells = (8, 32) if SMALL else (16, 64)
D = fk.TensorSpace.disk(radius=R, cells=cells, order=3)
w, v = fk.eigen(D, k=9)
pairs = sorted(
    ((z / R) ** 2, m, n + 1)
    for m in range(6)
    for n, z in enumerate(jn_zeros(m, 4))
    for _ in range(1 if m == 0 else 2)
)[:9]
for i, (lam, m, n) in enumerate(pairs):
    print(
        f"λ{i + 1}: {w[i]:12.6f}   exact (j_{m},{n}/R)² = {lam:12.6f}   rel. error "
        f"{w[i] / lam - 1:.1e}"
    )

# %% [markdown]
# The eigenvalue error of a conforming Galerkin method is $O(h^{2p})$: measured on the
# first eigenvalue $j_{0,1}^2$.

# %%
exact = jn_zeros(0, 1)[0] ** 2
for p in (1, 2, 3):
    errs, hs = [], []
    for n in (4, 8, 16):
        Dn = fk.TensorSpace.disk(radius=R, cells=(n, 4 * n), order=p)
        errs.append(fk.eigen(Dn, k=1)[0][0] - exact)
        hs.append(R / n)
    rate = fk.convergence_rate(hs[-2:], errs[-2:])
    print(f"Q{p}: λ1 converges at rate {rate:.2f} (expected {2 * p})")

# %% [markdown]
# The modes, drawn as functions on the disk (the periodic seam closed).

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 3, figsize=(11, 6.6), layout="constrained")
for i, ax in enumerate(axes.ravel()):
    lam, m, n = pairs[i]
    fk.plot.plot_function(
        D, v[:, i], ax=ax, label=f"u{i + 1}", title=f"λ{i + 1} = {w[i]:.4f}  (m={m}, n={n})"
    )
fig.suptitle("modes of the circular drum (Q3, polar coordinates)", fontsize=13)
save_figure(fig, "circular_drum")
