// NameFilter against std::regex_match (ECMAScript) on the patterns the suites are given and on
// the syntax it supports, and its linear time on a pattern std::regex takes seconds over.
#include "common/name_filter.h"

#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace klab {
namespace {

const std::vector<std::string> kNames = {
    "packed_8x32__avx512", "packed_8x32__avx2", "loop_ikj", "naive_ijk", "sgemm_auto",
    "linear_packed", "gelu_tanh", "gelu_erf", "silu", "softmax", "softmax_online", "layernorm",
    "rmsnorm", "add", "broadcast_add", "", "a", "aa", "ab", "abab", "x.y", "tiled_64"};

TEST(NameFilter, AgreesWithStdRegex) {
  const std::vector<std::string> patterns = {
      ".*", "packed_8x32.*", "loop_ikj.*", "gelu.*|softmax", "(gelu|silu).*", "sgemm_auto",
      "a*", "a+", "a?", "(ab)*", "(ab)+a?", "a{2}", "a{1,2}", "a{0,}b?", "[a-c]+", "[^a]*",
      "x\\.y", "x.y", "\\w+_\\d+", "tiled_\\d{2}", "(?:gelu|rms)[a-z]*", "(a|)+", "(a*)*",
      "softmax(_online)?", "", "^add$", "[.]", "[]a]*", "\\s*", "a|b|c|", "(((a)))"};
  for (const std::string& p : patterns) {
    auto f = NameFilter::Compile(p);
    ASSERT_TRUE(f.ok()) << p << ": " << f.status();
    const std::regex r(p);
    for (const std::string& name : kNames) {
      EXPECT_EQ(f->Matches(name), std::regex_match(name, r)) << "'" << p << "' on '" << name << "'";
    }
  }
}

TEST(NameFilter, RefusesBadPatternsSayingWhere) {
  for (const char* p : {"(", "(a", "a)", "*a", "a{", "a{3,2}", "a{999}", "[a", "a\\", "+",
                        "a{2,3", "[z-a]"}) {
    auto f = NameFilter::Compile(p);
    EXPECT_FALSE(f.ok()) << p;
    if (!f.ok()) {
      EXPECT_NE(std::string(f.status().message()).find("position"), std::string::npos)
          << f.status();
    }
  }
  // Counted repetition is bounded in the program it makes, not only per count.
  EXPECT_FALSE(NameFilter::Compile("((a{64}){64}){64}").ok());
  // Deep nesting is refused rather than recursing without bound.
  EXPECT_FALSE(NameFilter::Compile(std::string(200, '(') + std::string(200, ')')).ok());
}

// The fuzzer's find: std::regex took seconds per name on this; the NFA is linear.
TEST(NameFilter, PathologicalPatternsRunInLinearTime) {
  auto f = NameFilter::Compile("u?{0,1}+?{2,9}b");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->Matches(std::string(10000, 'u')));
  auto g = NameFilter::Compile("(a*)*b");
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->Matches(std::string(100000, 'a')));
  EXPECT_TRUE(g->Matches(std::string(100000, 'a') + "b"));
}

}  // namespace
}  // namespace klab
