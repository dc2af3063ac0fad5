// A heap buffer of floats aligned to a cache line (64 bytes), for kernel inputs and outputs.
//
// Memory is not touched on allocation; the caller fills it on the thread that will use it, so
// first-touch places its pages on that thread's NUMA node.
#ifndef KLAB_HARNESS_ALIGNED_BUFFER_H_
#define KLAB_HARNESS_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

namespace klab::harness {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) : count_(count) {
    const size_t bytes = ((count * sizeof(float) + kAlignment - 1) / kAlignment) * kAlignment;
    data_ = static_cast<float*>(std::aligned_alloc(kAlignment, bytes == 0 ? kAlignment : bytes));
    if (data_ == nullptr) throw std::bad_alloc();
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), count_(o.count_) {
    o.data_ = nullptr;
    o.count_ = 0;
  }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return count_; }
  float& operator[](size_t i) { return data_[i]; }

 private:
  float* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace klab::harness

#endif  // KLAB_HARNESS_ALIGNED_BUFFER_H_
