#!/usr/bin/env python3
"""Independent high-precision reference for `scoreflow theory w2` and `theory complexity`.

Written from DESIGN.md's definitions directly (sigma^2 and beta forms, no expm1 rewrites), evaluated
with mpmath at 60 significant digits, so that cancellation and rounding play no role. a2 of every
schedule is also checked against mpmath quadrature of its defining integral. Run offline:

    python3 tools/reference/w2_mpmath.py > common/src/test/resources/reference/w2_mpmath.json
"""
import json
import mpmath as mp

mp.mp.dps = 60


def vp(beta, B):
    f = lambda t: beta(t) / 2
    g = lambda t: mp.sqrt(beta(t))
    a1 = lambda t: mp.e ** (-B(t) / 2)
    a2 = lambda t: 1 - mp.e ** (-B(t))
    return f, g, a1, a2


def ve(sig2, dsig2):
    return (lambda t: mp.mpf(0)), (lambda t: mp.sqrt(dsig2(t))), (lambda t: mp.mpf(1)), (
        lambda t: sig2(t) - sig2(0))


def make(name, p):
    P = {k: mp.mpf(v) for k, v in p.items()}
    if name == "vp-linear":
        b0, b1 = P["beta-min"], P["beta-max"]
        return vp(lambda t: b0 + (b1 - b0) * t, lambda t: b0 * t + (b1 - b0) * t * t / 2)
    if name == "vp-constant":
        b = P["beta"]
        return vp(lambda t: b, lambda t: b * t)
    if name == "vp-poly":
        rho = P["rho"]
        b = P["beta-min"] ** (1 / rho)
        a = P["beta-max"] ** (1 / rho) - b
        return vp(lambda t: (b + a * t) ** rho,
                  lambda t: ((b + a * t) ** (rho + 1) - b ** (rho + 1)) / (a * (rho + 1)))
    if name == "vp-exp":
        b0, b1 = P["beta-min"], P["beta-max"]
        r = b1 / b0
        return vp(lambda t: b0 * r ** t, lambda t: b0 * (r ** t - 1) / mp.log(r))
    if name == "ve-exp":
        s0, s1 = P["sigma-min"], P["sigma-max"]
        sig2 = lambda t: (s0 * (s1 / s0) ** t) ** 2
        return ve(sig2, lambda t: 2 * mp.log(s1 / s0) * sig2(t))
    if name == "ve-constant":
        s0, s1 = P["sigma-min"], P["sigma-max"]
        return ve(lambda t: s0 ** 2 + (s1 ** 2 - s0 ** 2) * t, lambda t: s1 ** 2 - s0 ** 2)
    if name == "ve-sqrt":
        s0, s1 = P["sigma-min"], P["sigma-max"]
        c = s1 ** 2 - s0 ** 2
        return ve(lambda t: s0 ** 2 + c * t * t, lambda t: 2 * c * t)
    if name == "ve-poly":
        s0, s1, rho = P["sigma-min"], P["sigma-max"], P["rho"]
        b = s0 ** (1 / rho)
        a = s1 ** (1 / rho) - b
        return ve(lambda t: (b + a * t) ** (2 * rho), lambda t: 2 * rho * a * (b + a * t) ** (2 * rho - 1))
    raise ValueError(name)


def check_a2_by_quadrature(f, g, a2, T):
    """a2(t) = int_0^t exp(-2 int_s^t f) g(s)^2 ds, by mpmath quadrature, at a few t."""
    mp.mp.dps = 30
    try:
        for t in (T / 7, T / 2, T):
            t = mp.mpf(t)
            F = lambda s: mp.quad(f, [s, t])
            q = mp.quad(lambda s: mp.e ** (-2 * F(s)) * g(s) ** 2, [0, t])
            assert abs(q - a2(t)) <= mp.mpf("1e-20") * abs(q), (q, a2(t))
    finally:
        mp.mp.dps = 60


