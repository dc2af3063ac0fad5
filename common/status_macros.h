// Status propagation macros.
//
// Debian's Abseil 20220623 ships absl::Status and absl::StatusOr but not the macros Google uses
// internally to propagate them, so the project defines its own, once, here:
//
//   KLAB_RETURN_IF_ERROR(expr);           // returns the status of `expr` if it is not OK
//   KLAB_ASSIGN_OR_RETURN(auto x, expr);  // x = *expr, or returns expr.status()
#ifndef KLAB_COMMON_STATUS_MACROS_H_
#define KLAB_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KLAB_RETURN_IF_ERROR(expr)                          \
  do {                                                      \
    ::absl::Status klab_status_ = (expr);                   \
    if (!klab_status_.ok()) return klab_status_;            \
  } while (false)

#define KLAB_STATUS_CONCAT_INNER_(a, b) a##b
#define KLAB_STATUS_CONCAT_(a, b) KLAB_STATUS_CONCAT_INNER_(a, b)

#define KLAB_ASSIGN_OR_RETURN(lhs, expr) \
  KLAB_ASSIGN_OR_RETURN_IMPL_(KLAB_STATUS_CONCAT_(klab_statusor_, __LINE__), lhs, expr)

#define KLAB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // KLAB_COMMON_STATUS_MACROS_H_
