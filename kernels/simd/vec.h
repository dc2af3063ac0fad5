// Vector traits for kernels written once over the vector width: a struct per ISA with the type,
// its lane count and the operations the kernels use — arithmetic, comparisons and selects, the
// bit tricks of vector math (sign tricks, scale by 2^n) and horizontal reductions. A template
// takes the traits as a parameter and is instantiated in each ISA's translation unit (compiled
// with that ISA's -m flags); only the traits the flags allow exist.
//
// NaN rules, relied on by kernels/vmath: Min(a, b) and Max(a, b) return b when either is NaN
// (the x86 minps/maxps rule), so a clamp written Max(lo, Min(hi, x)) lets a NaN in x through.
// LoadPartial/StorePartial touch only the first `count` (<= kLanes) elements: tails need no
// scalar loop and never read past the end of an array.
//
// Everything here has internal linkage (anonymous namespace): each ISA translation unit keeps its
// own copy, so the linker can never hand AVX-512 code to a caller compiled for the baseline.
#ifndef KLAB_KERNELS_SIMD_VEC_H_
#define KLAB_KERNELS_SIMD_VEC_H_

#include <immintrin.h>

#include <cstdint>

namespace klab::kernels::simd {
namespace {

#if defined(__AVX512F__)
struct VecAvx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V Zero() { return _mm512_setzero_ps(); }
  static V Load(const float* p) { return _mm512_load_ps(p); }
  static V LoadU(const float* p) { return _mm512_loadu_ps(p); }
  static void StoreU(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V Set1(float x) { return _mm512_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V Div(V a, V b) { return _mm512_div_ps(a, b); }
  static V Min(V a, V b) { return _mm512_min_ps(a, b); }
  static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  static V Fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b
  static V Fms(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }    // a*b - c
  static V Abs(V a) { return _mm512_abs_ps(a); }
  static V NegAbs(V a) { return _mm512_or_ps(a, _mm512_set1_ps(-0.0f)); }  // -|a|
  // The sign bit of s on the magnitude of m (m must be non-negative).
  static V CopySign(V m, V s) {
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(m),
        _mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32(INT32_MIN))));
  }
  // p * 2^n for integral n, correctly rounded into the subnormal range and to inf on overflow.
  static V Scale2(V p, V n) { return _mm512_scalef_ps(p, n); }
  // table[j] in each lane, j the low 4 bits of the lane's bit pattern: one permute (vpermps),
  // so a 16-entry table lives in one register.
  static constexpr bool kHasLookup16 = true;
  using Table = V;
  static Table Table16(const float* p) { return LoadU(p); }
  static V Lookup16(V index_bits, Table table) {
    return _mm512_permutexvar_ps(_mm512_castps_si512(index_bits), table);
  }
  // 1 / d for normal d with |d| < 2^126: the 14-bit estimate and one Newton step, relative
  // error < 2^-27.
  static V Recip(V d) {
    V r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r);
  }
  using M = __mmask16;
  static M Lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M Ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  // !(a < b): a >= b, or either is NaN.
  static M NotLt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_NLT_UQ); }
  static V Select(M m, V if_true, V if_false) { return _mm512_mask_blend_ps(m, if_false, if_true); }
  // a * b where m is set, `otherwise` elsewhere: one masked multiply.
  static V MulWhere(M m, V a, V b, V otherwise) { return _mm512_mask_mul_ps(otherwise, m, a, b); }
  // a - b where m is set, `otherwise` elsewhere: one masked subtraction.
  static V SubWhere(M m, V a, V b, V otherwise) { return _mm512_mask_sub_ps(otherwise, m, a, b); }
  static float ReduceAdd(V a) { return _mm512_reduce_add_ps(a); }
  static float ReduceMax(V a) { return _mm512_reduce_max_ps(a); }
  static __mmask16 TailMask(int count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static V LoadPartial(const float* p, int count) {
    return _mm512_maskz_loadu_ps(TailMask(count), p);
  }
  // Lanes past `count` read as `fill` (e.g. -inf for a running max).
  static V LoadPartialOr(const float* p, int count, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), TailMask(count), p);
  }
  static void StorePartial(float* p, V v, int count) {
    _mm512_mask_storeu_ps(p, TailMask(count), v);
  }
  // Lanes below `count` from a, the rest from b: a tail handled in registers, where a masked
  // store followed by a load of the same bytes would wait for the store (no forwarding).
  static V FirstLanes(int count, V a, V b) { return _mm512_mask_blend_ps(TailMask(count), b, a); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct VecAvx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  static constexpr bool kHasLookup16 = false;  // a permute reaches 8 entries only
  using Table = V;
  static V Zero() { return _mm256_setzero_ps(); }
  static V Load(const float* p) { return _mm256_load_ps(p); }
  static V LoadU(const float* p) { return _mm256_loadu_ps(p); }
  static void StoreU(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V Set1(float x) { return _mm256_set1_ps(x); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V Div(V a, V b) { return _mm256_div_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V Fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a*b
  static V Fms(V a, V b, V c) { return _mm256_fmsub_ps(a, b, c); }    // a*b - c
  static V Abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static V NegAbs(V a) { return _mm256_or_ps(a, _mm256_set1_ps(-0.0f)); }  // -|a|
  static V CopySign(V m, V s) {
    return _mm256_or_ps(m, _mm256_and_ps(s, _mm256_set1_ps(-0.0f)));
  }
  // p * 2^n for integral n in [-252, 254]: two factors 2^(n/2) and 2^(n - n/2), each a normal
  // float. The first product is exact, the second rounds once, so subnormal and overflowing
  // results come out as scalef's do.
  static V Scale2(V p, V n) {
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const V f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const V f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, f1), f2);
  }
  // 1 / d. The 12-bit rcpps estimate with one Newton step leaves ~2^-23, a visible ulp; a true
  // division is exact to half an ulp and costs little at 8 lanes.
  static V Recip(V d) { return _mm256_div_ps(_mm256_set1_ps(1.0f), d); }
  using M = __m256;
  static M Lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M Ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M NotLt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_NLT_UQ); }
  static V Select(M m, V if_true, V if_false) { return _mm256_blendv_ps(if_false, if_true, m); }
  static V MulWhere(M m, V a, V b, V otherwise) { return Select(m, _mm256_mul_ps(a, b), otherwise); }
  static V SubWhere(M m, V a, V b, V otherwise) { return Select(m, _mm256_sub_ps(a, b), otherwise); }
  static float ReduceAdd(V a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float ReduceMax(V a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static __m256i TailMask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V LoadPartial(const float* p, int count) { return _mm256_maskload_ps(p, TailMask(count)); }
  static V LoadPartialOr(const float* p, int count, float fill) {
    const __m256i m = TailMask(count);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void StorePartial(float* p, V v, int count) { _mm256_maskstore_ps(p, TailMask(count), v); }
  static V FirstLanes(int count, V a, V b) {
    return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(TailMask(count)));
  }
};
#endif


// N vectors of T as one value: every operation applies to the N members in turn, so a function
// written once over the traits, instantiated with Interleaved<T, N>, emits its operations
// op-major (op 1 on all N, then op 2 ...). The vector math functions are chains of dependent
// 4-cycle operations, and the out-of-order window holds only ~100 operations: written one
// vector after another it sees about three chains, too few to keep two vector ports busy;
// interleaved it sees N at every point. Only the elementwise operations are provided.
template <class T, int N>
struct Interleaved {
  struct V {
    typename T::V v[N];
  };
  struct M {
    typename T::M m[N];
  };
  static constexpr int kLanes = T::kLanes;
  static constexpr bool kHasLookup16 = T::kHasLookup16;

#define KLAB_EACH_(expr)            \
  V r;                              \
  for (int i = 0; i < N; ++i) r.v[i] = expr; \
  return r;
  static V Zero() { KLAB_EACH_(T::Zero()) }
  static V Set1(float x) { KLAB_EACH_(T::Set1(x)) }
  static V Fma(V a, V b, V c) { KLAB_EACH_(T::Fma(a.v[i], b.v[i], c.v[i])) }
  static V Add(V a, V b) { KLAB_EACH_(T::Add(a.v[i], b.v[i])) }
  static V Mul(V a, V b) { KLAB_EACH_(T::Mul(a.v[i], b.v[i])) }
  static V Sub(V a, V b) { KLAB_EACH_(T::Sub(a.v[i], b.v[i])) }
  static V Div(V a, V b) { KLAB_EACH_(T::Div(a.v[i], b.v[i])) }
  static V Min(V a, V b) { KLAB_EACH_(T::Min(a.v[i], b.v[i])) }
  static V Max(V a, V b) { KLAB_EACH_(T::Max(a.v[i], b.v[i])) }
  static V Fnma(V a, V b, V c) { KLAB_EACH_(T::Fnma(a.v[i], b.v[i], c.v[i])) }
  static V Fms(V a, V b, V c) { KLAB_EACH_(T::Fms(a.v[i], b.v[i], c.v[i])) }
  static V Abs(V a) { KLAB_EACH_(T::Abs(a.v[i])) }
  static V NegAbs(V a) { KLAB_EACH_(T::NegAbs(a.v[i])) }
  static V CopySign(V m, V s) { KLAB_EACH_(T::CopySign(m.v[i], s.v[i])) }
  static V Scale2(V p, V n) { KLAB_EACH_(T::Scale2(p.v[i], n.v[i])) }
  using Table = typename T::Table;
  static Table Table16(const float* p) { return T::Table16(p); }
  static V Lookup16(V index_bits, Table table) { KLAB_EACH_(T::Lookup16(index_bits.v[i], table)) }
  static V Recip(V d) { KLAB_EACH_(T::Recip(d.v[i])) }
  static V Select(M m, V a, V b) { KLAB_EACH_(T::Select(m.m[i], a.v[i], b.v[i])) }
  static V MulWhere(M m, V a, V b, V o) { KLAB_EACH_(T::MulWhere(m.m[i], a.v[i], b.v[i], o.v[i])) }
  static V SubWhere(M m, V a, V b, V o) { KLAB_EACH_(T::SubWhere(m.m[i], a.v[i], b.v[i], o.v[i])) }
#undef KLAB_EACH_
  static M Lt(V a, V b) {
    M r;
    for (int i = 0; i < N; ++i) r.m[i] = T::Lt(a.v[i], b.v[i]);
    return r;
  }
  static M Ge(V a, V b) {
    M r;
    for (int i = 0; i < N; ++i) r.m[i] = T::Ge(a.v[i], b.v[i]);
    return r;
  }
  static M NotLt(V a, V b) {
    M r;
    for (int i = 0; i < N; ++i) r.m[i] = T::NotLt(a.v[i], b.v[i]);
    return r;
  }
  static V LoadU(const float* p) {
    V r;
    for (int i = 0; i < N; ++i) r.v[i] = T::LoadU(p + i * T::kLanes);
    return r;
  }
  static void StoreU(float* p, V v) {
    for (int i = 0; i < N; ++i) T::StoreU(p + i * T::kLanes, v.v[i]);
  }
};

}  // namespace
}  // namespace klab::kernels::simd

#endif  // KLAB_KERNELS_SIMD_VEC_H_
