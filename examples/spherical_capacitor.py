# %% [markdown]
# # The potential between two spheres
#
# A spherical capacitor: the inner sphere $r = a$ is held at the potential $V_0$, the outer
# sphere $r = b$ is grounded, and between them $\Delta u = 0$.  The exact potential is
# $u = a_0 + b_0 / r$ with $u(a) = V_0$, $u(b) = 0$, and the capacitance (with
# $\varepsilon = 1$) is $C = 4\pi a b / (b - a)$.
#
# In spherical coordinates $(r, \theta, \varphi)$ ($\theta$ from the $+z$ axis) the finite
# element stiffness is a Kronecker sum of weighted 1D matrices,
# $K_r[r^2] \otimes M_\theta[\sin\theta] \otimes M_\varphi + M_r \otimes K_\theta[\sin\theta]
# \otimes M_\varphi + M_r \otimes M_\theta[1/\sin\theta] \otimes K_\varphi$, and femkron
# solves it exactly by nested diagonalization: the periodic $\varphi$ axis by its
# eigenvectors, then one small $\theta$ pencil per $\varphi$-mode (the poles keep only the
# mode constant in $\varphi$), then banded radial solves.
#
# The capacitance comes from the energy: $C_h = u_h^T K u_h / V_0^2$.  The discrete
# potential minimises the energy over a subspace that holds the exact boundary values, so
# $C_h \ge C$, and the error is $O(h^{2p})$ — twice the rate of the potential itself.

# %%
import numpy as np
from example_setup import SMALL, save_figure

import femkron as fk

a, b, V0 = 0.5, 1.0, 1.0
C_exact = 4 * np.pi * a * b / (b - a)
levels = (4, 8) if SMALL else (8, 16)


def potential(r, theta, phi):
    return V0 * (1 / r - 1 / b) / (1 / a - 1 / b) + 0 * theta * phi


for p in (1, 2, 3):
    caps, hs = [], []
    for n in levels:
        # u does not depend on the angles: few angular cells hold it exactly
        S = fk.TensorSpace.spherical_shell(a, b, cells=(n, 2, 4), order=p)
        sol = fk.poisson(S, 0.0, bc={"inner": fk.Dirichlet(V0), "outer": fk.Dirichlet(0.0)})
        u = sol.values.ravel()
        C_h = float(u @ (fk.stiffness(S) @ u)) / V0**2
        caps.append(C_h)
        hs.append((b - a) / n)
        print(
            f"capacitor Q{p}, {n} radial cells: C_h = {C_h:.10f}, exact 4πab/(b-a) = "
            f"{C_exact:.10f}, rel. error {C_h / C_exact - 1:.2e}, "
            f"L2 error of u {sol.error(potential, 'L2'):.2e}"
        )
    rate = fk.convergence_rate(hs, [c - C_exact for c in caps])
    print(f"capacitor Q{p}: capacitance converges at rate {rate:.2f} (expected {2 * p})")

# %% [markdown]
# ## A charged sphere in a uniform field
#
# Now the inner sphere (potential $V_0$) sits in a uniform field $E_0$ along $z$.  The exact
# potential is $u = V_0 a / r - E_0 (r - a^3/r^2) \cos\theta$: it depends on $\theta$, so the
# poles $\theta = 0, \pi$ matter.  On the outer sphere the exact values are given.  The
# $L^2$ error converges at rate $p + 1$ and the $H^1$ seminorm at rate $p$.

# %%
E0 = 1.0


def field(r, theta, phi):
    return V0 * a / r - E0 * (r - a**3 / r**2) * np.cos(theta) + 0 * phi


grad = (  # ∂u/∂r, ∂u/∂θ, ∂u/∂φ: sol.error applies the metric itself
    lambda r, t, p: -V0 * a / r**2 - E0 * (1 + 2 * a**3 / r**3) * np.cos(t) + 0 * p,
    lambda r, t, p: E0 * (r - a**3 / r**2) * np.sin(t) + 0 * p,
    lambda r, t, p: 0 * r * t * p,
)
errors, hs = [], []
for n in levels:
    S = fk.TensorSpace.spherical_shell(a, b, cells=(n, 2 * n, 8), order=2)
    sol = fk.poisson(S, 0.0, bc={"inner": fk.Dirichlet(V0), "outer": fk.Dirichlet(field)})
    errors.append((sol.error(field, "L2"), sol.error(field, "H1", grad=grad)))
    hs.append((b - a) / n)
    print(
        f"field Q2, {S.ndofs} dofs ({sol.info.method}): L2 error {errors[-1][0]:.3e}, "
        f"H1 error {errors[-1][1]:.3e}"
    )
l2 = fk.convergence_rate(hs, [e[0] for e in errors])
h1 = fk.convergence_rate(hs, [e[1] for e in errors])
print(f"field Q2: L2 rate {l2:.2f} (expected 3), H1 rate {h1:.2f} (expected 2)")

# %% [markdown]
# The potential of the charged sphere in the field, on the equator and on the meridian
# $y = 0$ (drawn in physical coordinates: the field lines bend around the sphere).

# %%
axes = sol.plot(label="u", title="charged sphere in a uniform field: the potential u")
save_figure(axes[0].figure, "spherical_capacitor")
