// Result<T>: a value or a one-line error message meant for the user (names the file or field).
// Library code returns it for anything the outside world can break; the CLI prints the message.
#pragma once
#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

#include "core/check.h"

namespace osp {

struct Error {
  std::string message;
};

template <class... Args>
Error make_error(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    OSP_CHECK(ok(), "Result holds an error: {}", std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  T&& value() && {
    OSP_CHECK(ok(), "Result holds an error: {}", std::get<1>(v_).message);
    return std::get<0>(std::move(v_));
  }
  const T& value() const& {
    OSP_CHECK(ok(), "Result holds an error: {}", std::get<1>(v_).message);
    return std::get<0>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const {
    OSP_CHECK(!ok(), "Result holds a value, not an error");
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    OSP_CHECK(!ok_, "Result holds success, not an error");
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace osp

// Propagate an error from an expression returning Result<...>/Status.
#define OSP_TRY(expr)                                  \
  do {                                                 \
    auto osp_try_result_ = (expr);                     \
    if (!osp_try_result_.ok()) return osp_try_result_.error(); \
  } while (0)
