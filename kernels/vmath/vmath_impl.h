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
#include <iterator>

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
//
// Where the vector traits have a one-instruction 16-entry lookup (AVX-512's vpermps), the
// reduction is finer and the polynomial shorter: n = round(16 x / ln 2), r = x - n ln2/16 in
// [-ln2/32, ln2/32], exp(x) = 2^floor(n/16) 2^(j/16) e^r with j = n mod 16 from the table and
// e^r - 1 = r + r^2/2 + r^3/6 (truncation < r^4/24 = 9.2e-9, 0.08 ulp). Adding 1.5 * 2^19 rounds
// 16 x / ln 2 to an integer n held in the low mantissa bits, n mod 16 in the lowest four, which
// the permute reads directly; subtracting it back gives n/16 exactly, whose floor Scale2
// (scalef) applies. The table is hi + lo, so 2^(j/16) (1 + p) = hi + (hi p + lo) rounds once in
// earnest (the inner FMA's result is ~0.02 of the total): thirteen operations instead of fifteen,
// and a smaller error (vmath.h).
//
// kNegate computes exp(-x) with the negation folded into the reduction (t from -x / ln 2, then
// r' = x + n ln2/16 = -r, and the polynomial takes r' with alternating signs), at no cost.
// kAccurate = false is the form for the activations' sigma (bound 4 ulp beyond an absolute floor,
// activation.h): the hi table alone (2^(j/16) rounded to 0.5 ulp; with it tanh reached 2.02 ulp,
// over its own bound) and a one-step reduction by float(ln 2), whose 1.9e-9 error times |n/16|
// <= 32 (all the range where those activations are above their floor) moves e by < 6e-8: two
// operations fewer each, and the sweep over every float did not move (gelu_tanh 3.193 ulp, silu
// 1.993 -> 1.979).
template <class T, bool kNegate = false, bool kAccurate = true>
typename T::V ExpTable16(typename T::V x) {
  using V = typename T::V;
  // 2^(j/16) as hi + lo: hi the nearest float, lo the nearest float to the rest.
  static constexpr float kTableHi[16] = {
      1.000000000e+00f, 1.044273734e+00f, 1.090507746e+00f, 1.138788581e+00f,
      1.189207077e+00f, 1.241857767e+00f, 1.296839595e+00f, 1.354255557e+00f,
      1.414213538e+00f, 1.476826191e+00f, 1.542210817e+00f, 1.610490322e+00f,
      1.681792855e+00f, 1.756252170e+00f, 1.834008098e+00f, 1.915206552e+00f};
  static constexpr float kTableLo[16] = {
      0.00000000e+00f, 4.83347016e-08f, -1.30775399e-08f, 5.38622231e-08f,
      3.79763527e-08f, 4.49683810e-08f, -4.01899953e-08f, -1.01233493e-08f,
      2.42032350e-08f, -4.50089885e-08f, 8.07090483e-09f, 9.83621717e-09f,
      -2.47553267e-08f, -9.23577037e-09f, -1.12392780e-08f, 9.84532811e-09f};
  constexpr float kRound = 0x1.8p19f;
  constexpr float kSign = kNegate ? -1.0f : 1.0f;
  const V t = T::Fma(x, T::Set1(kSign * 1.44269504088896341f), T::Set1(kRound));
  const V q = T::Sub(t, T::Set1(kRound));  // n / 16, exact
  // r = kSign x - q ln2; computed as s = x - kSign q ln2 (= kSign r). q has <= 12 significant
  // bits and ln2_hi 9: the first product of the two-step form is exact.
  V s;
  if constexpr (kAccurate) {
    s = T::Fma(q, T::Set1(-kSign * 0.693359375f), x);
    s = T::Fma(q, T::Set1(kSign * 2.12194440e-4f), s);
  } else {
    s = T::Fma(q, T::Set1(-kSign * 0.693147182f), x);
  }
  // e^r - 1 = r + r^2/2 + r^3/6, in s = kSign r: s (kSign + s (1/2 + kSign s / 6)).
  const V p = T::Mul(T::Fma(T::Fma(s, T::Set1(kSign / 6), T::Set1(0.5f)), s, T::Set1(kSign)), s);
  const V hi = T::Lookup16(t, T::Table16(kTableHi));
  if constexpr (!kAccurate) return T::Scale2(T::Fma(hi, p, hi), q);
  const V lo = T::Lookup16(t, T::Table16(kTableLo));
  return T::Scale2(T::Add(hi, T::Fma(hi, p, lo)), q);  // hi + (hi p + lo): one rounding that matters
}

