// Steps 5 and 6 of the ladder (packed, threaded): the Goto/BLIS GEMM driver, written once
// (docs/style.md rule 6) and instantiated per micro-kernel.
//
// Included only by per-ISA translation units, inside their anonymous namespace, so every
// instantiation is private to that file (see gemm_internal.h on why that matters).
//
// A micro-kernel type Ukr provides (and may add PackPanelA / PackPanelB, see below)
//   static constexpr int kMr, kNr;
//   static void Tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
//                    float beta) noexcept;
// which computes the full MR x NR tile  C := beta * C + A_panel * B_panel  (beta == 0: C is not
// read) from packed panels: `a` holds kc columns of MR values, `b` kc rows of NR values, both
// 64-byte aligned. alpha is folded into packed A. Edge tiles (fewer than MR rows or NR columns
// of C) run the same kernel into an aligned scratch tile, then the valid part is merged, so no
// scalar slow path exists: packed panels are zero-padded to full MR and NR.
//
// The five loops around the micro-kernel:
//   loop 5 (jc): NC-wide column block of op(B) and C
//   loop 4 (pc): KC-deep slice of op(A) and op(B); pack op(B)[pc, jc] -> Bp   (KC x NC, L3)
//   loop 3 (ic): MC-tall row block;                 pack op(A)[ic, pc] -> Ap   (MC x KC, L2)
//   loop 2 (jr): NR-wide micro-panel of Bp                                     (KC x NR, L1)
//   loop 1 (ir): MR-tall micro-panel of Ap, one micro-kernel call
// Threads take loop 3's rows in chunks and share packed B (tall problems), or split loop 5's
// columns (wide, short ones); either way every element of C is computed by the same sequence of
// operations whatever the thread count, so results are bitwise identical across thread counts.
#ifndef KLAB_KERNELS_GEMM_GEMM_PACKED_DRIVER_H_
#define KLAB_KERNELS_GEMM_GEMM_PACKED_DRIVER_H_

#include <immintrin.h>

#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "kernels/gemm/gemm_config.h"
#include "kernels/gemm/gemm_internal.h"

namespace klab::kernels::gemm_internal {
// Internal linkage for everything here: each ISA translation unit gets its own copy (gemm_internal.h).
namespace {

static inline int64_t MinI(int64_t a, int64_t b) { return a < b ? a : b; }

// A grow-only 64-byte-aligned float buffer; one per thread and operand, so after the first call
// of a given size a GEMM allocates nothing.
struct PackBuffer {
  float* data = nullptr;
  int64_t capacity = 0;
  float* Get(int64_t count) {
    if (count > capacity) {
      std::free(data);
      const int64_t bytes = ((count * 4 + 63) / 64) * 64;
      data = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(bytes)));
      if (data == nullptr) std::abort();  // kernels are noexcept leaves
      capacity = count;
    }
    return data;
  }
  ~PackBuffer() { std::free(data); }
};

// dst (cols x rows, row-major, leading dimension rows) = the transpose of src (rows x cols,
// leading dimension ld); used to bring a transposed operand to row-major in thread-local scratch.
static inline void TransposeCopy(const float* __restrict src, int64_t ld, int64_t rows,
                                 int64_t cols, float* __restrict dst) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * ld + c];
  }
}

// Generic packing of one MR-row panel of op(A)[row0 : row0+rows, pc : pc+kc] * alpha into
// kc x MR (l-major), zero-padded to MR rows. Micro-kernels may provide faster full-panel
// versions (PackPanelA / PackPanelB below); these handle every case.
template <int MR>
static void PackPanelAGeneric(const SgemmArgs& p, int64_t row0, int64_t rows, int64_t pc,
                              int64_t kc, float* __restrict panel) {
  if (p.trans_a == Trans::kNo) {
    // A row-major m x k: each row of the panel is contiguous in l.
    for (int64_t i = 0; i < rows; ++i) {
      const float* __restrict src = p.a + (row0 + i) * p.lda + pc;
      for (int64_t l = 0; l < kc; ++l) panel[l * MR + i] = p.alpha * src[l];
    }
  } else {
    // A stored k x m: for a fixed l the panel's MR values are contiguous.
    for (int64_t l = 0; l < kc; ++l) {
      const float* __restrict src = p.a + (pc + l) * p.lda + row0;
      for (int64_t i = 0; i < rows; ++i) panel[l * MR + i] = p.alpha * src[i];
    }
  }
  if (rows < MR) {
    for (int64_t l = 0; l < kc; ++l) {
      for (int64_t i = rows; i < MR; ++i) panel[l * MR + i] = 0.0f;
    }
  }
}

