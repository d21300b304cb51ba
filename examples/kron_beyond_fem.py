# %% [markdown]
# # Kronecker algebra beyond finite elements
#
# `fk.KronOperator` is plain Kronecker algebra: a sum of products `A1 ⊗ A2 ⊗ …` kept as its
# factors and applied by axis-wise products, `(A ⊗ B) vec(U) = vec(A U Bᵀ)`, without ever
# forming the big matrix. Three classic uses:
#
# 1. a separable 2D filter (a Gaussian blur is `G ⊗ G` with a 1D banded `G`),
# 2. tensor grids (coordinates of a 3D grid are Kronecker products with vectors of ones),
# 3. multi-qubit operators (gates and Hamiltonians on `n` qubits are sums of products of
#    2 × 2 matrices).
#
# Each result is checked, at every size the script runs at, against a direct computation
# (a 2D convolution, `numpy.meshgrid`, amplitude arithmetic), and where the matrix is small
# enough also against the dense `numpy.kron` product; the checks print their verdict.

# %%
import functools

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from example_setup import SMALL, save_figure
from scipy import ndimage

import femkron as fk

# %% [markdown]
# ## 1. Separable Gaussian filter

# %%
n = 96 if SMALL else 256
rng = np.random.default_rng(0)
image = np.zeros((n, n))
image[n // 4 : n // 2, n // 4 : 3 * n // 4] = 1.0  # a bright rectangle
image[n // 2 :, n // 2 - n // 16 : n // 2 + n // 16] = 0.6
image += 0.3 * rng.standard_normal((n, n))  # noise

sigma, radius = 2.0, 6
taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
taps /= taps.sum()
G = sp.diags(
    [np.full(n - abs(k), taps[k + radius]) for k in range(-radius, radius + 1)],
    list(range(-radius, radius + 1)),
    format="csr",
)  # 1D blur, zero padding
blur = fk.KronOperator.kron(G, G)  # the 2D blur: (n² × n²), never formed
smooth = (blur @ image.ravel()).reshape(n, n)

reference = ndimage.convolve(image, np.outer(taps, taps), mode="constant")
print(f"separable filter vs 2D convolution: max difference {np.abs(smooth - reference).max():.1e}")
print(
    f"stored: {G.nnz} entries of G instead of about {(2 * radius + 1) ** 2 * n * n} entries "
    "of the assembled n² × n² blur matrix"
)

# %% [markdown]
# ## 2. Tensor grids

# %%
x, y, z = np.array([0.0, 1.0, 2.0]), np.array([0.0, 10.0, 20.0, 30.0]), np.array([0.0, 100.0])
ones = [np.ones((len(v), 1)) for v in (x, y, z)]
col = [v.reshape(-1, 1) for v in (x, y, z)]
# x-coordinate of every grid point = (x ⊗ 1_y ⊗ 1_z) applied to the 1-vector [1]
X = fk.KronOperator.kron(col[0], ones[1], ones[2]) @ np.ones(1)
Y = fk.KronOperator.kron(ones[0], col[1], ones[2]) @ np.ones(1)
Z = fk.KronOperator.kron(ones[0], ones[1], col[2]) @ np.ones(1)
G3 = np.meshgrid(x, y, z, indexing="ij")  # femkron's ordering: indexing="ij", C order
same = all(np.array_equal(a, b.ravel()) for a, b in zip((X, Y, Z), G3))
print(f"Kronecker grid equals meshgrid(indexing='ij'): {same}")

# %% [markdown]
# ## 3. Multi-qubit operators
#
# A CNOT gate is `|0⟩⟨0| ⊗ I + |1⟩⟨1| ⊗ X`; a Hadamard on the first qubit is `H ⊗ I`.
# Together they make the Bell state `(|00⟩ + |11⟩)/√2` from `|00⟩`.

# %%
I2, Xp, Zp = np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]]), np.diag([1.0, -1.0])
H = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
P0, P1 = np.diag([1.0, 0.0]), np.diag([0.0, 1.0])
cnot = fk.KronOperator([(1.0, (P0, I2)), (1.0, (P1, Xp))])
ket00 = np.array([1.0, 0.0, 0.0, 0.0])
bell = cnot @ (fk.KronOperator.kron(H, I2) @ ket00)
print("Bell state amplitudes |00>, |01>, |10>, |11>:", np.round(bell, 4))
assert np.allclose(cnot.toarray(), np.kron(P0, I2) + np.kron(P1, Xp))

# a transverse-field Ising Hamiltonian on q qubits: Σ Z_i Z_{i+1} + g Σ X_i,
# 2q - 1 Kronecker terms of 2 × 2 factors; applied matrix-free to a 2^q vector
q = 10 if SMALL else 16
g = 0.7
terms = []
for i in range(q - 1):
    f = [I2] * q
    f[i], f[i + 1] = Zp, Zp
    terms.append((1.0, tuple(f)))
for i in range(q):
    f = [I2] * q
    f[i] = Xp
    terms.append((g, tuple(f)))
Hq = fk.KronOperator(terms)
psi = rng.standard_normal(2**q)
psi /= np.linalg.norm(psi)
energy = psi @ (Hq @ psi)
print(
    f"{q} qubits: H is {Hq.shape[0]} × {Hq.shape[1]} with {len(Hq.terms)} terms; "
    f"<psi|H|psi> = {energy:.4f}"
)
# checked at every size by a direct computation on psi seen as a 2 × 2 × … × 2 array (axis i
# is qubit i): Z_i Z_{i+1} multiplies each amplitude by ±1, X_i flips qubit i (reverses axis i)
T = psi.reshape((2,) * q)
sign = [np.array([1.0, -1.0]).reshape([2 if d == i else 1 for d in range(q)]) for i in range(q)]
direct = sum(T * sign[i] * sign[i + 1] for i in range(q - 1))
direct = direct + g * sum(np.flip(T, axis=i) for i in range(q))
same = np.allclose(direct.ravel(), Hq @ psi, rtol=0, atol=1e-12 * len(terms))
print(f"matrix-free product equals the direct computation (signs and bit flips): {same}")
if q <= 10:  # and against the dense 2^q × 2^q matrix where that is cheap
    dense = sum(c * functools.reduce(np.kron, f) for c, f in terms)
    same = np.allclose(dense @ psi, Hq @ psi, rtol=0, atol=1e-12 * len(terms))
    print(f"matrix-free product equals the dense numpy.kron product: {same}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
for a, img, title in zip(axes[:2], (image, smooth), ("noisy image", "G ⊗ G applied")):
    im = a.imshow(img, cmap="gray", vmin=-0.5, vmax=1.5)
    a.set_title(title, fontsize=12)
    a.set_xticks([])
    a.set_yticks([])
fig.colorbar(im, ax=axes[:2], shrink=0.85, label="intensity")
fig.get_layout_engine().set(wspace=0.12)
axes[2].bar(["|00⟩", "|01⟩", "|10⟩", "|11⟩"], bell**2, color="C0")
axes[2].set_ylim(0, 1)
axes[2].set_ylabel("probability", fontsize=11)
axes[2].set_title("CNOT (H ⊗ I) |00⟩", fontsize=12)
save_figure(fig, "kron_beyond_fem")
