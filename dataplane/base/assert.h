// Assertions (STYLE rule 11). LB_ASSERT is checked in debug builds only; LB_RELEASE_ASSERT
// and LB_BUG are always checked and abort: they guard invariants whose breach would corrupt
// state. None of them allocates or throws.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace sluice::base {

[[noreturn]] inline void AssertFail(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "sluice: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace sluice::base

#define LB_RELEASE_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::sluice::base::AssertFail(#expr, __FILE__, __LINE__))
#define LB_BUG(msg) ::sluice::base::AssertFail(msg, __FILE__, __LINE__)
#ifdef NDEBUG
#define LB_ASSERT(expr) static_cast<void>(0)
#else
#define LB_ASSERT(expr) LB_RELEASE_ASSERT(expr)
#endif
