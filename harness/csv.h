// A record's rows as CSV (RFC 4180): one line per result, for spreadsheets and pandas.
//
// Columns: run_id, suite, machine, then every field any row has, nested objects flattened with
// dots as the schema names them (time_ns.median, shape.m, alloc.bytes, check.ok), in order of
// first appearance. A cell holds the value's JSON text (numbers at full precision, true/false,
// arrays such as samples_ns as [..]), a string as itself unless it would read back as something
// else (then as its JSON string); an absent field is an empty cell. RowsFromCsv reverses it.
#ifndef KLAB_HARNESS_CSV_H_
#define KLAB_HARNESS_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/json.h"

namespace klab::harness {

std::string RecordCsv(const Json& record);

// The rows of a RecordCsv text (without the run_id, suite and machine columns), as JSON objects;
// InvalidArgument for text that is not such a CSV.
absl::StatusOr<Json> RowsFromCsv(const std::string& csv);

// The cells of CSV text, line by line (quoted cells may hold commas, quotes and newlines).
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(const std::string& csv);

}  // namespace klab::harness

#endif  // KLAB_HARNESS_CSV_H_
