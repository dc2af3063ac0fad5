#include "common/name_filter.h"

#include <memory>

#include "absl/strings/str_format.h"

namespace klab {
namespace {

constexpr int kMaxCount = 64;    // {m,n}
constexpr int kMaxNesting = 64;  // ( ... ) depth

struct Node {
  enum Kind { kEmpty, kChars, kConcat, kAlt, kRepeat } kind = kEmpty;
  std::bitset<256> chars;
  std::vector<std::unique_ptr<Node>> children;
  int min = 0, max = 0;  // kRepeat; max < 0: unbounded
};

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  absl::StatusOr<std::unique_ptr<Node>> Parse() {
    if (!p_.empty() && p_.front() == '^') ++at_;
    auto node = Alternation(0);
    if (!node.ok()) return node;
    if (at_ + 1 == p_.size() && p_[at_] == '$') ++at_;
    if (at_ != p_.size()) return Error("unexpected ')'");
    return node;
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s at position %d of the pattern", what, at_));
  }
  bool AtEnd() const { return at_ >= p_.size() || (p_[at_] == '$' && at_ + 1 == p_.size()); }

  absl::StatusOr<std::unique_ptr<Node>> Alternation(int depth) {
    auto alt = std::make_unique<Node>();
    alt->kind = Node::kAlt;
    while (true) {
      auto branch = Concatenation(depth);
      if (!branch.ok()) return branch.status();
      alt->children.push_back(std::move(*branch));
      if (AtEnd() || p_[at_] != '|') break;
      ++at_;
    }
    if (alt->children.size() == 1) return std::move(alt->children[0]);
    return alt;
  }

  absl::StatusOr<std::unique_ptr<Node>> Concatenation(int depth) {
    auto cat = std::make_unique<Node>();
    cat->kind = Node::kConcat;
    while (!AtEnd() && p_[at_] != '|' && p_[at_] != ')') {
      auto atom = Atom(depth);
      if (!atom.ok()) return atom.status();
      std::unique_ptr<Node> item = std::move(*atom);
      while (!AtEnd() && (p_[at_] == '*' || p_[at_] == '+' || p_[at_] == '?' || p_[at_] == '{')) {
        auto rep = std::make_unique<Node>();
        rep->kind = Node::kRepeat;
        const char q = p_[at_++];
        if (q == '*') {
          rep->min = 0, rep->max = -1;
        } else if (q == '+') {
          rep->min = 1, rep->max = -1;
        } else if (q == '?') {
          rep->min = 0, rep->max = 1;
        } else {
          auto counts = Counts();
          if (!counts.ok()) return counts.status();
          rep->min = counts->first, rep->max = counts->second;
        }
        if (!AtEnd() && p_[at_] == '?') ++at_;  // lazy: the same set of whole matches
        rep->children.push_back(std::move(item));
        item = std::move(rep);
      }
      cat->children.push_back(std::move(item));
    }
    return cat;
  }

  absl::StatusOr<std::pair<int, int>> Counts() {
    auto number = [&]() -> int {
      int v = -1;
      while (at_ < p_.size() && p_[at_] >= '0' && p_[at_] <= '9' && v <= kMaxCount) {
        v = (v < 0 ? 0 : v * 10) + (p_[at_++] - '0');
      }
      return v;
    };
    const int lo = number();
    if (lo < 0) return Error("a count '{' without a number");
    int hi = lo;
    if (at_ < p_.size() && p_[at_] == ',') {
      ++at_;
      hi = (at_ < p_.size() && p_[at_] == '}') ? -1 : number();
      if (hi == -1 && (at_ >= p_.size() || p_[at_] != '}')) return Error("a bad count");
    }
    if (at_ >= p_.size() || p_[at_] != '}') return Error("a count without '}'");
    ++at_;
    if (lo > kMaxCount || hi > kMaxCount) {
      return Error(absl::StrFormat("a count above %d", kMaxCount));
    }
    if (hi >= 0 && hi < lo) return Error("a count {m,n} with n < m");
    return std::make_pair(lo, hi);
  }