// Generic packing of one NR-column panel of op(B)[pc : pc+kc, col0 : col0+cols] into kc x NR
// (row-major), zero-padded to NR columns.
template <int NR>
static void PackPanelBGeneric(const SgemmArgs& p, int64_t pc, int64_t kc, int64_t col0,
                              int64_t cols, float* __restrict panel) {
  if (p.trans_b == Trans::kNo) {
    for (int64_t l = 0; l < kc; ++l) {
      const float* __restrict src = p.b + (pc + l) * p.ldb + col0;
      float* __restrict dst = panel + l * NR;
      for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
      for (int64_t j = cols; j < NR; ++j) dst[j] = 0.0f;
    }
  } else {
    // B stored n x k: column j of op(B) is row j of B, contiguous in l.
    for (int64_t j = 0; j < cols; ++j) {
      const float* __restrict src = p.b + (col0 + j) * p.ldb + pc;
      for (int64_t l = 0; l < kc; ++l) panel[l * NR + j] = src[l];
    }
    for (int64_t l = 0; l < kc; ++l) {
      for (int64_t j = cols; j < NR; ++j) panel[l * NR + j] = 0.0f;
    }
  }
}

// A micro-kernel type may offer full-panel packers; they return false to decline a case.
template <class Ukr>
concept HasPackPanelA = requires(const SgemmArgs& p, float* out) {
  { Ukr::PackPanelA(p, int64_t{}, int64_t{}, int64_t{}, out) } -> std::same_as<bool>;
};
template <class Ukr>
concept HasPackPanelB = requires(const SgemmArgs& p, float* out) {
  { Ukr::PackPanelB(p, int64_t{}, int64_t{}, int64_t{}, out) } -> std::same_as<bool>;
};

// op(A)[ic : ic+mc, pc : pc+kc] * alpha -> ceil(mc/MR) panels of kc x MR.
template <class Ukr>
static void PackA(const SgemmArgs& p, int64_t ic, int64_t mc, int64_t pc, int64_t kc,
                  float* __restrict ap) {
  constexpr int MR = Ukr::kMr;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t rows = MinI(MR, mc - ir);
    float* panel = ap + ir * kc;
    if constexpr (HasPackPanelA<Ukr>) {
      if (rows == MR && Ukr::PackPanelA(p, ic + ir, pc, kc, panel)) continue;
    }
    PackPanelAGeneric<MR>(p, ic + ir, rows, pc, kc, panel);
  }
}

// op(B)[pc : pc+kc, jc : jc+nc] -> ceil(nc/NR) panels of kc x NR.
template <class Ukr>
static void PackB(const SgemmArgs& p, int64_t pc, int64_t kc, int64_t jc, int64_t nc,
                  float* __restrict bp) {
  constexpr int NR = Ukr::kNr;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t cols = MinI(NR, nc - jr);
    float* panel = bp + jr * kc;
    if constexpr (HasPackPanelB<Ukr>) {
      if (cols == NR && Ukr::PackPanelB(p, pc, kc, jc + jr, panel)) continue;
    }
    PackPanelBGeneric<NR>(p, pc, kc, jc + jr, cols, panel);
  }
}

// One micro-tile, full or edge.
template <class Ukr>
static inline void RunTile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                           float beta, int64_t rows, int64_t cols) {
  constexpr int MR = Ukr::kMr, NR = Ukr::kNr;
  if (rows == MR && cols == NR) {
    Ukr::Tile(kc, a, b, c, ldc, beta);
    return;
  }
  alignas(64) float tile[MR * NR];
  Ukr::Tile(kc, a, b, tile, NR, 0.0f);
  for (int64_t i = 0; i < rows; ++i) {
    float* __restrict crow = c + i * ldc;
    const float* __restrict trow = tile + i * NR;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < cols; ++j) crow[j] = trow[j];
    } else if (beta == 1.0f) {
      for (int64_t j = 0; j < cols; ++j) crow[j] += trow[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) crow[j] = beta * crow[j] + trow[j];
    }
  }
}

