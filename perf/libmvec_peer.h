// glibc's vector math library (libmvec) as a peer of the activation kernels: the same array
// operations written over its AVX-512 entry points (_ZGVeN16v_expf, _tanhf, _erff), as a user
// of `#pragma omp simd` with -ffast-math would get them. Compiled for AVX-512 in its own
// library; Available() says whether this CPU can run it.
#ifndef KLAB_PERF_LIBMVEC_PEER_H_
#define KLAB_PERF_LIBMVEC_PEER_H_

#include <cstddef>
#include <string_view>

namespace klab::perf::libmvec {

bool Available();  // AVX-512 present (the entry points used are the 16-lane ones)

// The textbook formulas of kernels/activation/activation.h over libmvec's functions.
void GeluTanh(size_t n, const float* x, float* y);  // x/2 (1 + tanhf(sqrt(2/pi)(x + c x^3)))
void GeluErf(size_t n, const float* x, float* y);   // x/2 (1 + erff(x / sqrt 2))
void Silu(size_t n, const float* x, float* y);      // x / (1 + expf(-x))
void Swiglu(size_t n, const float* a, const float* b, float* y);
// Three-pass row softmax with expf.
void Softmax(size_t rows, size_t cols, const float* x, float* y);

// The unary activation named as in kernels/activation/activation_ops.inc ("gelu_tanh", ...), or
// null where libmvec's peer has none.
using UnaryFn = void (*)(size_t n, const float* x, float* y);
UnaryFn Unary(std::string_view op);

}  // namespace klab::perf::libmvec

#endif  // KLAB_PERF_LIBMVEC_PEER_H_