  // One character of a class or an escape, as a set.
  std::bitset<256> Escape(char c) const {
    std::bitset<256> s;
    auto range = [&](int a, int b) {
      for (int i = a; i <= b; ++i) s.set(i);
    };
    switch (c) {
      case 'd': range('0', '9'); break;
      case 'w': range('0', '9'); range('a', 'z'); range('A', 'Z'); s.set('_'); break;
      case 's': for (char w : {' ', '\t', '\n', '\r', '\f', '\v'}) s.set(static_cast<unsigned char>(w)); break;
      case 'n': s.set('\n'); break;
      case 't': s.set('\t'); break;
      default: s.set(static_cast<unsigned char>(c));
    }
    return s;
  }

  absl::StatusOr<std::unique_ptr<Node>> Atom(int depth) {
    auto node = std::make_unique<Node>();
    node->kind = Node::kChars;
    const char c = p_[at_++];
    switch (c) {
      case '(': {
        if (depth >= kMaxNesting) return Error("groups nested too deep");
        if (p_.substr(at_, 2) == "?:") at_ += 2;
        auto inner = Alternation(depth + 1);
        if (!inner.ok()) return inner.status();
        if (at_ >= p_.size() || p_[at_] != ')') return Error("a '(' without ')'");
        ++at_;
        return std::move(*inner);
      }
      case '.':
        node->chars.set();
        node->chars.reset('\n');
        return node;
      case '[':
        return Class();
      case '\\':
        if (at_ >= p_.size()) return Error("a '\\' at the end");
        node->chars = Escape(p_[at_++]);
        return node;
      case '*': case '+': case '?': case '{':
        --at_;
        return Error(absl::StrFormat("'%c' with nothing to repeat", c));
      default:
        node->chars.set(static_cast<unsigned char>(c));
        return node;
    }
  }

  absl::StatusOr<std::unique_ptr<Node>> Class() {
    auto node = std::make_unique<Node>();
    node->kind = Node::kChars;
    bool negate = false;
    if (at_ < p_.size() && p_[at_] == '^') negate = true, ++at_;
    // As in ECMAScript, ']' always closes: [] matches nothing and [^] anything.
    while (at_ < p_.size() && p_[at_] != ']') {
      std::bitset<256> one;
      unsigned char lo = static_cast<unsigned char>(p_[at_]);
      if (p_[at_] == '\\' && at_ + 1 < p_.size()) {
        one = Escape(p_[at_ + 1]);
        lo = static_cast<unsigned char>(p_[at_ + 1]);
        at_ += 2;
      } else {
        one.set(lo);
        ++at_;
      }
      if (at_ + 1 < p_.size() && p_[at_] == '-' && p_[at_ + 1] != ']') {
        const unsigned char hi = static_cast<unsigned char>(p_[at_ + 1]);
        at_ += 2;
        if (hi < lo) return Error("a class range whose end is before its start");
        for (int i = lo; i <= hi; ++i) one.set(i);
      }
      node->chars |= one;
    }
    if (at_ >= p_.size()) return Error("a '[' without ']'");
    ++at_;
    if (negate) node->chars.flip();
    return node;
  }

  std::string_view p_;
  size_t at_ = 0;
};

class Compiler {
 public:
  explicit Compiler(std::vector<NameFilter::Instruction>* program) : prog_(program) {}

