// Slow path. Result<T>: a value or an error message, for the control plane and for start-up
// code (std::expected is C++23). The packet path returns enums or counts instead.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sluice::base {

struct Error {
  std::string message;  // slow path: start-up and control-plane errors only
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  // slow path: start-up and control-plane errors only
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

}  // namespace sluice::base
