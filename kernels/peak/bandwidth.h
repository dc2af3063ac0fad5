// The bandwidth ceiling of a streaming kernel: the STREAM triad a[i] = b[i] + s c[i] (two reads,
// one write, as add and most elementwise kernels do) on 64-byte-aligned arrays, AVX-512 when the
// CPU has it (else AVX2), four vectors per step. A suite times it on the working set of the op it
// compares (3 n floats) and divides: "% of the bandwidth ceiling at that working set".
#ifndef KLAB_KERNELS_PEAK_BANDWIDTH_H_
#define KLAB_KERNELS_PEAK_BANDWIDTH_H_

#include <cstddef>

namespace klab::kernels {

// a, b, c: n floats each, 64-byte aligned, n a multiple of 64.
void TriadF32(size_t n, float s, const float* b, const float* c, float* a) noexcept;

// The ceiling of one-input elementwise ops (one read and one write stream, as an activation,
// softmax or a broadcast add over L1-resident parameters): y = x. x, y: n floats each, 64-byte
// aligned, n a multiple of 64.
void CopyF32(size_t n, const float* x, float* y) noexcept;

// The read ceiling: the sum of n floats (64-byte aligned; any n, the fast loop takes sixteen
// vectors per step into eight accumulators), the ceiling of read-only streams such as a GEMV
// over weights. Returns the sum (so the loads cannot be optimised away).
float ReadF32(size_t n, const float* a) noexcept;

}  // namespace klab::kernels

#endif  // KLAB_KERNELS_PEAK_BANDWIDTH_H_