// C[:, j0 : j1] of the problem, on the calling thread.
template <class Ukr>
static void PackedColumns(const SgemmArgs& p, int64_t j0, int64_t j1, const Blocking& blk) {
  constexpr int MR = Ukr::kMr, NR = Ukr::kNr;
  static thread_local PackBuffer a_buf, b_buf;
  float* ap = a_buf.Get(static_cast<int64_t>(blk.mc + MR) * blk.kc);
  float* bp = b_buf.Get(static_cast<int64_t>(blk.nc + NR) * blk.kc);
  for (int64_t jc = j0; jc < j1; jc += blk.nc) {  // loop 5 (jc): NC-wide block of columns
    const int64_t nc = MinI(blk.nc, j1 - jc);
    for (int64_t pc = 0; pc < p.k; pc += blk.kc) {  // loop 4 (pc): KC-deep slice
      const int64_t kc = MinI(blk.kc, p.k - pc);
      const float beta = pc == 0 ? p.beta : 1.0f;
      PackB<Ukr>(p, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < p.m; ic += blk.mc) {  // loop 3 (ic): MC-tall block of rows
        const int64_t mc = MinI(blk.mc, p.m - ic);
        PackA<Ukr>(p, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {  // loop 2 (jr): NR-wide micro-panel of B
          const int64_t cols = MinI(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {  // loop 1 (ir): MR-tall micro-panel of A
            const int64_t rows = MinI(MR, mc - ir);
            RunTile<Ukr>(kc, ap + ir * kc, bp + jr * kc, p.c + (ic + ir) * p.ldc + jc + jr, p.ldc,
                         beta, rows, cols);
          }
        }
      }
    }
  }
}

// Runs fn(sub) on the pool's participants, each `sub` the problem restricted to a contiguous
// range of columns of C (and of op(B)), ranges aligned to `align` columns. Columns of C are
// independent, so any variant can be threaded this way without changing its arithmetic.
template <class Fn>
static void SplitColumns(const SgemmArgs& p, int threads, int64_t align, Fn&& fn) {
  const int64_t blocks = (p.n + align - 1) / align;
  const int64_t parts = MinI(threads, blocks);
  if (parts <= 1) {
    fn(p);
    return;
  }
  GemmThreadPool().Run([&](int id) {
    if (id >= parts) return;
    const int64_t j0 = blocks * id / parts * align;
    const int64_t j1 = MinI(blocks * (id + 1) / parts * align, p.n);
    SgemmArgs sub = p;
    sub.n = j1 - j0;
    sub.b = p.trans_b == Trans::kNo ? p.b + j0 : p.b + j0 * p.ldb;
    sub.c = p.c + j0;
    fn(sub);
  });
}

// A spinning barrier for the participants of one pool Run (they are all running, each pinned to
// its own core, so spinning costs nothing and wakes in well under a microsecond).
class SpinBarrier {
 public:
  explicit SpinBarrier(int parties) : parties_(parties) {}
  void Wait() {
    const int gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    } else {
      while (generation_.load(std::memory_order_acquire) == gen) _mm_pause();
    }
  }

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};

// Threads share one packed B slice and take the rows of C in chunks: for each (jc, pc) every
// participant packs a share of the B panels, all wait, then each takes chunks of rows (about
// eight per participant, at most MC) from a shared counter until none is left, packing its own
// A for each, and all wait again before the slice is overwritten. B is packed once, not once
// per thread, and each core's L2 holds only its own A chunk. Chunks taken from a counter
// instead of a fixed half each: on this lab's VM one core is often 10-15% slower than the other
// (c_tile_probe pinned to each: 168 against 144 GFLOP/s in the same minute), and with fixed
// halves the faster one waits at every slice. Every element of C still sees the same kc slices
// and the same micro-kernel, whoever computes it, so results are bitwise identical to one thread.
template <class Ukr>
static void PackedRowsShared(const SgemmArgs& p, int parts, const Blocking& blk) {
  constexpr int MR = Ukr::kMr, NR = Ukr::kNr;
  static PackBuffer shared_b;  // used only under the pool, by one GEMM at a time
  float* bp = shared_b.Get(static_cast<int64_t>(blk.nc + NR) * blk.kc);
  const int64_t row_blocks = (p.m + MR - 1) / MR;
  const int64_t per = row_blocks / (static_cast<int64_t>(parts) * 8);
  const int64_t chunk = MinI(blk.mc, (per < 1 ? 1 : per) * MR);
  const int64_t chunks = (p.m + chunk - 1) / chunk;
  SpinBarrier barrier(parts);
  // The counter of slice s is next[s % 2]; participant 0 clears the other one between the two
  // barriers of slice s, when nobody uses it any more (slice s - 1 is over) or yet (s + 1).
  std::atomic<int64_t> next[2];
  next[0].store(0, std::memory_order_relaxed);
  next[1].store(0, std::memory_order_relaxed);
  GemmThreadPool().Run([&](int id) {
    if (id >= parts) return;
    static thread_local PackBuffer a_buf;
    float* ap = a_buf.Get(static_cast<int64_t>(blk.mc + MR) * blk.kc);
    int64_t slice = 0;
    for (int64_t jc = 0; jc < p.n; jc += blk.nc) {  // loop 5 (jc)
      const int64_t nc = MinI(blk.nc, p.n - jc);
      const int64_t panels = (nc + NR - 1) / NR;
      for (int64_t pc = 0; pc < p.k; pc += blk.kc, ++slice) {  // loop 4 (pc)
        const int64_t kc = MinI(blk.kc, p.k - pc);
        const float beta = pc == 0 ? p.beta : 1.0f;
        const int64_t q0 = panels * id / parts * NR, q1 = MinI(panels * (id + 1) / parts * NR, nc);
        if (q1 > q0) PackB<Ukr>(p, pc, kc, jc + q0, q1 - q0, bp + q0 * kc);
        barrier.Wait();
        if (id == 0) next[(slice + 1) % 2].store(0, std::memory_order_relaxed);
        std::atomic<int64_t>& counter = next[slice % 2];
        for (int64_t c = counter.fetch_add(1, std::memory_order_relaxed); c < chunks;
             c = counter.fetch_add(1, std::memory_order_relaxed)) {
          const int64_t ic = c * chunk, mc = MinI(chunk, p.m - ic);  // loop 3 (ic), a chunk
          PackA<Ukr>(p, ic, mc, pc, kc, ap);
          for (int64_t jr = 0; jr < nc; jr += NR) {  // loop 2 (jr)
            const int64_t cols = MinI(NR, nc - jr);
            for (int64_t ir = 0; ir < mc; ir += MR) {  // loop 1 (ir)
              RunTile<Ukr>(kc, ap + ir * kc, bp + jr * kc, p.c + (ic + ir) * p.ldc + jc + jr,
                           p.ldc, beta, MinI(MR, mc - ir), cols);
            }
          }
        }
        barrier.Wait();  // nobody repacks B while another participant still reads it
      }
    }
  });
}

// The whole problem on `threads` participants of the GEMM pool (1: the calling thread only).
// Tall problems split rows and share packed B; shorter ones (fewer than 32 MR-row blocks
// per participant) split columns, each participant packing its own panels.
template <class Ukr>
static void PackedGemm(const SgemmArgs& p, int threads) {
  if (p.k == 0 || p.alpha == 0.0f) {
    ScaleC(p);
    return;
  }
  const Blocking blk = EffectiveBlocking(Ukr::kMr, Ukr::kNr);
  const int64_t row_blocks = (p.m + Ukr::kMr - 1) / Ukr::kMr;
  if (threads > 1 && row_blocks >= 32 * threads) {
    PackedRowsShared<Ukr>(p, threads, blk);
    return;
  }
  const int64_t panels = (p.n + Ukr::kNr - 1) / Ukr::kNr;
  const int64_t parts = MinI(threads, panels);
  if (parts <= 1) {
    PackedColumns<Ukr>(p, 0, p.n, blk);
    return;
  }
  GemmThreadPool().Run([&](int id) {
    if (id >= parts) return;
    // Contiguous, NR-aligned column ranges, as even as the panel count allows.
    const int64_t first = panels * id / parts, last = panels * (id + 1) / parts;
    PackedColumns<Ukr>(p, first * Ukr::kNr, MinI(last * Ukr::kNr, p.n), blk);
  });
}

}  // namespace
}  // namespace klab::kernels::gemm_internal

#endif  // KLAB_KERNELS_GEMM_GEMM_PACKED_DRIVER_H_
