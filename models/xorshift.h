// The portable weight stream of docs/model-files.md: a 32-bit xorshift with state
// 0x9E3779B9 ^ seed, each step s ^= s << 13; s ^= s >> 17; s ^= s << 5, each value
// u = (s >> 8) 2^-23 - 1 in [-1, 1) as float32, and a tensor's value u scale + offset. Every
// operation is exact in float32 except the final + offset, which rounds once, the same way
// everywhere; so a model created from a seed equals its file bit for bit.
#ifndef KLAB_MODELS_XORSHIFT_H_
#define KLAB_MODELS_XORSHIFT_H_

#include <cstddef>
#include <cstdint>

namespace klab::models {

class XorshiftWeights {
 public:
  explicit XorshiftWeights(uint32_t seed) : state_(0x9E3779B9u ^ seed) {}

  float Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return static_cast<float>(state_ >> 8) * 0x1p-23f - 1.0f;
  }

  // out[i] = Next() * scale + offset for i < count (scale a power of two: the product is exact).
  void Fill(float* out, size_t count, float scale, float offset) {
    for (size_t i = 0; i < count; ++i) out[i] = Next() * scale + offset;
  }

 private:
  uint32_t state_;
};

}  // namespace klab::models

#endif  // KLAB_MODELS_XORSHIFT_H_
