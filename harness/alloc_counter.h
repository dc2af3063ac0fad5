// Heap allocation accounting: every global operator new in a binary that links
// //harness:alloc_counter is counted (bytes requested and number of calls, all threads).
//
// A suite reads AllocSnapshot() before and after a region and records the difference in the
// row's "alloc" field; a kernel that allocates nothing shows {0, 0}. malloc called directly (by C
// libraries such as OpenBLAS) is not seen: only C++ allocations go through this hook.
#ifndef KLAB_HARNESS_ALLOC_COUNTER_H_
#define KLAB_HARNESS_ALLOC_COUNTER_H_

#include <cstdint>

namespace klab::harness {

struct AllocStats {
  int64_t bytes = 0;  // bytes requested through operator new
  int64_t count = 0;  // calls to operator new
};

// Totals since the process started; all zeros when the hook is not linked in.
AllocStats AllocSnapshot();

// Whether allocations are really being counted: the hook is linked in *and* its operator new is
// the one in effect (under AddressSanitizer the sanitizer's wins). When false, suites record
// allocations as null, not zero.
bool AllocCounterActive();

// Bytes allocated through operator new and not yet deleted (as malloc reserved them), and the
// highest that has been since the last ResetPeakLiveBytes() (or the start): a scope's peak
// memory is PeakLiveBytes() - LiveBytes() at its start, after a reset there. Zeros when the hook
// is not in effect.
int64_t LiveBytes();
int64_t PeakLiveBytes();
void ResetPeakLiveBytes();

inline AllocStats operator-(const AllocStats& a, const AllocStats& b) {
  return {a.bytes - b.bytes, a.count - b.count};
}

}  // namespace klab::harness

#endif  // KLAB_HARNESS_ALLOC_COUNTER_H_
