// Checked access to fields of parsed JSON (nlohmann::json) for the file readers of this module:
// every accessor returns a Result whose message names the field ("model.vocab must be an
// object"); the caller prefixes the file name. Nothing here throws.
#pragma once
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace osp::data::json_fields {

using Json = nlohmann::json;

inline std::string join(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
}

// obj[key], or nullptr when obj is not an object or has no such member.
inline const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

inline Result<const Json*> required(const Json& obj, std::string_view key, std::string_view where) {
  const Json* value = member(obj, key);
  if (value == nullptr) return make_error("{} is missing", join(where, key));
  return value;
}

inline Result<bool> get_bool(const Json& obj, std::string_view key, std::string_view where) {
  const Json* value = member(obj, key);
  if (value == nullptr) return make_error("{} is missing", join(where, key));
  if (!value->is_boolean()) return make_error("{} must be true or false", join(where, key));
  return value->get<bool>();
}

// A bool that may be absent or null (then `fallback`).
inline Result<bool> get_bool_or(const Json& obj, std::string_view key, std::string_view where,
                                bool fallback) {
  const Json* value = member(obj, key);
  if (value == nullptr || value->is_null()) return fallback;
  if (!value->is_boolean()) return make_error("{} must be true or false", join(where, key));
  return value->get<bool>();
}

inline Result<std::string> get_string(const Json& obj, std::string_view key,
                                      std::string_view where) {
  const Json* value = member(obj, key);
  if (value == nullptr) return make_error("{} is missing", join(where, key));
  if (!value->is_string()) return make_error("{} must be a string", join(where, key));
  return value->get<std::string>();
}

inline Result<uint64_t> as_uint(const Json& value, std::string_view what) {
  if (!value.is_number_integer() ||
      (value.is_number_integer() && !value.is_number_unsigned() && value.get<int64_t>() < 0))
    return make_error("{} must be a non-negative integer", what);
  return value.get<uint64_t>();
}

inline Result<uint64_t> get_uint(const Json& obj, std::string_view key, std::string_view where) {
  const Json* value = member(obj, key);
  if (value == nullptr) return make_error("{} is missing", join(where, key));
  return as_uint(*value, join(where, key));
}

// The "type" of a component object.
inline Result<std::string> get_type(const Json& obj, std::string_view where) {
  if (!obj.is_object()) return make_error("{} must be an object or null", where);
  return get_string(obj, "type", where);
}

// Deepest nesting of arrays and objects in JSON text (scanned without parsing, strings
// skipped), so that files nested deeper than osp handles are refused before any recursion.
inline size_t nesting_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Parses JSON text; the message gives nlohmann's description of the first syntax error.
inline Result<Json> parse(std::string_view text) {
  constexpr size_t kMaxDepth = 64;
  if (nesting_depth(text) > kMaxDepth)
    return make_error("JSON is nested more than {} levels deep", kMaxDepth);
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    if (const size_t close = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    return make_error("invalid JSON: {}", what);
  }
}

}  // namespace osp::data::json_fields
