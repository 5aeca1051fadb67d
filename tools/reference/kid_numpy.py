#!/usr/bin/env python3
"""Independent reference for scoreflow's Kernel Inception Distance (io.scoreflow.eval), written
as torch-fidelity computes KID (torch_fidelity/metric_kid.py), vectorised in numpy: the cubic
polynomial kernel k(x, y) = (x.y / d + 1)^3 on whole Gram matrices and the unbiased MMD^2 from
their row sums less the diagonals, averaged over subsets; kid_std is numpy's std (ddof = 0).

The features are those of fd_scipy.py (its SplitMix64 stream, imported, not copied). The subsets
are drawn as scoreflow documents it, so both sides take the same rows: the stream of
io.scoreflow.math.KeyedRandom.of(seed) (SplitMix64 from a hash of the seed), for each subset M
rows of the first set then M of the second, each by a partial Fisher-Yates shuffle of a fresh
identity permutation with nextInt's rejection sampling. torch-fidelity draws them with
numpy.random.RandomState.choice instead, which changes the rows but not the estimator.

    python3 tools/reference/kid_numpy.py > common/src/test/resources/reference/kid_numpy.json
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fd_scipy import MASK, SplitMix64, features  # noqa: E402

GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def keyed_stream(*keys):
    """KeyedRandom.of(keys): the SplitMix64 stream started at KeyedRandom.hash(keys)."""
    h = 0x243F6A8885A308D3
    for key in keys:
        h = mix(h ^ mix((key + GOLDEN) & MASK))
        h = (h + GOLDEN) & MASK
    return SplitMix64(mix(h))


def next_int(g, bound):
    """KeyedRandom.nextInt: the top 31 bits, rejecting the short last interval."""
    limit = (1 << 31) - ((1 << 31) % bound)
    while True:
        r = g.next_long() >> 33
        if r < limit:
            return r % bound


def subset(g, n, m):
    p = list(range(n))
    for j in range(m):
        r = j + next_int(g, n - j)
        p[j], p[r] = p[r], p[j]
    return np.array(p[:m])


def polynomial_kernel(x, y):
    # torch-fidelity: gamma = 1 / d, coef0 = 1, degree = 3.
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """torch-fidelity's mmd2(..., mmd_est='unbiased') generalised to different sizes n, m."""
    k_xx, k_xy, k_yy = polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y)
    n, m = k_xx.shape[0], k_yy.shape[0]
    kt_xx_sum = (k_xx.sum(axis=1) - np.diagonal(k_xx)).sum()
    kt_yy_sum = (k_yy.sum(axis=1) - np.diagonal(k_yy)).sum()
    k_xy_sum = k_xy.sum(axis=0).sum()
    return float(kt_xx_sum / (n * (n - 1)) + kt_yy_sum / (m * (m - 1)) - 2 * k_xy_sum / (n * m))


def kid(xa, xb, subset_size, subsets, seed):
    m = min(subset_size, xa.shape[0], xb.shape[0])
    g = keyed_stream(seed)
    mmds = np.zeros(subsets)
    for i in range(subsets):
        ia = subset(g, xa.shape[0], m)
        ib = subset(g, xb.shape[0], m)
        mmds[i] = mmd2_unbiased(xa[ia], xb[ib])
    return float(mmds.mean()), float(mmds.std()), m, [int(v) for v in subset(keyed_stream(seed), xa.shape[0], m)[:5]]


SPEC = ["seed", "rows", "cols", "offset", "scale"]

# (name, features a, features b): (seed, rows, cols, offset, scale) as in fd_scipy.py
MMD_CASES = [
    ("200x16-vs-150x16", (21, 200, 16, 0.0, 1.0), (22, 150, 16, 0.3, 1.3)),
    ("300x8-same-size", (23, 300, 8, 0.5, 0.7), (24, 300, 8, 0.5, 0.9)),
    ("64x64-same-law", (25, 64, 64, 0.0, 1.0), (25, 64, 64, 0.0, 1.0)),
]

# (name, a, b, subset_size, subsets, seed)
KID_CASES = [
    ("120x16-vs-90x16-m50-k7", (31, 120, 16, 0.0, 1.0), (32, 90, 16, 0.2, 1.5), 50, 7, 3),
    ("80x32-vs-60x32-capped", (33, 80, 32, 1.0, 0.5), (34, 60, 32, 0.8, 0.6), 1000, 4, 11),
]


def main():
    mmd_out = []
    for name, a, b in MMD_CASES:
        mmd_out.append(
            {
                "name": name,
                "a": dict(zip(SPEC, a)),
                "b": dict(zip(SPEC, b)),
                "mmd2": mmd2_unbiased(features(*a), features(*b)),
            }
        )
    kid_out = []
    for name, a, b, size, count, seed in KID_CASES:
        value, std, m, first = kid(features(*a), features(*b), size, count, seed)
        kid_out.append(
            {
                "name": name,
                "a": dict(zip(SPEC, a)),
                "b": dict(zip(SPEC, b)),
                "subset_size": size,
                "subsets": count,
                "seed": seed,
                "kid": value,
                "kid_std": std,
                "subset_size_used": m,
                "first_rows_a": first,
            }
        )
    json.dump(
        {"generator": "splitmix64", "numpy": np.__version__, "mmd2": mmd_out, "kid": kid_out},
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
