#!/usr/bin/env python3
"""Fits the polynomial R of kernels/vmath/vmath_impl.h's ErfcCore (standard library only).

erfc(z) = t exp(-z^2) R(t),  t = 1 / (1 + z/2),  R a polynomial in u = (t - c) / h,
where [c - h, c + h] = [t(4.3), 1] covers z in [0, 4.3]. The fit minimises the relative error in
least squares over Chebyshev nodes (Householder QR in double), which lands within a small factor
of the minimax error. The script prints, for each degree, the relative error in exact arithmetic
and when evaluated step by step in float32 (as the kernel does), then the chosen coefficients
highest power first, ready for Horner<T>.

  python3 tools/fit_erfc.py [--degree=9] [--z_max=4.3]
"""
import argparse
import math
import struct


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def target(t):
    """R(t) = erfc(z) exp(z^2) / t for the z with t = 1 / (1 + z/2)."""
    z = 2.0 * (1.0 / t - 1.0)
    return math.erfc(z) * math.exp(z * z) / t


def least_squares(rows, rhs):
    """Solves min |rows x - rhs| by Householder QR."""
    m, n = len(rows), len(rows[0])
    a = [r[:] for r in rows]
    b = rhs[:]
    for k in range(n):
        norm = math.sqrt(sum(a[i][k] ** 2 for i in range(k, m)))
        if a[k][k] > 0:
            norm = -norm
        v = [0.0] * m
        v[k] = a[k][k] - norm
        for i in range(k + 1, m):
            v[i] = a[i][k]
        vv = sum(x * x for x in v[k:])
        for j in range(k, n):
            s = sum(v[i] * a[i][j] for i in range(k, m)) * 2 / vv
            for i in range(k, m):
                a[i][j] -= s * v[i]
        s = sum(v[i] * b[i] for i in range(k, m)) * 2 / vv
        for i in range(k, m):
            b[i] -= s * v[i]
    x = [0.0] * n
    for k in range(n - 1, -1, -1):
        x[k] = (b[k] - sum(a[k][j] * x[j] for j in range(k + 1, n))) / a[k][k]
    return x


def fit(degree, t_lo, nodes=600):
    c, h = (1 + t_lo) / 2, (1 - t_lo) / 2
    rows, rhs = [], []
    for k in range(nodes):
        u = math.cos(math.pi * (k + 0.5) / nodes)
        y = target(c + h * u)
        rows.append([u ** j / y for j in range(degree + 1)])  # relative weighting
        rhs.append(1.0)
    return c, h, least_squares(rows, rhs)


def errors(c, h, coef, t_lo, samples=4000):
    exact_worst = float_worst = 0.0
    inv_h, c_over_h = f32(1 / h), f32(c / h)
    for k in range(samples + 1):
        t = t_lo + (1 - t_lo) * k / samples
        y = target(t)
        u = (t - c) / h
        exact_worst = max(exact_worst, abs(sum(a * u ** j for j, a in enumerate(coef)) / y - 1))
        uf = f32(f32(t) * inv_h - c_over_h)  # one FMA in the kernel
        p = f32(coef[-1])
        for a in reversed(coef[:-1]):
            p = f32(p * uf + f32(a))
        float_worst = max(float_worst, abs(p / y - 1))
    return exact_worst, float_worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degree", type=int, default=9)
    parser.add_argument("--z_max", type=float, default=4.3)
    args = parser.parse_args()
    if args.degree < 1 or args.z_max <= 0:
        parser.error("--degree must be >= 1 and --z_max > 0")
    t_lo = 1 / (1 + 0.5 * args.z_max)
    for degree in range(max(1, args.degree - 2), args.degree + 1):
        c, h, coef = fit(degree, t_lo)
        exact, in_float = errors(c, h, coef, t_lo)
        print(f"degree {degree}: relative error {exact:.2e} exact, {in_float:.2e} in float32")
    print(f"u = t * {1 / h:.10e} - {c / h:.10e}")
    print("R, highest power first:")
    print(",\n".join(f"{a:.9e}f" for a in reversed(coef)))


if __name__ == "__main__":
    main()
