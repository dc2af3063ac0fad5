// Reading model and tokenizer files safely: the whole file is read into memory once, then parsed
// through a cursor that checks every size before it reads, so a truncated or lying file gives an
// error naming the file and the field, never a read past the end of the buffer.
#ifndef KLAB_MODELS_MODEL_FILE_H_
#define KLAB_MODELS_MODEL_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace klab::models {

// The bytes of `path`; NotFound / InvalidArgument with the path and strerror when it cannot be
// read. Files larger than `max_bytes` are refused before anything is read.
absl::StatusOr<std::vector<char>> ReadFileBytes(const std::string& path,
                                                int64_t max_bytes = int64_t{1} << 32);

// OK when 1 <= value <= max, else InvalidArgument "<context>: <field> = <value> is outside [1,
// <max>]": the one check every header field of a model file gets before any size derives from it.
absl::Status CheckInRange(std::string_view context, std::string_view field, int64_t value,
                          int64_t max);

// A bounds-checked little-endian cursor over a byte buffer. `what` names the file in errors.
class ByteCursor {
 public:
  ByteCursor(const char* data, size_t size, std::string_view what)
      : data_(data), size_(size), what_(what) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return size_ - offset_; }

  absl::StatusOr<int32_t> ReadInt32(std::string_view field);
  absl::StatusOr<float> ReadFloat(std::string_view field);
  // Copies `count` floats into `out` (which holds count floats).
  absl::Status ReadFloats(std::string_view field, size_t count, float* out);
  // Moves past `bytes` bytes.
  absl::Status Skip(std::string_view field, size_t bytes);
  // A view of the next `bytes` bytes (valid while the buffer lives).
  absl::StatusOr<std::string_view> ReadBytes(std::string_view field, size_t bytes);

 private:
  absl::Status Need(std::string_view field, size_t bytes) const;

  const char* data_;
  size_t size_;
  size_t offset_ = 0;
  std::string what_;
};

}  // namespace klab::models

#endif  // KLAB_MODELS_MODEL_FILE_H_
