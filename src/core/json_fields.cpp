// Field-by-field reading of JSON settings with named errors.
#include "core/json_fields.h"

#include <cmath>

namespace osp {

JsonFields::JsonFields(const nlohmann::json& j, std::string section) : j_(j), section_(std::move(section)) {
  if (!j_.is_object()) status_ = make_error("{} must be a table of settings", section_.empty() ? "config" : section_);
}

const nlohmann::json* JsonFields::find(const char* key) {
  if (!status_.ok() || !j_.is_object()) return nullptr;
  seen_.insert(key);
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

JsonFields& JsonFields::number(const char* key, double& out, Range r) {
  if (const auto* v = find(key)) {
    if (!v->is_number()) status_ = make_error("{} must be a number, got {}", name(key), v->dump());
    else if (!std::isfinite(v->get<double>()) || !r.contains(v->get<double>()))
      status_ = make_error("{} = {} is out of range", name(key), v->dump());
    else out = v->get<double>();
  }
  return *this;
}

JsonFields& JsonFields::integer(const char* key, int64_t& out, Range r) {
  if (const auto* v = find(key)) {
    if (!v->is_number_integer()) status_ = make_error("{} must be an integer, got {}", name(key), v->dump());
    else if (!r.contains(double(v->get<int64_t>())))
      status_ = make_error("{} = {} is out of range", name(key), v->dump());
    else out = v->get<int64_t>();
  }
  return *this;
}

JsonFields& JsonFields::integer(const char* key, int& out, Range r) {
  int64_t v = out;
  Range clamped = r;
  clamped.lo = std::max(r.lo, double(std::numeric_limits<int>::min()));
  clamped.hi = std::min(r.hi, double(std::numeric_limits<int>::max()));
  integer(key, v, clamped);
  out = int(v);
  return *this;
}

JsonFields& JsonFields::boolean(const char* key, bool& out) {
  if (const auto* v = find(key)) {
    if (!v->is_boolean()) status_ = make_error("{} must be true or false, got {}", name(key), v->dump());
    else out = v->get<bool>();
  }
  return *this;
}

JsonFields& JsonFields::string(const char* key, std::string& out) {
  if (const auto* v = find(key)) {
    if (!v->is_string()) status_ = make_error("{} must be a string, got {}", name(key), v->dump());
    else out = v->get<std::string>();
  }
  return *this;
}

JsonFields& JsonFields::value(const char* key,
                               const std::function<Status(const nlohmann::json&, const std::string&)>& read) {
  if (const auto* v = find(key)) {
    Status s = read(*v, name(key));
    if (!s.ok()) status_ = s;
  }
  return *this;
}

Status JsonFields::finish() const {
  if (!status_.ok()) return status_;
  for (const auto& [key, _] : j_.items())
    if (!seen_.count(key)) return make_error("unknown key {}", name(key.c_str()));
  return {};
}

}  // namespace osp
