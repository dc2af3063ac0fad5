// gzip (RFC 1952) in memory, through the system's zlib: published records are stored as
// `<record>.json.gz` so that a run of several hundred rows with all their timing samples costs
// the repository tens of kilobytes, not a megabyte (docs/results-schema.md, "Size").
#ifndef KLAB_HARNESS_GZIP_H_
#define KLAB_HARNESS_GZIP_H_

#include <string>

#include "absl/status/statusor.h"

namespace klab::harness {

// `data` compressed as one gzip member (level 9).
std::string GzipCompress(const std::string& data);

// True when `data` starts with the gzip magic bytes (1f 8b).
bool LooksGzipped(const std::string& data);

// The uncompressed contents of a gzip stream; InvalidArgument naming `what` when it is damaged
// or truncated, or would inflate beyond `max_bytes` (a record is never that large; a hostile
// file could be).
absl::StatusOr<std::string> GzipDecompress(const std::string& data, const std::string& what,
                                           size_t max_bytes = size_t{1} << 30);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_GZIP_H_
