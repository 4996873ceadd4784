// Status and Result<T>: how every engine/nn API reports failure.
//
// Nothing in engine/nn throws past its API or aborts on bad input. A failing call returns
// a Status whose message says where (file, node, tensor) and why, e.g.
//   "blazeface.json: node 'conv2d_3/BiasAdd' (_FusedConv2D): filter shape [3,3,24,24] ..."
//
// Threading: value types. Building an error message allocates; the ok path never does.
//
// Example:
//   fg::nn::Result<fg::nn::Model> m = fg::nn::LoadModel(path);
//   if (!m.ok()) return m.status();          // message names the file and the node
//   const fg::nn::Model& model = m.value();
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace fg::nn {

class Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status Error(std::string message) {
    Status s;
    s.ok_ = false;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return ok_; }
  // Empty when ok.
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

// Either a value or an error Status (never both).
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}       // NOLINT: implicit on purpose
  Result(Status error) : status_(std::move(error)) {  // NOLINT: implicit on purpose
    if (status_.ok()) status_ = Status::Error("internal: Result built from an ok Status");
  }
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace fg::nn
