// The activation functions over one vector of lanes, for the vector traits of
// kernels/simd/vec.h; instantiated per ISA by f32_activation_isa.inc. Formulas and bounds are in
// activation.h.
#ifndef KLAB_KERNELS_ACTIVATION_ACTIVATION_IMPL_H_
#define KLAB_KERNELS_ACTIVATION_ACTIVATION_IMPL_H_

#include "kernels/vmath/vmath_impl.h"

namespace klab::kernels::activation {
namespace {

// gelu_tanh(x) = x sigma(2u), 2u = x (kA + kB x^2), kA = 2 sqrt(2/pi), kB = 0.044715 kA.
inline constexpr float kA = 1.5957691216057308f;
// kA as hi + lo for gelu_tanh's argument: float(kA) is 0.48 ulp off, which sigma(2u) would feel
// as |2u| 2^-25 relative (1.1 ulp at x = -1.4); adding x lo into the last rounding of 2u removes
// that. hi is the float just BELOW kA, so lo > 0 and x lo has the sign of x: at x = +-inf the sum
// is inf + inf, never inf - inf.
inline constexpr float kAHi = 1.5957690477371216f;
inline constexpr float kALo = 7.3868609229421622e-08f;
inline constexpr float kB = 0.071354816272600f;
inline constexpr float kSqrtHalf = 0.70710678118654752f;
inline constexpr float kInvSqrt2Pi = 0.39894228040143268f;
// Backward clamps x to +-kGradClamp: every derivative here is exactly 0 or 1 in float beyond
// |x| = 20, and the clamp keeps inf * 0 out of the products.
inline constexpr float kGradClamp = 1e4f;

// Below these inputs the activations are -0: |gelu_tanh(x)| < 9 e^-66.4 = 1.5e-28 for x < -9 and
// |silu(x)| < 80 e^-80 = 1.4e-33 for x < -80, far under the absolute floor of the bound
// (activation.h), and there sigma's argument stays above -88.7, where exp(-v) is finite.
// NaN is kept (NotLt is true for it) and propagates; -inf gives -0.
inline constexpr float kGeluTanhZeroBelow = -9.0f;
inline constexpr float kSiluZeroBelow = -80.0f;

template <class T>
typename T::V GeluTanh(typename T::V x) {
  const auto q = T::Fma(T::Mul(x, x), T::Set1(kB), T::Set1(kAHi));
  const auto v = T::Fma(x, q, T::Mul(x, T::Set1(kALo)));  // x (kA + kB x^2), kA to double
  const auto keep = T::NotLt(x, T::Set1(kGeluTanhZeroBelow));
  return T::MulWhere(keep, x, vmath::SigmoidAbove<T>(v), T::Set1(-0.0f));
}

// Phi(x) = erfc(-x / sqrt 2) / 2: erfc(|x| / sqrt 2) / 2 for x < 0 (relative, no cancellation)
// and 1 - that for x >= 0 (Phi >= 1/2 there, so the subtraction loses at most a factor 2).
// The halved square x^2 / 2 = hi + lo is exact: with h = -x/2 (exact), -hi = x h rounded and
// lo = -hi - x h exactly (an FMA). |x| is capped at 14.4: Phi(-14.4) < 2^-150, and hi <= 103.7
// keeps ErfcCore's exponential in range without a clamp.
template <class T>
typename T::V Phi(typename T::V x) {
  using V = typename T::V;
  const V xa = T::Min(T::Set1(14.4f), T::Abs(x));
  const V h = T::Mul(xa, T::Set1(-0.5f));
  const V neg_hi = T::Mul(xa, h);
  const V lo = T::Fnma(xa, h, neg_hi);
  const V half_erfc = vmath::ErfcCore<T, true>(T::Mul(xa, T::Set1(kSqrtHalf)), neg_hi, lo);
  return T::SubWhere(T::Ge(x, T::Zero()), T::Set1(1.0f), half_erfc, half_erfc);
}

template <class T>
typename T::V GeluErf(typename T::V x) {
  return T::Mul(vmath::FiniteBelow<T>(x), Phi<T>(x));
}

template <class T>
typename T::V Silu(typename T::V x) {
  const auto keep = T::NotLt(x, T::Set1(kSiluZeroBelow));
  return T::MulWhere(keep, x, vmath::SigmoidAbove<T>(x), T::Set1(-0.0f));
}

// The forward functions as types, for vmath::MapInterleaved.
template <class T>
struct GeluTanhOp {
  static typename T::V Apply(typename T::V x) { return GeluTanh<T>(x); }
};
template <class T>
struct GeluErfOp {
  static typename T::V Apply(typename T::V x) { return GeluErf<T>(x); }
};
template <class T>
struct SiluOp {
  static typename T::V Apply(typename T::V x) { return Silu<T>(x); }
};
template <class T>
struct SwigluOp {
  static typename T::V Apply(typename T::V a, typename T::V b) { return T::Mul(Silu<T>(a), b); }
};
template <class T>
struct BiasGeluTanhOp {
  static typename T::V Apply(typename T::V x, typename T::V bias) { return GeluTanh<T>(T::Add(x, bias)); }
};

template <class T>
typename T::V ClampForGrad(typename T::V x) {
  return T::Max(T::Set1(-kGradClamp), T::Min(T::Set1(kGradClamp), x));
}

// d/dx x sigma(2u) = s + x s (1 - s) (2u)', (2u)' = kA + 3 kB x^2.
template <class T>
typename T::V GeluTanhGrad(typename T::V x) {
  using V = typename T::V;
  x = ClampForGrad<T>(x);
  const V x2 = T::Mul(x, x);
  const auto sig = vmath::Sigmoid2<T>(T::Mul(x, T::Fma(x2, T::Set1(kB), T::Set1(kA))));
  const V du = T::Fma(x2, T::Set1(3.0f * kB), T::Set1(kA));
  return T::Fma(T::Mul(x, sig.s), T::Mul(sig.one_minus_s, du), sig.s);
}

// d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi).
template <class T>
typename T::V GeluErfGrad(typename T::V x) {
  using V = typename T::V;
  x = ClampForGrad<T>(x);
  const V x2h = T::Mul(T::Set1(0.5f), T::Mul(x, x));
  const V pdf = T::Mul(vmath::Exp<T, true>(T::Sub(T::Zero(), x2h)), T::Set1(kInvSqrt2Pi));
  return T::Fma(x, pdf, Phi<T>(x));
}

// d/dx x sigma(x) = s (1 + x (1 - s)).
template <class T>
typename T::V SiluGrad(typename T::V x) {
  x = ClampForGrad<T>(x);
  const auto sig = vmath::Sigmoid2<T>(x);
  return T::Fma(T::Mul(sig.s, x), sig.one_minus_s, sig.s);
}

}  // namespace
}  // namespace klab::kernels::activation

#endif  // KLAB_KERNELS_ACTIVATION_ACTIVATION_IMPL_H_
