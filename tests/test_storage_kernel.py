"""The compiled thermal-storage kernel against a plain-Python transcription of the module docstring.

``sim.behavior.storage`` plans each customer's day in one compiled loop. The reference
below follows the module docstring step by step in plain Python, one customer at a time,
with none of the kernel's shortcuts (the plan's maximum runs over every charge step, not
only over each level's last; the dearer serve steps are counted by brute force; sorting is
Python's ``sorted``), in the same order of floating-point operations: the results must be
equal bit for bit. Further tests check that a customer's result does not depend on how its
prices came (shared, grouped, per customer) nor on the other rows of the block.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sim.rowmath import RowGroups

from .conftest import dispatch_call, store_call

HOURS = np.arange(24)
TOU = np.where((HOURS >= 23) | (HOURS < 8), 0.30, np.where((HOURS >= 17) & (HOURS < 22), 0.72, 0.52))


def reference_day(load, q, p, share, capacity, power, eta, loss, soc0, h):
    """One customer's day as the module docstring states it, in plain Python floats."""
    spd = len(p)
    share = min(max(share, 0.0), 1.0)
    capacity = max(capacity, 0.0)
    power = max(power, 0.0)
    soc0 = min(max(soc0, 0.0), capacity)
    cap = capacity / h
    e = eta * power
    # 1. Plan: dearest serving paired with cheapest charging.
    serve = sorted(range(spd), key=lambda t: (-p[t], t))
    charge = sorted(range(spd), key=lambda t: (q[t], t))
    cum = list(itertools.accumulate(min(load[t] * share, power) for t in serve))
    best = -np.inf
    for j, t in enumerate(charge):
        dearer = sum(1 for s in serve if p[s] > q[t] / eta)
        pair = cum[dearer - 1] if dearer else 0.0
        best = max(best, min(pair, e * (j + 1.0)))
    plan = max(min(best, cap), 0.0)
    dis = [0.0] * spd
    prev = 0.0
    for k, t in enumerate(serve):
        c = min(cum[k], plan)
        dis[t] = c if k == 0 else c - prev
        prev = c
    rank = {t: k for k, t in enumerate(charge)}
    chg = [min(max(plan - e * rank[t], 0.0), e) for t in range(spd)]
    # 2. Feasible in time order: running minimum, then running maximum.
    soc = [s + soc0 / h for s in itertools.accumulate(chg[t] - dis[t] for t in range(spd))]
    if min(soc) < 0:
        withheld = [-min(m, 0.0) for m in itertools.accumulate(soc, min)]
        soc = [s + w for s, w in zip(soc, withheld)]
        dis = [dis[t] - withheld[t] + (withheld[t - 1] if t else 0.0) for t in range(spd)]
    if max(soc) > cap:
        cut = [max(m, 0.0) for m in itertools.accumulate((s - cap for s in soc), max)]
        soc = [s - u for s, u in zip(soc, cut)]
        chg = [chg[t] - cut[t] + (cut[t - 1] if t else 0.0) for t in range(spd)]
    dis = [max(d, 0.0) for d in dis]
    chg = [max(c, 0.0) for c in chg]
    # 3. Outputs, and the standing loss at the end of the day.
    main = [max(load[t] - dis[t], 0.0) for t in range(spd)]
    return main, [c / eta for c in chg], max(soc[-1], 0.0) * h * float((1.0 - loss) ** (spd * h))


