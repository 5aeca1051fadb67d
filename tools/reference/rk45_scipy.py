#!/usr/bin/env python3
"""Independent reference for scoreflow's adaptive RK45 (io.scoreflow.math.DormandPrince): scipy's
solve_ivp(method="RK45"), the integrator score_sde's ODE sampler and likelihood call, on fixed
ODEs whose right-hand sides DormandPrinceTest.java evaluates the same way. For each case and
tolerance it records scipy's number of evaluations (nfev), accepted steps and the end state, so the
Java test checks the same step-size controller and first-step selection, not just the accuracy.

    python3 tools/reference/rk45_scipy.py > common/src/test/resources/reference/rk45_scipy.json
"""
import json

import numpy as np
from scipy.integrate import solve_ivp

# name -> (f(t, y), t0, t1, y0); y is a 1-D vector
CASES = {
    # y' = y cos t, y = exp(sin t)
    "exp_sin": (lambda t, y: y * np.cos(t), 0.0, 3.0, [1.0]),
    # a damped rotation run backwards in time, y = e^{-(t-2)} R(-2 (t-2)) y0 ... integrated from 2 to 0.1
    "rotation_backward": (
        lambda t, y: np.array([-y[0] + 2 * y[1], -2 * y[0] - y[1]]),
        2.0,
        0.1,
        [1.0, -0.5],
    ),
    # stiff-ish linear decay with a time-dependent rate, 3 components
    "decay3": (
        lambda t, y: -np.array([1.0, 10.0, 30.0]) * (1 + t) * y,
        0.0,
        1.0,
        [1.0, 2.0, -3.0],
    ),
}

out = []
for name, (f, t0, t1, y0) in CASES.items():
    for tol in (1e-3, 1e-5, 1e-7):
        s = solve_ivp(f, (t0, t1), np.array(y0, dtype=np.float64), method="RK45", rtol=tol, atol=tol)
        assert s.success, s.message
        out.append(
            {
                "case": name,
                "rtol": tol,
                "atol": tol,
                "nfev": int(s.nfev),
                "accepted": int(len(s.t) - 1),
                "y_end": s.y[:, -1].tolist(),
            }
        )
print(json.dumps({"scipy": __import__("scipy").__version__, "cases": out}, indent=1))