def w2(name, p, T, K, D, M, S):
    f, g, a1, a2 = make(name, p)
    T, M, S = mp.mpf(T), mp.mpf(M), mp.mpf(S)
    eta = T / K
    mean, var = mp.mpf(0), a2(T)
    for k in range(K):
        s = T - k * eta
        v = a1(s) ** 2 * S ** 2 + a2(s)
        gg = g(s) ** 2
        c = 1 + eta * f(s) - eta * gg / v
        mean = c * mean + eta * gg * a1(s) * M / v
        var = c * c * var + eta * gg
    std = mp.sqrt(var)
    return mp.sqrt(D) * mp.sqrt((mean - M) ** 2 + (std - S) ** 2), mean, std


DEFAULTS = {
    "vp-linear": {"beta-min": 0.1, "beta-max": 20},
    "vp-constant": {"beta": 5.05},
    "vp-poly": {"beta-min": 0.1, "beta-max": 20, "rho": 5},
    "vp-exp": {"beta-min": 0.1, "beta-max": 20},
    "ve-exp": {"sigma-min": 0.01, "sigma-max": 50},
    "ve-constant": {"sigma-min": 0.01, "sigma-max": 50},
    "ve-sqrt": {"sigma-min": 0.01, "sigma-max": 50},
    "ve-poly": {"sigma-min": 0.01, "sigma-max": 50, "rho": 10},
}

CASES = []
for name, p in DEFAULTS.items():
    CASES.append((name, p, 1.0, 100, 8, 1.0, 0.5))
    CASES.append((name, p, 1.0, 1000, 3072, -0.3, 2.0))
    CASES.append((name, p, 1.0, 17, 1, 0.0, 1.0))
CASES += [
    ("vp-poly", {"beta-min": 0.1, "beta-max": 20, "rho": 3}, 1.0, 250, 16, 0.5, 0.25),
    ("vp-linear", {"beta-min": 0.5, "beta-max": 4}, 2.5, 400, 8, 2.0, 0.1),
    ("ve-exp", {"sigma-min": 0.002, "sigma-max": 80}, 1.5, 300, 4, 1.0, 0.3),
    ("ve-poly", {"sigma-min": 0.05, "sigma-max": 5, "rho": 2.5}, 1.0, 64, 2, 0.0, 0.0),
]


def complexity(name, p, d, eps):
    d, eps = mp.mpf(d), mp.mpf(eps)
    L = mp.log(d / eps)
    if name == "ve-exp":
        return 1, d * L / eps ** 2
    if name == "ve-constant":
        return 2, d ** 1.5 * L / eps ** 3
    if name == "ve-sqrt":
        return 3, d ** mp.mpf(1.25) / eps ** mp.mpf(2.5)
    if name == "ve-poly":
        c = mp.mpf(p["rho"]) - mp.mpf(1) / 2
        return 4, d ** (1 / (2 * (2 * c + 1)) + 1) / eps ** (1 / (2 * c + 1) + 2)
    if name == "vp-constant":
        return 5, d * L / eps ** 2
    if name == "vp-linear":
        return 6, d * mp.sqrt(L) / eps ** 2
    if name == "vp-poly":
        return 7, d * L ** (1 / (mp.mpf(p["rho"]) + 1)) / eps ** 2
    if name == "vp-exp":
        return 8, d * mp.log(L) / eps ** 2
    raise ValueError(name)


def main():
    for name, p in DEFAULTS.items():
        f, g, a1, a2 = make(name, p)
        check_a2_by_quadrature(f, g, a2, 1.0)
    out = {"w2": [], "complexity": []}
    for name, p, T, K, D, M, S in CASES:
        value, mean, std = w2(name, p, T, K, D, M, S)
        out["w2"].append({"sde": name, "params": p, "T": T, "steps": K, "dim": D, "data_mean": M,
                          "data_std": S, "w2": mp.nstr(value, 25), "mean": mp.nstr(mean, 25),
                          "std": mp.nstr(std, 25)})
    for name, p in DEFAULTS.items():
        for d, eps in ((3072, 0.1), (2, 0.05), (100, 1e-3)):
            row, k = complexity(name, p, d, eps)
            out["complexity"].append({"sde": name, "params": p, "dim": d, "eps": eps, "row": row,
                                      "K": mp.nstr(k, 25)})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
