#include "models/model_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace klab::models {

absl::StatusOr<InputFile> InputFile::Open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = absl::StrFormat("cannot open '%s': %s", path, std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::InvalidArgumentError(msg);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a folder"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is %s, not a model or tokenizer file", path, kind));
  }
  return InputFile(fd, static_cast<int64_t>(st.st_size), path);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::vector<char>> InputFile::ReadPrefix(size_t bytes) const {
  std::vector<char> out(std::min<int64_t>(static_cast<int64_t>(bytes), size_));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(fd_, out.data() + done, out.size() - done, done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "short read from '%s' (%d of %d bytes): %s", path_, done, out.size(),
          got < 0 ? std::strerror(errno) : "the file shrank"));
    }
    done += static_cast<size_t>(got);
  }
  return out;
}

absl::StatusOr<std::vector<char>> InputFile::ReadAll(int64_t max_bytes) const {
  if (size_ > max_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "'%s' is %d bytes, more than the %d this reader accepts", path_, size_, max_bytes));
  }
  return ReadPrefix(static_cast<size_t>(size_));
}

absl::StatusOr<std::vector<char>> ReadModelFile(
    const std::string& path, size_t header_bytes,
    const std::function<absl::Status(const std::vector<char>& header, int64_t file_size)>& check) {
  absl::StatusOr<InputFile> file = InputFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<char>> header = file->ReadPrefix(header_bytes);
  if (!header.ok()) return header.status();
  if (absl::Status s = check(*header, file->size()); !s.ok()) return s;
  return file->ReadAll(file->size());
}

absl::StatusOr<std::vector<char>> ReadFileBytes(const std::string& path, int64_t max_bytes) {
  absl::StatusOr<InputFile> f = InputFile::Open(path);
  if (!f.ok()) return f.status();
  return f->ReadAll(max_bytes);
}

absl::Status CheckMemory(std::string_view what, int64_t bytes, const LoadLimits& limits) {
  if (bytes <= limits.max_memory_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s needs %.1f MiB (weights, packed weights, activations, KV cache), more than the limit "
      "of %.1f MiB (raise it with --max_memory_mb)",
      what, bytes / 1048576.0, limits.max_memory_bytes / 1048576.0));
}

absl::Status CheckFinite(std::string_view what, std::string_view tensor, const float* data,
                         size_t count) {
  // A float is NaN or Inf exactly when its exponent bits are all ones: an integer test that the
  // compiler vectorises, so the pass runs at memory speed; the element is searched for only in a
  // bad tensor.
  bool bad = false;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + i, 4);
    bad |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  if (!bad) return absl::OkStatus();
  size_t i = 0;
  while (i < count && std::isfinite(data[i])) ++i;
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: weight %s[%d] is %g; a model with a non-finite weight computes only garbage", what,
      tensor, i, data[i]));
}

absl::Status CheckInRange(std::string_view context, std::string_view field, int64_t value,
                          int64_t max) {
  if (value < 1 || value > max) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s = %d is outside [1, %d]", context, field, value, max));
  }
  return absl::OkStatus();
}

absl::Status ByteCursor::Need(std::string_view field, size_t bytes) const {
  if (bytes > size_ - offset_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is truncated: %s needs %d bytes at offset %d, but the file has %d", what_, field,
        bytes, offset_, size_));
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t> ByteCursor::ReadInt32(std::string_view field) {
  absl::Status s = Need(field, 4);
  if (!s.ok()) return s;
  int32_t v;
  std::memcpy(&v, data_ + offset_, 4);  // the files are little-endian, like this machine
  offset_ += 4;
  return v;
}

absl::StatusOr<float> ByteCursor::ReadFloat(std::string_view field) {
  absl::Status s = Need(field, 4);
  if (!s.ok()) return s;
  float v;
  std::memcpy(&v, data_ + offset_, 4);
  offset_ += 4;
  return v;
}

absl::Status ByteCursor::ReadFloats(std::string_view field, size_t count, float* out) {
  if (count > remaining() / 4) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is truncated: %s needs %d floats at offset %d, but the file has %d bytes", what_,
        field, count, offset_, size_));
  }
  std::memcpy(out, data_ + offset_, count * 4);
  offset_ += count * 4;
  return absl::OkStatus();
}

absl::Status ByteCursor::Skip(std::string_view field, size_t bytes) {
  absl::Status s = Need(field, bytes);
  if (!s.ok()) return s;
  offset_ += bytes;
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> ByteCursor::ReadBytes(std::string_view field, size_t bytes) {
  absl::Status s = Need(field, bytes);
  if (!s.ok()) return s;
  std::string_view v(data_ + offset_, bytes);
  offset_ += bytes;
  return v;
}

}  // namespace klab::models
