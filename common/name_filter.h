// The --variants / --ops filters: a regular expression matched against a whole name, in time
// linear in the name (a Thompson NFA run as a Pike VM), so no pattern can hang a suite the way
// std::regex's backtracking did ('u?{0,1}+?{2,9}b' took seconds per name; long patterns
// overflowed its recursive matcher's stack).
//
// Syntax (the subset names need): literals; '.'; classes [abc], [a-z], [^...]; escapes \. \d \w
// \s (any other escaped character is itself); groups ( ) and (?: ); alternation |; the
// quantifiers * + ? {m} {m,} {m,n} (m, n <= 64), each optionally followed by '?' (laziness does
// not matter for a whole-name match). Anchors ^ and $ are accepted at the ends and ignored: the
// match is always of the whole name.
#ifndef KLAB_COMMON_NAME_FILTER_H_
#define KLAB_COMMON_NAME_FILTER_H_

#include <bitset>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace klab {

class NameFilter {
 public:
  // The compiled program is capped (kMaxInstructions) so that counted repetition cannot blow it
  // up; InvalidArgument names the position of a syntax error.
  static constexpr size_t kMaxInstructions = 20000;
  static absl::StatusOr<NameFilter> Compile(std::string_view pattern);

  // Whether the whole of `name` matches. O(|name| x program size).
  bool Matches(std::string_view name) const;

  struct Instruction {
    enum Op { kChar, kSplit, kJump, kMatch } op;
    std::bitset<256> chars;  // kChar
    int x = 0, y = 0;        // kSplit: both; kJump: x
  };

 private:
  std::vector<Instruction> program_;
};

}  // namespace klab

#endif  // KLAB_COMMON_NAME_FILTER_H_
