#include "harness/csv.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace klab::harness {
namespace {

void Flatten(const Json& value, const std::string& prefix,
             std::vector<std::pair<std::string, const Json*>>* out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [k, v] : value.items()) {
      Flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    }
  } else {
    out->emplace_back(prefix, &value);
  }
}

// A string stays bare unless it would read back as another JSON value (or is empty).
std::string Cell(const Json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const Json parsed = Json::parse(s, nullptr, /*allow_exceptions=*/false);
    return s.empty() || !parsed.is_discarded() ? v.dump() : s;
  }
  return v.dump();
}

std::string Quote(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string q = "\"";
  for (char c : cell) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

Json FromCell(const std::string& cell) {
  const Json parsed = Json::parse(cell, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(cell) : parsed;
}

constexpr int kLeadingColumns = 3;  // run_id, suite, machine

}  // namespace

std::string RecordCsv(const Json& record) {
  std::vector<std::string> columns;
  std::map<std::string, size_t> index;
  std::vector<std::map<std::string, std::string>> cells;
  const Json rows = record.value("rows", Json::array());
  for (const Json& row : rows) {
    std::vector<std::pair<std::string, const Json*>> leaves;
    Flatten(row, "", &leaves);
    std::map<std::string, std::string> line;
    for (const auto& [name, value] : leaves) {
      if (!index.count(name)) {
        index[name] = columns.size();
        columns.push_back(name);
      }
      line[name] = Cell(*value);
    }
    cells.push_back(std::move(line));
  }
  const Json env = record.value("env", Json::object());
  const std::string lead = absl::StrCat(Quote(record.value("run_id", "")), ",",
                                        Quote(record.value("suite", "")), ",",
                                        Quote(env.value("machine", "")));
  std::vector<std::string> header = {"run_id", "suite", "machine"};
  for (const std::string& c : columns) header.push_back(Quote(c));
  std::string out = absl::StrJoin(header, ",") + "\n";
  for (const auto& line : cells) {
    std::string text = lead;
    for (const std::string& c : columns) {
      auto it = line.find(c);
      text += "," + (it == line.end() ? std::string() : Quote(it->second));
    }
    out += text + "\n";
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(const std::string& csv) {
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> line;
  std::string cell;
  bool quoted = false, any = false;
  for (size_t i = 0; i < csv.size(); ++i) {
    const char c = csv[i];
    if (quoted) {
      if (c == '"' && i + 1 < csv.size() && csv[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      line.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n') {
      line.push_back(std::move(cell));
      cell.clear();
      lines.push_back(std::move(line));
      line.clear();
      any = false;
    } else if (c != '\r') {
      cell += c;
      any = true;
    }
  }
  if (quoted) return absl::InvalidArgumentError("CSV: a quoted cell is not closed");
  if (any) {
    line.push_back(std::move(cell));
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::StatusOr<Json> RowsFromCsv(const std::string& csv) {
  absl::StatusOr<std::vector<std::vector<std::string>>> lines = ParseCsv(csv);
  if (!lines.ok()) return lines.status();
  if (lines->empty() || lines->front().size() < kLeadingColumns ||
      lines->front()[0] != "run_id") {
    return absl::InvalidArgumentError("CSV: no header starting with run_id");
  }
  const std::vector<std::string>& header = lines->front();
  Json rows = Json::array();
  for (size_t i = 1; i < lines->size(); ++i) {
    const std::vector<std::string>& cells = (*lines)[i];
    if (cells.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat("CSV: line ", i + 1, " has ", cells.size(),
                                                     " cells, the header ", header.size()));
    }
    Json row = Json::object();
    for (size_t c = kLeadingColumns; c < cells.size(); ++c) {
      if (cells[c].empty()) continue;
      Json* at = &row;
      for (absl::string_view part : absl::StrSplit(header[c], '.')) at = &(*at)[std::string(part)];
      *at = FromCell(cells[c]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace klab::harness
