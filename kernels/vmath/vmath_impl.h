// Vector exp, tanh, erf, erfc and sigmoid, written once over the vector traits of
// kernels/simd/vec.h and instantiated in each ISA's translation unit. The contract and the
// measured error bounds are in vmath.h; this file is the "how".
//
// Every function is branch-free: both halves of a piecewise approximation are evaluated and the
// lanes selected, so the cost does not depend on the data. NaN propagates through every path
// (the clamps are written Max(lo, Min(hi, x)), which lets a NaN in x through; see vec.h).
#ifndef KLAB_KERNELS_VMATH_VMATH_IMPL_H_
#define KLAB_KERNELS_VMATH_VMATH_IMPL_H_

#include <cfloat>
#include <cstddef>

#include "kernels/simd/vec.h"

namespace klab::kernels::vmath {
namespace {

// c[0] x^(N-1) + c[1] x^(N-2) + ... + c[N-1] by Horner's rule, one FMA per coefficient.
template <class T, size_t N>
typename T::V Horner(typename T::V x, const float (&c)[N]) {
  typename T::V p = T::Set1(c[0]);
  for (size_t i = 1; i < N; ++i) p = T::Fma(p, x, T::Set1(c[i]));
  return p;
}

// exp(x) = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2], ln 2 split in
// two (Cody-Waite: the high part has 9 significant bits, so n * ln2_hi is exact). e^r is
// 1 + r + r^2 P(r) with Cephes's degree-5 P. Inputs below -104 give +0 and above 89 give +inf
// (exp overflows float at 88.72); the clamp keeps n in [-150, 129] for Scale2. n is rounded by
// adding and subtracting 1.5 * 2^23 (one FMA, one subtraction: cheaper than a round
// instruction; exact for |x / ln 2| < 2^22). kNonPositive: the caller guarantees x <= 0 (or
// NaN), so the upper clamp is skipped.
template <class T, bool kNonPositive = false>
typename T::V Exp(typename T::V x) {
  using V = typename T::V;
  if constexpr (!kNonPositive) x = T::Min(T::Set1(89.0f), x);
  x = T::Max(T::Set1(-104.0f), x);
  constexpr float kRound = 0x1.8p23f;
  const V n = T::Sub(T::Fma(x, T::Set1(1.44269504088896341f), T::Set1(kRound)), T::Set1(kRound));
  V r = T::Fnma(n, T::Set1(0.693359375f), x);
  r = T::Fnma(n, T::Set1(-2.12194440e-4f), r);
  static constexpr float kCoeffs[] = {
      1.9875691500e-4f,
      1.3981999507e-3f,
      8.3334519073e-3f,
      4.1665795894e-2f,
      1.6666665459e-1f,
      5.0000001201e-1f};
  const V p = Horner<T>(r, kCoeffs);
  const V e_r = T::Add(T::Fma(p, T::Mul(r, r), r), T::Set1(1.0f));
  return T::Scale2(e_r, n);
}

// tanh: for |x| < 0.625 Cephes's odd polynomial x + x^3 P(x^2); above, (1 - e) / (1 + e) with
// e = exp(-2|x|) <= 0.29, so the subtraction loses nothing. |x| is capped at 10 (tanh rounds to
// 1 from 9.01 on) so e stays a normal number.
template <class T>
typename T::V Tanh(typename T::V x) {
  using V = typename T::V;
  const V a = T::Abs(x);
  const V z = T::Mul(a, a);
  static constexpr float kCoeffs[] = {
      -5.70498872745e-3f,
      2.06390887954e-2f,
      -5.37397155531e-2f,
      1.33314422036e-1f,
      -3.33332819422e-1f};
  const V p = Horner<T>(z, kCoeffs);
  const V small = T::Fma(T::Mul(p, z), a, a);
  const V e = Exp<T, true>(T::Mul(T::Set1(-2.0f), T::Min(T::Set1(10.0f), a)));
  const V large = T::Mul(T::Sub(T::Set1(1.0f), e), T::Recip(T::Add(T::Set1(1.0f), e)));
  return T::CopySign(T::Select(T::Lt(a, T::Set1(0.625f)), small, large), x);
}

// erfc(z) for z >= 0 as t exp(-z^2) R(t), t = 1 / (1 + z/2), with R a degree-9 polynomial in
// u = (t - c) / h fitted by tools/fit_erfc.py (least squares in relative error on z in [0, 4.3],
// t in [0.317, 1]: 8.6e-10 relative in exact arithmetic; it extrapolates to 1.2e-5 at z = 10.5,
// where erfc is below 2^-149 anyway). R stays within [0.39, 1] and the fit is centred, so Horner
// in float stays within about an ulp (the fit in the exponent of Numerical Recipes' erfcc summed
// terms of ~1.5 to ~0 and lost 7 ulp in float). The caller passes z^2 as an unevaluated sum
// hi + lo (lo from an FMA): exp(-hi) (1 - lo) keeps erfc relative-accurate where z^2 is large
// (rounding z^2 alone would cost z^2 2^-24 relative, 15 ulp at z = 4). z must be capped by the
// caller (10.5: erfc(10.5) < 2^-149).
template <class T>
typename T::V ErfcCore(typename T::V z, typename T::V z2_hi, typename T::V z2_lo) {
  using V = typename T::V;
  const V t = T::Recip(T::Fma(z, T::Set1(0.5f), T::Set1(1.0f)));
  const V u = T::Fms(t, T::Set1(2.9302325581e+00f), T::Set1(1.9302325581e+00f));
  static constexpr float kR[] = {  // python3 tools/fit_erfc.py --degree=9 --z_max=4.3
      2.277431655e-06f,  -7.817996535e-06f, -1.871282153e-05f, 1.632585448e-04f,
      3.056183645e-06f,  -2.891165612e-03f, 7.560038231e-04f,  6.978764661e-02f,
      2.977932662e-01f,  6.344121874e-01f};
  const V r = Horner<T>(u, kR);
  const V e = Exp<T, true>(T::Sub(T::Zero(), z2_hi));
  return T::Mul(T::Mul(t, r), T::Fnma(e, z2_lo, e));  // t R(t) e^-hi (1 - lo)
}

// erf(x) for |x| < 1 from x^2: x times the Taylor series of erf to x^23 (truncation < 1e-10
// relative; alternating, decreasing terms, so Horner in float stays within an ulp). The
// coefficients are 2/sqrt(pi) (-1)^n / (n! (2n + 1)), highest power first.
template <class T>
typename T::V ErfSmall(typename T::V x, typename T::V x2) {
  static constexpr float kTaylor[] = {
      -1.229055530e-09f, 1.480719282e-08f,  -1.636584469e-07f, 1.646211437e-06f,
      -1.492565036e-05f, 1.205533298e-04f,  -8.548327023e-04f, 5.223977625e-03f,
      -2.686617065e-02f, 1.128379167e-01f,  -3.761263890e-01f, 1.128379167e+00f};
  return T::Mul(Horner<T>(x2, kTaylor), x);
}

// erf: ErfSmall for |x| < 1; above, 1 - erfc(|x|), where erfc(1) = 0.157 makes the subtraction
// lose less than an ulp. erf rounds to 1 from 3.92 on.
template <class T>
typename T::V Erf(typename T::V x) {
  using V = typename T::V;
  const V a = T::Abs(x);
  const V small = ErfSmall<T>(a, T::Mul(a, a));
  const V z = T::Min(T::Set1(4.5f), a);
  const V z2 = T::Mul(z, z);
  const V large = T::Sub(T::Set1(1.0f), ErfcCore<T>(z, z2, T::Fms(z, z, z2)));
  return T::CopySign(T::Select(T::Lt(a, T::Set1(1.0f)), small, large), x);
}

// sigma(v) = 1 / (1 + e^-v) and its complement 1 - sigma(v), both to full relative accuracy:
// with e = exp(-|v|) <= 1, sigma = 1/(1+e) for v >= 0 and e/(1+e) for v < 0 (no overflow, no
// cancellation; 1 + e in [1, 2] suits Recip).
template <class T>
struct SigmoidPair {
  typename T::V s, one_minus_s;
};

template <class T>
SigmoidPair<T> Sigmoid2(typename T::V v) {
  using V = typename T::V;
  const V e = Exp<T, true>(T::NegAbs(v));
  const V r = T::Recip(T::Add(T::Set1(1.0f), e));
  const V er = T::Mul(e, r);
  const auto positive = T::Ge(v, T::Zero());
  return {T::Select(positive, r, er), T::Select(positive, er, r)};
}

template <class T>
typename T::V Sigmoid(typename T::V v) {
  return Sigmoid2<T>(v).s;
}

// x with -inf replaced by -FLT_MAX: x * sigma(x) -> -0 rather than -inf * 0 = NaN at x = -inf.
template <class T>
typename T::V FiniteBelow(typename T::V x) {
  return T::Max(T::Set1(-FLT_MAX), x);
}

// y[i] = f(x[i]) over n elements; the tail is one masked vector (no scalar loop, no overread).
// Four independent vectors per step: the functions are long dependency chains of 4-cycle
// operations, and the interleaving keeps both vector ports busy.
template <class T, class F>
void Map(size_t n, const float* x, float* y, F f) noexcept {
  size_t i = 0;
  constexpr size_t kL = T::kLanes;
  for (; i + 4 * kL <= n; i += 4 * kL) {
    const auto y0 = f(T::LoadU(x + i));
    const auto y1 = f(T::LoadU(x + i + kL));
    const auto y2 = f(T::LoadU(x + i + 2 * kL));
    const auto y3 = f(T::LoadU(x + i + 3 * kL));
    T::StoreU(y + i, y0);
    T::StoreU(y + i + kL, y1);
    T::StoreU(y + i + 2 * kL, y2);
    T::StoreU(y + i + 3 * kL, y3);
  }
  for (; i + T::kLanes <= n; i += T::kLanes) T::StoreU(y + i, f(T::LoadU(x + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    T::StorePartial(y + i, f(T::LoadPartial(x + i, rest)), rest);
  }
}

// y[i] = f(a[i], b[i]).
template <class T, class F>
void Map2(size_t n, const float* a, const float* b, float* y, F f) noexcept {
  size_t i = 0;
  for (; i + T::kLanes <= n; i += T::kLanes) {
    T::StoreU(y + i, f(T::LoadU(a + i), T::LoadU(b + i)));
  }
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    T::StorePartial(y + i, f(T::LoadPartial(a + i, rest), T::LoadPartial(b + i, rest)), rest);
  }
}

}  // namespace
}  // namespace klab::kernels::vmath

#endif  // KLAB_KERNELS_VMATH_VMATH_IMPL_H_
