// The one reader of published result records (`results/<machine>/runs/<id>/<key>.json.gz`, or plain JSON). A record is
// input — a file anyone can edit, truncate or damage — so it is parsed and its shape checked
// before any code reads a field: every field the comparison and the report read has the type
// they expect, or the record is refused with a status naming the file and the field. Callers
// skip a refused old record with a warning; it is never fatal to a new run.
#ifndef KLAB_HARNESS_RECORD_READER_H_
#define KLAB_HARNESS_RECORD_READER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/json.h"

namespace klab::harness {

// OK when `record` has the shape of a results record (docs: the results schema): an object with
// string schema, suite and run_id; env an object (host a string; during_run an object of numbers
// or nulls); rows an array of objects whose name, op, model, impl are strings, samples_ns an
// array of numbers, time_ns an object of numbers (or number pairs), alloc an object of numbers
// or nulls; scaling and hot_paths objects of the shapes the report reads. Fields it does not
// name may hold anything. InvalidArgument "<what>: <field path>: <what is wrong>" otherwise.
absl::Status ValidateRecord(const Json& record, const std::string& what);

// Parses and validates `text` (InvalidArgument for bad JSON or shape, naming `what`).
absl::StatusOr<Json> ParseRecord(const std::string& text, const std::string& what);

// Reads `path` (NotFound when it cannot be opened), inflates it when it is gzipped (a published
// <key>.json.gz) and parses it as above.
absl::StatusOr<Json> ReadRecord(const std::string& path);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_RECORD_READER_H_
