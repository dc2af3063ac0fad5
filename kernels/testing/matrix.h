// Test matrices: row-major float storage with a leading dimension, padding filled with NaN so a
// kernel that reads past its row lengths fails loudly, and fixed-seed random fills.
#ifndef KLAB_KERNELS_TESTING_MATRIX_H_
#define KLAB_KERNELS_TESTING_MATRIX_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace klab::kernels::testing {

class Matrix {
 public:
  // rows x cols stored with leading dimension ld >= cols; padding (columns cols..ld-1) is NaN.
  Matrix(int64_t rows, int64_t cols, int64_t ld)
      : rows_(rows), cols_(cols), ld_(ld),
        data_(static_cast<size_t>(std::max<int64_t>(rows * ld, 1)),
              std::numeric_limits<float>::quiet_NaN()) {}
  Matrix(int64_t rows, int64_t cols) : Matrix(rows, cols, std::max<int64_t>(cols, 1)) {}

  // Uniform values in [lo, hi) from a fixed seed; padding stays NaN.
  void FillRandom(uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (int64_t i = 0; i < rows_; ++i) {
      for (int64_t j = 0; j < cols_; ++j) at(i, j) = dist(rng);
    }
  }
  void Fill(float v) {
    for (int64_t i = 0; i < rows_; ++i) {
      for (int64_t j = 0; j < cols_; ++j) at(i, j) = v;
    }
  }

  float& at(int64_t i, int64_t j) { return data_[i * ld_ + j]; }
  float at(int64_t i, int64_t j) const { return data_[i * ld_ + j]; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t ld() const { return ld_; }

 private:
  int64_t rows_, cols_, ld_;
  std::vector<float> data_;
};

}  // namespace klab::kernels::testing

#endif  // KLAB_KERNELS_TESTING_MATRIX_H_
