// One aligned allocation carved into float tensors: a model's weights live in one arena, its
// activations and KV cache in another, so creating a model costs two allocations and running it
// none (docs/style.md rule 13: the structs that point into an arena say each tensor's shape).
//
// Usage: count the floats with Plan(), allocate once, then hand out the same sizes in the same
// order with Take(). Every tensor starts on a 64-byte boundary (its size is rounded up to 16
// floats), so vector loads of a row never straddle two tensors' cache lines.
#ifndef KLAB_MODELS_ARENA_H_
#define KLAB_MODELS_ARENA_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace klab::models {

class FloatArena {
 public:
  static constexpr size_t kAlignFloats = 16;  // 64 bytes

  static constexpr size_t Rounded(size_t count) {
    return (count + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  }

  FloatArena() = default;
  // `capacity` floats, zero-filled (so untouched padding is never garbage).
  explicit FloatArena(size_t capacity) : capacity_(capacity) {
    data_ = static_cast<float*>(
        ::operator new(capacity == 0 ? 64 : capacity * sizeof(float), std::align_val_t{64}));
    std::memset(data_, 0, capacity * sizeof(float));
  }
  ~FloatArena() { Release(); }
  FloatArena(FloatArena&& o) noexcept { *this = static_cast<FloatArena&&>(o); }
  FloatArena& operator=(FloatArena&& o) noexcept {
    if (this != &o) {
      Release();
      data_ = o.data_;
      capacity_ = o.capacity_;
      used_ = o.used_;
      o.data_ = nullptr;
      o.capacity_ = o.used_ = 0;
    }
    return *this;
  }
  FloatArena(const FloatArena&) = delete;
  FloatArena& operator=(const FloatArena&) = delete;

  // The next `count` floats (64-byte aligned). The caller planned the capacity.
  float* Take(size_t count) {
    assert(used_ + Rounded(count) <= capacity_);
    float* p = data_ + used_;
    used_ += Rounded(count);
    return p;
  }

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }
  size_t bytes() const { return capacity_ * sizeof(float); }

 private:
  void Release() {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t{64});
    data_ = nullptr;
  }

  float* data_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

// Sums Rounded(count) over the tensors of a plan, in the order they will be taken. The sum
// saturates at SIZE_MAX instead of wrapping, so a plan too large to hold is never mistaken for a
// small one (the models' header bounds keep each count far below 2^64 already).
class ArenaPlan {
 public:
  ArenaPlan& Add(size_t count) {
    const size_t rounded = count > SIZE_MAX - FloatArena::kAlignFloats
                               ? SIZE_MAX
                               : FloatArena::Rounded(count);
    if (__builtin_add_overflow(total_, rounded, &total_)) total_ = SIZE_MAX;
    return *this;
  }
  size_t total() const { return total_; }
  // The plan in bytes, saturating at INT64_MAX.
  int64_t bytes() const {
    return total_ > static_cast<size_t>(INT64_MAX) / sizeof(float)
               ? INT64_MAX
               : static_cast<int64_t>(total_ * sizeof(float));
  }

 private:
  size_t total_ = 0;
};

}  // namespace klab::models

#endif  // KLAB_MODELS_ARENA_H_
