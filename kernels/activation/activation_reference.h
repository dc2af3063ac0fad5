// The activation formulas of activation.h in double precision, written once: the scalar variant
// evaluates them (then rounds to float), and the tests, the error sweep and
// //perf:activation_sweep compare the vector variants against them.
//
// The forms avoid cancellation: 0.5 x (1 + tanh u) is x / (1 + e^(-2u)), and 0.5 (1 + erf(x/sqrt2))
// is erfc(-x / sqrt 2) / 2, so the negative tails keep their relative accuracy. Infinite inputs
// give +inf and -0; the derivatives clamp x to +-1e4 as the vector code does (every derivative
// is 0 or 1 beyond |x| = 20), which keeps inf * 0 out of them.
#ifndef KLAB_KERNELS_ACTIVATION_ACTIVATION_REFERENCE_H_
#define KLAB_KERNELS_ACTIVATION_ACTIVATION_REFERENCE_H_

#include <cmath>

namespace klab::kernels::reference {

inline constexpr double kSqrt2OverPi = 0.79788456080286536;
inline constexpr double kGeluCoeff = 0.044715;

inline double InfLimit(double x) { return x > 0 ? x : -0.0; }  // x * sigma(x) at x = +-inf

inline double GeluTanh(double x) {
  if (std::isinf(x)) return InfLimit(x);
  const double u2 = 2.0 * kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
  return x / (1.0 + std::exp(-u2));
}
inline double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
inline double GeluErf(double x) { return std::isinf(x) ? InfLimit(x) : x * Phi(x); }
inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double Silu(double x) { return std::isinf(x) ? InfLimit(x) : x * Sigmoid(x); }

inline double GradClamp(double x) { return std::isnan(x) ? x : std::fmax(-1e4, std::fmin(1e4, x)); }

inline double GeluTanhGrad(double x) {
  x = GradClamp(x);
  const double t = std::tanh(kSqrt2OverPi * (x + kGeluCoeff * x * x * x));
  return 0.5 * (1.0 + t) +
         0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluCoeff * x * x);
}
inline double GeluErfGrad(double x) {
  x = GradClamp(x);
  return Phi(x) + x * std::exp(-0.5 * x * x) * 0.39894228040143268;  // + x phi(x)
}
inline double SiluGrad(double x) {
  x = GradClamp(x);
  const double s = Sigmoid(x);
  return s * (1.0 + x * (1.0 - s));
}

}  // namespace klab::kernels::reference

#endif  // KLAB_KERNELS_ACTIVATION_ACTIVATION_REFERENCE_H_
