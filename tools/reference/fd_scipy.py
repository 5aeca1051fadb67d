#!/usr/bin/env python3
"""Independent reference for scoreflow's Fréchet distance (io.scoreflow.eval), computed as
pytorch-fid does: mu = mean(axis=0), sigma = np.cov(rowvar=False) (N-1 denominator), and
FD = |mu1-mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrtm(sigma1 @ sigma2)) with scipy.linalg.sqrtm
(a general, non-symmetric matrix square root: a different algorithm from scoreflow's symmetric
eigendecompositions).

Two modes:

    python3 tools/reference/fd_scipy.py cases > common/src/test/resources/reference/fd_scipy.json
        Fixed cases whose features come from a SplitMix64 stream that FdReference.java reproduces,
        so the Java tests check against these values even where python3/scipy is absent. Each case
        also carries fd_mpmath: the same FD at 40 digits (mpmath, symmetric eigendecompositions),
        the true value, which matters where sqrtm loses digits (rank-deficient covariances).

    python3 tools/reference/fd_scipy.py pair A.f8 B.f8 D
        FD between two raw little-endian float64 row-major files with D columns each (what the
        Java test writes for its live check); prints one JSON object.
"""
import json
import sys

import numpy as np
from scipy import linalg

MASK = (1 << 64) - 1


class SplitMix64:
    """The SplitMix64 generator; next_double() = (x >> 11) * 2^-53, exactly as Java computes it."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next_long(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_double(self):
        return (self.next_long() >> 11) * 2.0 ** -53

    def symmetric(self, count):
        """count values uniform on [-1, 1)."""
        return np.array([2.0 * self.next_double() - 1.0 for _ in range(count)])


def features(seed, n, d, offset, scale):
    """n x d features: u M + shift, u uniform on [-1,1)^d, M = scale (I + W/sqrt(d)),
    shift = offset * uniform on [-1,1)^d; drawn in the order M (row-major), shift, u (row-major)."""
    g = SplitMix64(seed)
    w = g.symmetric(d * d).reshape(d, d)
    m = scale * (np.eye(d) + w / np.sqrt(d))
    shift = offset * g.symmetric(d)
    u = g.symmetric(n * d).reshape(n, d)
    return u @ m + shift


def fd_mpmath(x1, x2, digits=40):
    """FD in mpmath at `digits` significant digits, through symmetric eigendecompositions (the
    true value, to compare methods when covariances are singular and sqrtm loses digits)."""
    import mpmath as mp

    mp.mp.dps = digits

    def fit(x):
        n, d = x.shape
        cols = [[mp.mpf(float(x[k, j])) for k in range(n)] for j in range(d)]
        mu = [mp.fsum(c) / n for c in cols]
        centred = [[v - mu[j] for v in cols[j]] for j in range(d)]
        cov = mp.matrix(d, d)
        for i in range(d):
            for j in range(i, d):
                cov[i, j] = cov[j, i] = mp.fsum(a * b for a, b in zip(centred[i], centred[j])) / (n - 1)
        return mu, cov

    mu1, s1 = fit(x1)
    mu2, s2 = fit(x2)
    lam, q = mp.eigsy(s1)
    root = q * mp.diag([mp.sqrt(max(v, 0)) for v in lam]) * q.T
    m = root * s2 * root
    tr = mp.fsum(mp.sqrt(max(v, 0)) for v in mp.eigsy((m + m.T) / 2, eigvals_only=True))
    d = len(mu1)
    return float(
        mp.fsum((mu1[i] - mu2[i]) ** 2 for i in range(d))
        + mp.fsum(s1[i, i] for i in range(d))
        + mp.fsum(s2[i, i] for i in range(d))
        - 2 * tr
    )


def fd(x1, x2):
    mu1, mu2 = x1.mean(axis=0), x2.mean(axis=0)
    s1, s2 = np.cov(x1, rowvar=False), np.cov(x2, rowvar=False)
    covmean = linalg.sqrtm(s1.dot(s2))
    if np.iscomplexobj(covmean):
        assert np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3), "imaginary component"
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# (name, features a, features b): (seed, rows, cols, offset, scale)
CASES = [
    ("500x64", (1, 500, 64, 0.0, 1.0), (2, 500, 64, 0.5, 1.5)),
    ("200x16", (3, 200, 16, 1.0, 0.5), (4, 200, 16, -0.25, 2.0)),
    ("300x8-vs-100x8", (5, 300, 8, 0.0, 1.0), (6, 100, 8, 2.0, 0.1)),
    ("10x32-rank-deficient", (7, 10, 32, 0.0, 1.0), (8, 40, 32, 0.3, 1.0)),
]


def cases():
    out = []
    for name, a, b in CASES:
        xa, xb = features(*a), features(*b)
        out.append(
            {
                "name": name,
                "a": dict(zip(["seed", "rows", "cols", "offset", "scale"], a)),
                "b": dict(zip(["seed", "rows", "cols", "offset", "scale"], b)),
                "fd": fd(xa, xb),
                "fd_mpmath": fd_mpmath(xa, xb),
                "mean_a_0": float(xa.mean(axis=0)[0]),
                "cov_a_00": float(np.cov(xa, rowvar=False)[0, 0]),
            }
        )
    json.dump({"generator": "splitmix64", "cases": out}, sys.stdout, indent=2)
    print()


def pair(file_a, file_b, d):
    xa = np.fromfile(file_a, dtype="<f8").reshape(-1, d)
    xb = np.fromfile(file_b, dtype="<f8").reshape(-1, d)
    print(json.dumps({"fd": fd(xa, xb), "scipy": __import__("scipy").__version__}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["cases"]:
        cases()
    elif sys.argv[1:2] == ["pair"] and len(sys.argv) == 5:
        pair(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