// kInRange: the caller guarantees x in [-104, 0] (or NaN), so neither clamp is needed.
template <class T, bool kNonPositive = false, bool kInRange = false>
typename T::V Exp(typename T::V x) {
  using V = typename T::V;
  if constexpr (!kNonPositive && !kInRange) x = T::Min(T::Set1(89.0f), x);
  if constexpr (!kInRange) x = T::Max(T::Set1(-104.0f), x);
  if constexpr (T::kHasLookup16) return ExpTable16<T>(x);
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
// (rounding z^2 alone would cost z^2 2^-24 relative, 15 ulp at z = 4). The caller passes
// -hi (so no negation here) and caps z so that hi <= 103.9 (z <= 10.19: erfc(10.19) < 2^-150),
// so the exponential needs no clamp. kHalf returns erfc / 2 at no cost: R's coefficients are
// halved, exactly.
template <class T, bool kHalf = false>
typename T::V ErfcCore(typename T::V z, typename T::V neg_z2_hi, typename T::V z2_lo) {
  using V = typename T::V;
  const V t = T::Recip(T::Fma(z, T::Set1(0.5f), T::Set1(1.0f)));
  const V u = T::Fms(t, T::Set1(2.9302325581e+00f), T::Set1(1.9302325581e+00f));
  static constexpr float kR[] = {  // python3 tools/fit_erfc.py --degree=9 --z_max=4.3
      2.277431655e-06f,  -7.817996535e-06f, -1.871282153e-05f, 1.632585448e-04f,
      3.056183645e-06f,  -2.891165612e-03f, 7.560038231e-04f,  6.978764661e-02f,
      2.977932662e-01f,  6.344121874e-01f};
  constexpr float kScale = kHalf ? 0.5f : 1.0f;
  V r = T::Set1(kR[0] * kScale);
  for (size_t i = 1; i < std::size(kR); ++i) r = T::Fma(r, u, T::Set1(kR[i] * kScale));
  const V e = Exp<T, true, true>(neg_z2_hi);
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
  const V neg_z2 = T::Fnma(z, z, T::Zero());  // -(z^2), rounded once
  const V large = T::Sub(T::Set1(1.0f), ErfcCore<T>(z, neg_z2, T::Fma(z, z, neg_z2)));
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

// exp(-u) for u in [-88.7, 104] or NaN (the caller clamps): the table form negated and without
// its lo table and second reduction step where it exists (ExpTable16 kAccurate = false).
template <class T>
typename T::V ExpNegInRange(typename T::V u) {
  if constexpr (T::kHasLookup16) {
    return ExpTable16<T, /*kNegate=*/true, /*kAccurate=*/false>(u);
  } else {
    return Exp<T>(T::Sub(T::Zero(), u));
  }
}

// sigma(v) = 1 / (1 + exp(-v)) for v >= -88.7 (or NaN); lanes below are garbage, for the caller
// to mask. With e = exp(-v) up to e^88.7 (no overflow) the reciprocal stays normal, and where
// sigma is small (v < 0) it is 1/(1 + e) with e large: relative accuracy without the product
// e/(1 + e) of Sigmoid2 (one rounding fewer). For the activations, whose negative tail the
// caller zeroes below a threshold where |x sigma| is far under their absolute floor: no NegAbs,
// compare or masked product, and exp without its upper clamp, lo table or second reduction step.
template <class T>
typename T::V SigmoidAbove(typename T::V v) {
  const auto e = ExpNegInRange<T>(T::Min(T::Set1(104.0f), v));
  return T::Recip(T::Add(T::Set1(1.0f), e));
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

// y[i] = Op<Traits>::Apply(x[i]), the function instantiated twice: over Interleaved<T, N> for
// the main loop (N vectors per step, their operations interleaved: see vec.h) and over T for the
// remaining vectors and the masked tail. flatten inlines the whole function into the loop (GCC
// otherwise calls the N-vector sigmoid out of line, passing its vectors through the stack).
// N = 4 measured best for AVX-512 (gelu_erf 0.572 -> 0.506 ns/element, gelu_tanh 0.360 -> 0.349,
// silu 0.297 -> 0.289 at n = 1e4, minimum of 4 alternated runs; N = 2 gained less).
template <class T, template <class> class Op, int N = 4>
[[gnu::flatten]] void MapInterleaved(size_t n, const float* x, float* y) noexcept {
  using I = simd::Interleaved<T, N>;
  constexpr size_t kL = T::kLanes;
  size_t i = 0;
  for (; i + N * kL <= n; i += N * kL) I::StoreU(y + i, Op<I>::Apply(I::LoadU(x + i)));
  for (; i + kL <= n; i += kL) T::StoreU(y + i, Op<T>::Apply(T::LoadU(x + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    T::StorePartial(y + i, Op<T>::Apply(T::LoadPartial(x + i, rest)), rest);
  }
}

// y[i] = Op<Traits>::Apply(a[i], b[i]), interleaved as MapInterleaved.
template <class T, template <class> class Op, int N = 4>
[[gnu::flatten]] void Map2Interleaved(size_t n, const float* a, const float* b, float* y) noexcept {
  using I = simd::Interleaved<T, N>;
  constexpr size_t kL = T::kLanes;
  size_t i = 0;
  for (; i + N * kL <= n; i += N * kL) {
    I::StoreU(y + i, Op<I>::Apply(I::LoadU(a + i), I::LoadU(b + i)));
  }
  for (; i + kL <= n; i += kL) T::StoreU(y + i, Op<T>::Apply(T::LoadU(a + i), T::LoadU(b + i)));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    T::StorePartial(y + i, Op<T>::Apply(T::LoadPartial(a + i, rest), T::LoadPartial(b + i, rest)),
                    rest);
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