  bool Emit(const Node& n) {
    if (prog_->size() > NameFilter::kMaxInstructions) return false;
    switch (n.kind) {
      case Node::kEmpty:
        return true;
      case Node::kChars: {
        NameFilter::Instruction i{NameFilter::Instruction::kChar, n.chars};
        prog_->push_back(i);
        return true;
      }
      case Node::kConcat:
        for (const auto& c : n.children) {
          if (!Emit(*c)) return false;
        }
        return true;
      case Node::kAlt: {
        // split L1, next; L1: a; jump end; next: split L2, ... ; last: z; end:
        std::vector<int> jumps;
        for (size_t k = 0; k < n.children.size(); ++k) {
          const bool last = k + 1 == n.children.size();
          int split = -1;
          if (!last) split = Add(NameFilter::Instruction::kSplit);
          if (!last) (*prog_)[split].x = Size();
          if (!Emit(*n.children[k])) return false;
          if (!last) {
            jumps.push_back(Add(NameFilter::Instruction::kJump));
            (*prog_)[split].y = Size();
          }
        }
        for (int j : jumps) (*prog_)[j].x = Size();
        return true;
      }
      case Node::kRepeat: {
        const Node& e = *n.children[0];
        for (int k = 0; k < n.min; ++k) {
          if (!Emit(e)) return false;
        }
        if (n.max < 0) {  // L: split body, end; body: e; jump L; end:
          const int loop = Add(NameFilter::Instruction::kSplit);
          (*prog_)[loop].x = Size();
          if (!Emit(e)) return false;
          const int back = Add(NameFilter::Instruction::kJump);
          (*prog_)[back].x = loop;
          (*prog_)[loop].y = Size();
          return true;
        }
        std::vector<int> skips;  // each optional copy may be skipped to the end
        for (int k = n.min; k < n.max; ++k) {
          const int split = Add(NameFilter::Instruction::kSplit);
          (*prog_)[split].x = Size();
          skips.push_back(split);
          if (!Emit(e)) return false;
        }
        for (int s : skips) (*prog_)[s].y = Size();
        return true;
      }
    }
    return false;
  }

 private:
  int Add(NameFilter::Instruction::Op op) {
    NameFilter::Instruction i{op, {}};
    prog_->push_back(i);
    return Size() - 1;
  }
  int Size() const { return static_cast<int>(prog_->size()); }
  std::vector<NameFilter::Instruction>* prog_;
};

}  // namespace

absl::StatusOr<NameFilter> NameFilter::Compile(std::string_view pattern) {
  Parser parser(pattern);
  auto ast = parser.Parse();
  if (!ast.ok()) return ast.status();
  NameFilter f;
  Compiler compiler(&f.program_);
  if (!compiler.Emit(**ast) || f.program_.size() > kMaxInstructions) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the pattern expands to more than %d steps (counted repetition)", kMaxInstructions));
  }
  f.program_.push_back({Instruction::kMatch, {}});
  return f;
}

bool NameFilter::Matches(std::string_view name) const {
  const int n = static_cast<int>(program_.size());
  std::vector<int> current, next, stack;
  std::vector<size_t> seen(n, SIZE_MAX);  // the step at which a pc was last added
  auto add = [&](std::vector<int>& list, int pc, size_t step) {
    stack.assign(1, pc);
    while (!stack.empty()) {
      const int p = stack.back();
      stack.pop_back();
      if (seen[p] == step) continue;
      seen[p] = step;
      const Instruction& i = program_[p];
      if (i.op == Instruction::kJump) {
        stack.push_back(i.x);
      } else if (i.op == Instruction::kSplit) {
        stack.push_back(i.y);
        stack.push_back(i.x);
      } else {
        list.push_back(p);
      }
    }
  };
  add(current, 0, 0);
  for (size_t k = 0; k < name.size(); ++k) {
    next.clear();
    const unsigned char c = static_cast<unsigned char>(name[k]);
    for (int pc : current) {
      if (program_[pc].op == Instruction::kChar && program_[pc].chars.test(c)) {
        add(next, pc + 1, k + 1);
      }
    }
    current.swap(next);
    if (current.empty()) return false;
  }
  for (int pc : current) {
    if (program_[pc].op == Instruction::kMatch) return true;
  }
  return false;
}

}  // namespace klab