def block(seed: int, n: int, spd: int, kind: str):
    """Random customers with edge cases mixed in, and prices of one kind."""
    rng = np.random.default_rng(seed)
    h = 24.0 / spd
    load = rng.gamma(rng.choice([0.5, 2.0]), 5.0, (n, spd))
    load[rng.random((n, spd)) < 0.2] = 0.0
    load[0] = 0.0                                                      # no load at all
    share = rng.uniform(-0.2, 1.2, n)                                  # clipped to [0, 1]
    capacity = rng.choice([0.0, 5.0, 40.0, 400.0], size=n) * rng.uniform(0.5, 1.5, n)
    power = rng.choice([0.0, 2.0, 10.0, 50.0], size=n)
    eff = rng.choice([1.0, 0.9, 0.5], size=n)
    loss = rng.choice([0.0, 0.005, 0.05], size=n)
    soc0 = capacity * rng.choice([0.0, 0.3, 1.0, 1.2], size=n)        # full, and above full (clipped)
    tou = np.interp(np.arange(spd) * h, HOURS, TOU)
    if kind == "shared-tou":
        charge, serve = tou * 0.8, tou
    elif kind == "flat":
        charge = serve = np.full(spd, 0.5)
    elif kind == "rows-few":
        rows = np.stack([tou, tou * 1.1, np.full(spd, 0.5)])
        serve = rows[rng.integers(0, 3, n)]
        charge = serve[:, ::-1] * 0.7
    elif kind == "rows-rtp":
        serve = np.round(rng.uniform(-0.1, 1.2, (n, spd)), 2)          # ties, and negative prices
        charge = np.round(rng.uniform(-0.1, 1.2, (n, spd)), 2)
    else:                                                              # shared charge, per-customer serve
        charge = rng.choice([0.1, 0.25, 0.5, 0.9], size=spd)
        serve = rng.choice([0.1, 0.25, 0.5, 0.9], size=(n, spd))
    return load, charge, serve, share, capacity, power, eff, loss, soc0, h


KINDS = ["shared-tou", "flat", "rows-few", "rows-rtp", "mixed"]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spd", [24, 96])
def test_kernel_equals_docstring_reference_bit_for_bit(seed, kind, spd):
    """Every customer's main load, charge and end state equal the plain-Python reference exactly."""
    case = block(seed, 12, spd, kind)
    load, charge, serve = case[:3]
    main, charge_kw, soc_end = store_call(*case)
    for i in range(load.shape[0]):
        q = charge if charge.ndim == 1 else charge[i]
        p = serve if serve.ndim == 1 else serve[i]
        ref = reference_day(load[i].tolist(), q.tolist(), p.tolist(), *(float(a[i]) for a in case[3:9]), case[9])
        assert_array_equal(main[i], ref[0])
        assert_array_equal(charge_kw[i], ref[1])
        assert_array_equal(soc_end[i], ref[2])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", KINDS)
def test_result_independent_of_price_layout_and_block(seed, kind):
    """A customer's result is the same bits with its prices shared, grouped (given or found) or
    per customer (each row sorted for itself), and in any order or subset of the block."""
    case = block(seed, 40, 24, kind)
    load, charge, serve = case[:3]
    n = load.shape[0]
    args = case[3:]
    got = store_call(*case)
    full = [np.broadcast_to(x, (n, x.shape[-1])).copy() for x in (charge, serve)]
    # every customer's own row, sorted per customer
    own = dispatch_call(load, *full, *(np.clip(args[0], 0, 1), np.maximum(args[1], 0),
                                           np.maximum(args[2], 0), args[3], args[4],
                                           np.clip(args[5], 0, np.maximum(args[1], 0)), args[6]))
    # every row its own group (more groups than group_rows forms)
    each = store_call(load, *full, *args, groups=RowGroups(np.arange(n), np.arange(n)))
    # a shuffled block, and single customers
    perm = np.random.default_rng(seed).permutation(n)
    shuffled = store_call(load[perm], *(x[perm] for x in full), *(a[perm] for a in args[:-1]), args[-1])
    for k in range(3):
        assert_array_equal(got[k], own[k])
        assert_array_equal(got[k], each[k])
        assert_array_equal(got[k][perm], shuffled[k])
    for i in (0, n // 2, n - 1):
        one = store_call(load[i:i + 1], full[0][i], full[1][i], *(a[i:i + 1] for a in args[:-1]),
                                       args[-1])
        for k in range(3):
            assert_array_equal(got[k][i], one[k][0])


def test_empty_block():
    """No customers (shared prices): empty outputs of the right shapes."""
    z = np.zeros(0)
    main, charge, soc_end = store_call(np.zeros((0, 24)), TOU, TOU, z, z, z, z, z, z, 1.0)
    assert main.shape == charge.shape == (0, 24) and soc_end.shape == (0,)
