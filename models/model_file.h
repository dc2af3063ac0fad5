// Reading model and tokenizer files safely. A file is opened without blocking and must be a regular
// file (a FIFO, device or folder is refused at once); its header is read and checked, with the
// memory the model will need, before the rest is read; then the bytes are parsed through a cursor
// that checks every size before it reads, so a truncated or lying file gives an error naming the
// file and the field, never a read past the end of the buffer.
#ifndef KLAB_MODELS_MODEL_FILE_H_
#define KLAB_MODELS_MODEL_FILE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace klab::models {

// An open regular file. Open never blocks: it opens with O_NONBLOCK and refuses anything but a
// regular file (NotFound when absent, InvalidArgument naming the kind otherwise).
class InputFile {
 public:
  static absl::StatusOr<InputFile> Open(const std::string& path);
  InputFile(InputFile&& o) noexcept : fd_(o.fd_), size_(o.size_), path_(std::move(o.path_)) {
    o.fd_ = -1;
  }
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  ~InputFile();

  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // The first min(bytes, size()) bytes.
  absl::StatusOr<std::vector<char>> ReadPrefix(size_t bytes) const;
  // The whole file; InvalidArgument when it is larger than `max_bytes`.
  absl::StatusOr<std::vector<char>> ReadAll(int64_t max_bytes) const;

 private:
  InputFile(int fd, int64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_;
  int64_t size_;
  std::string path_;
};

// A model file read header first: opens `path` (InputFile), reads its first `header_bytes`, and
// lets `check(header, file_size)` refuse it (an impossible header, a size the header does not
// predict, more memory than allowed) before the rest is read. Returns the whole file.
absl::StatusOr<std::vector<char>> ReadModelFile(
    const std::string& path, size_t header_bytes,
    const std::function<absl::Status(const std::vector<char>& header, int64_t file_size)>& check);

// The bytes of `path` (InputFile::Open, then ReadAll(max_bytes)).
absl::StatusOr<std::vector<char>> ReadFileBytes(const std::string& path,
                                                int64_t max_bytes = int64_t{1} << 32);

// What a model may take of the machine. A model needs its weights, their packed copy, its
// activations and its KV cache; a header asking for more than `max_memory_bytes` in all is refused
// before anything is allocated (ResourceExhausted, saying how much it needs and how to raise the
// limit). 4 GiB: a sixth of these 24 GiB machines, ~100x what the lab's models need.
struct LoadLimits {
  static constexpr int64_t kDefaultMaxMemoryBytes = int64_t{4} << 30;
  int64_t max_memory_bytes = kDefaultMaxMemoryBytes;
};

// OK when `bytes` <= limits.max_memory_bytes, else ResourceExhausted naming `what`.
absl::Status CheckMemory(std::string_view what, int64_t bytes, const LoadLimits& limits);

// OK when all `count` floats of `tensor` are finite, else InvalidArgument naming `what`, the
// tensor and the first bad element (a NaN or Inf weight makes every output garbage).
absl::Status CheckFinite(std::string_view what, std::string_view tensor, const float* data,
                         size_t count);

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
