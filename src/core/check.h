// OSP_CHECK: always-on invariant checks for programmer errors; aborts with file:line and a message.
// Errors the outside world can cause (files, configs, flags) use Result<T> (result.h) instead.
#pragma once
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace osp::detail {
[[noreturn]] inline void check_failed(const char* file, int line, const char* cond,
                                      const std::string& msg) {
  std::fprintf(stderr, "osp: internal error at %s:%d: check '%s' failed%s%s\n", file, line, cond,
               msg.empty() ? "" : ": ", msg.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace osp::detail

#define OSP_CHECK(cond, ...)                                                               \
  do {                                                                                     \
    if (!(cond)) [[unlikely]]                                                              \
      ::osp::detail::check_failed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
  } while (0)

#ifdef NDEBUG
#define OSP_DCHECK(cond, ...) \
  do {                        \
  } while (0)
#else
#define OSP_DCHECK(cond, ...) OSP_CHECK(cond, __VA_ARGS__)
#endif
