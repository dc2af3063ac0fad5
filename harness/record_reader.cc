#include "harness/record_reader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "harness/gzip.h"
#include "absl/strings/str_format.h"

namespace klab::harness {
namespace {

// Walks a record, stopping at the first field of the wrong type.
class Checker {
 public:
  explicit Checker(const std::string& what) : what_(what) {}

  absl::Status Fail(const std::string& field, const std::string& expected, const Json& got) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s should be %s, not %s", what_, field, expected, std::string(got.type_name())));
  }
  // `key` of `object` is absent or passes `ok`.
  template <class Pred>
  absl::Status Optional(const Json& object, const std::string& path, const char* key,
                        const char* expected, Pred ok) {
    auto it = object.find(key);
    if (it == object.end() || ok(*it)) return absl::OkStatus();
    return Fail(path + "." + key, expected, *it);
  }
  template <class Pred>
  absl::Status Required(const Json& object, const std::string& path, const char* key,
                        const char* expected, Pred ok) {
    auto it = object.find(key);
    if (it == object.end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %s.%s is missing (%s)", what_, path, key, expected));
    }
    return ok(*it) ? absl::OkStatus() : Fail(path + "." + key, expected, *it);
  }

 private:
  std::string what_;
};

bool IsString(const Json& j) { return j.is_string(); }
bool IsNumber(const Json& j) { return j.is_number(); }
bool IsNumberOrNull(const Json& j) { return j.is_number() || j.is_null(); }
bool IsNumberArray(const Json& j) {
  if (!j.is_array()) return false;
  for (const Json& v : j) {
    if (!v.is_number()) return false;
  }
  return true;
}
// An object whose values are numbers or null (during_run, alloc, counters).
bool IsObjectOfNumbers(const Json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (!IsNumberOrNull(v) && !v.is_string()) return false;  // a counter may say why it is null
  }
  return true;
}
// An object whose values are all numbers (the scaling ratios the report formats).
bool IsObjectOfStrictNumbers(const Json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_number()) return false;
  }
  return true;
}
// time_ns: numbers, and the median's confidence interval as a pair of numbers.
bool IsTimeObject(const Json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (!IsNumberOrNull(v) && !IsNumberArray(v)) return false;
  }
  return true;
}

#define KLAB_CHECK_OK(expr)                   \
  do {                                        \
    const absl::Status status_ = (expr);      \
    if (!status_.ok()) return status_;        \
  } while (0)

absl::Status CheckRow(Checker& c, const Json& row, const std::string& path) {
  if (!row.is_object()) return c.Fail(path, "an object", row);
  for (const char* key : {"name", "op", "model", "impl", "variant"}) {
    KLAB_CHECK_OK(c.Optional(row, path, key, "a string", IsString));
  }
  KLAB_CHECK_OK(c.Optional(row, path, "samples_ns", "an array of numbers", IsNumberArray));
  KLAB_CHECK_OK(c.Optional(row, path, "time_ns", "an object of numbers", IsTimeObject));
  KLAB_CHECK_OK(c.Optional(row, path, "alloc", "an object of numbers", IsObjectOfNumbers));
  KLAB_CHECK_OK(c.Optional(row, path, "threads", "a number", IsNumber));
  return absl::OkStatus();
}

absl::Status CheckScaling(Checker& c, const Json& scaling) {
  if (!scaling.is_object()) return c.Fail("scaling", "an object", scaling);
  if (auto it = scaling.find("size"); it != scaling.end()) {
    if (!IsObjectOfStrictNumbers(*it)) {
      return c.Fail("scaling.size", "an object of numbers", *it);
    }
  }
  if (auto it = scaling.find("threads"); it != scaling.end()) {
    if (!it->is_object()) return c.Fail("scaling.threads", "an object", *it);
    for (const auto& [key, per] : it->items()) {
      const std::string path = "scaling.threads." + key;
      if (!per.is_object()) return c.Fail(path, "an object", per);
      for (const auto& [t, v] : per.items()) {
        if (!IsObjectOfStrictNumbers(v)) {
          return c.Fail(path + "." + t, "an object of numbers", v);
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHotPaths(Checker& c, const Json& hot) {
  if (!hot.is_object()) return c.Fail("hot_paths", "an object", hot);
  for (const auto& [model, entry] : hot.items()) {
    const std::string path = "hot_paths." + model;
    if (!entry.is_object()) return c.Fail(path, "an object", entry);
    KLAB_CHECK_OK(c.Optional(entry, path, "share", "an object of numbers",
                             IsObjectOfStrictNumbers));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRecord(const Json& record, const std::string& what) {
  Checker c(what);
  if (!record.is_object()) return c.Fail("the record", "an object", record);
  for (const char* key : {"schema", "suite", "run_id"}) {
    KLAB_CHECK_OK(c.Required(record, "record", key, "a string", IsString));
  }
  KLAB_CHECK_OK(c.Optional(record, "record", "command", "a string", IsString));
  if (auto env = record.find("env"); env != record.end()) {
    if (!env->is_object()) return c.Fail("env", "an object", *env);
    KLAB_CHECK_OK(c.Optional(*env, "env", "host", "a string", IsString));
    KLAB_CHECK_OK(c.Optional(*env, "env", "cpu_model", "a string", IsString));
    KLAB_CHECK_OK(c.Optional(*env, "env", "during_run", "an object of numbers",
                             IsObjectOfNumbers));
  }
  if (auto rows = record.find("rows"); rows != record.end()) {
    if (!rows->is_array()) return c.Fail("rows", "an array", *rows);
    for (size_t i = 0; i < rows->size(); ++i) {
      KLAB_CHECK_OK(CheckRow(c, (*rows)[i], absl::StrCat("rows[", i, "]")));
    }
  }
  if (auto scaling = record.find("scaling"); scaling != record.end()) {
    KLAB_CHECK_OK(CheckScaling(c, *scaling));
  }
  if (auto hot = record.find("hot_paths"); hot != record.end()) {
    KLAB_CHECK_OK(CheckHotPaths(c, *hot));
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> ParseRecord(const std::string& text, const std::string& what) {
  Json record = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON"));
  }
  KLAB_CHECK_OK(ValidateRecord(record, what));
  return record;
}

absl::StatusOr<Json> ReadRecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  // Published records are gzipped (<key>.json.gz); --out writes plain JSON. Either reads.
  if (LooksGzipped(ss.str())) {
    absl::StatusOr<std::string> text = GzipDecompress(ss.str(), path);
    if (!text.ok()) return text.status();
    return ParseRecord(*text, path);
  }
  return ParseRecord(ss.str(), path);
}

}  // namespace klab::harness
