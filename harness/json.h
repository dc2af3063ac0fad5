// The JSON type of every results file: nlohmann::ordered_json (Debian's nlohmann-json3-dev),
// ordered so files keep the key order of docs/results-schema.md and diff cleanly run to run.
#ifndef KLAB_HARNESS_JSON_H_
#define KLAB_HARNESS_JSON_H_

#include <nlohmann/json.hpp>

namespace klab::harness {
using Json = nlohmann::ordered_json;
}  // namespace klab::harness

#endif  // KLAB_HARNESS_JSON_H_
