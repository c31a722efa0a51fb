// Reading a JSON object of settings field by field: every key must be known, every value of the
// right type and range, and every message names the full key (e.g. "optim.adamw.lr").
//   JsonFields f(j, "optim.adamw");
//   f.number("lr", h.lr, Range::positive());  ...  OSP_TRY(f.finish());
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <string>

#include "core/result.h"

namespace osp {

struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  static Range positive() { return {0.0, std::numeric_limits<double>::infinity(), true}; }
  static Range non_negative() { return {0.0}; }
  static Range unit() { return {0.0, 1.0}; }        // [0, 1]
  static Range unit_open() { return {0.0, 1.0, true}; }  // (0, 1]
  bool contains(double v) const { return (lo_open ? v > lo : v >= lo) && v <= hi; }
};

class JsonFields {
 public:
  JsonFields(const nlohmann::json& j, std::string section);
  // Each reader leaves `out` unchanged when the key is absent.
  JsonFields& number(const char* key, double& out, Range r = {});
  JsonFields& integer(const char* key, int64_t& out, Range r = {});
  JsonFields& integer(const char* key, int& out, Range r = {});
  JsonFields& boolean(const char* key, bool& out);
  JsonFields& string(const char* key, std::string& out);
  // A value (e.g. a nested table, or a choice of names) handled by `read`, which gets the value
  // and its full key name.
  JsonFields& value(const char* key, const std::function<Status(const nlohmann::json&, const std::string&)>& read);
  // The first error, or an error for the first key no reader asked for.
  Status finish() const;

 private:
  const nlohmann::json* find(const char* key);
  std::string name(const char* key) const { return section_.empty() ? key : section_ + "." + key; }
  const nlohmann::json& j_;
  std::string section_;
  std::set<std::string> seen_;
  Status status_;
};

}  // namespace osp
