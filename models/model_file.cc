#include "models/model_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "absl/strings/str_format.h"

namespace klab::models {

absl::StatusOr<std::vector<char>> ReadFileBytes(const std::string& path, int64_t max_bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) {
    const int err = errno;
    const std::string msg = absl::StrFormat("cannot open '%s': %s", path, std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(msg) : absl::InvalidArgumentError(msg);
  }
  if (std::fseek(f.get(), 0, SEEK_END) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a regular file", path));
  }
  const long size = std::ftell(f.get());
  if (size < 0) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a regular file", path));
  }
  if (size > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is %d bytes, more than the %d this reader accepts", path, size,
                        max_bytes));
  }
  std::rewind(f.get());
  std::vector<char> bytes(static_cast<size_t>(size));
  if (size > 0 && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("short read from '%s'", path));
  }
  return bytes;
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
