#include "ballast/engine/config_node.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ballast/engine/error.hpp"

namespace ballast {

using Json = nlohmann::ordered_json;

struct ConfigDocument::Impl {
  Json root;
};

namespace {

const Json& J(const void* p) {
  return *static_cast<const Json*>(p);
}

std::string TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    default:
      return "a value";
  }
}

std::string Shown(const Json& j) {
  std::string text = j.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  if (j.is_object() || j.is_array()) return TypeName(j) + " " + text;
  return text;
}

}  // namespace

std::string ConfigNode::ChildPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

bool ConfigNode::IsObject() const {
  return J(value_).is_object();
}
bool ConfigNode::IsArray() const {
  return J(value_).is_array();
}
bool ConfigNode::IsString() const {
  return J(value_).is_string();
}
bool ConfigNode::IsNumber() const {
  return J(value_).is_number();
}
bool ConfigNode::IsBool() const {
  return J(value_).is_boolean();
}
bool ConfigNode::IsNull() const {
  return J(value_).is_null();
}

std::optional<ConfigNode> ConfigNode::Find(std::string_view key) const {
  const Json& j = J(value_);
  if (!j.is_object()) Fail("an object");
  auto it = j.find(std::string(key));
  if (it == j.end() || it->is_null()) return std::nullopt;
  return ConfigNode(doc_, &*it, ChildPath(key));
}

ConfigNode ConfigNode::At(std::string_view key) const {
  auto child = Find(key);
  if (!child) {
    throw Error(ErrorKind::kConfig,
                fmt::format("{}: {}: missing required key", doc_->Origin(), ChildPath(key)));
  }
  return *child;
}

std::vector<std::string> ConfigNode::Keys() const {
  const Json& j = J(value_);
  if (!j.is_object()) Fail("an object");
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it)
    keys.push_back(it.key());
  return keys;
}

std::size_t ConfigNode::Size() const {
  const Json& j = J(value_);
  if (!j.is_array() && !j.is_object()) Fail("an array");
  return j.size();
}

ConfigNode ConfigNode::Index(std::size_t i) const {
  const Json& j = J(value_);
  if (!j.is_array()) Fail("an array");
  return ConfigNode(doc_, &j.at(i), fmt::format("{}[{}]", path_, i));
}

std::string ConfigNode::String() const {
  const Json& j = J(value_);
  if (!j.is_string()) Fail("a string");
  return j.get<std::string>();
}

double ConfigNode::Number() const {
  const Json& j = J(value_);
  if (!j.is_number()) Fail("a number");
  const double v = j.get<double>();
  if (!std::isfinite(v)) Fail("a finite number");
  return v;
}

std::int64_t ConfigNode::Integer() const {
  const Json& j = J(value_);
  if (j.is_number_integer() || j.is_number_unsigned()) return j.get<std::int64_t>();
  if (j.is_number_float()) {
    const double v = j.get<double>();
    if (std::floor(v) == v && std::abs(v) < 9e15) return static_cast<std::int64_t>(v);
  }
  Fail("an integer");
}

bool ConfigNode::Bool() const {
  const Json& j = J(value_);
  if (!j.is_boolean()) Fail("true or false");
  return j.get<bool>();
}

std::string ConfigNode::StringOr(std::string_view key, std::string_view fallback) const {
  auto child = Find(key);
  return child ? child->String() : std::string(fallback);
}

double ConfigNode::NumberOr(std::string_view key, double fallback) const {
  auto child = Find(key);
  return child ? child->Number() : fallback;
}

bool ConfigNode::BoolOr(std::string_view key, bool fallback) const {
  auto child = Find(key);
  return child ? child->Bool() : fallback;
}

std::string ConfigNode::EnumOr(std::string_view key,
                               std::initializer_list<std::string_view> allowed,
                               std::string_view fallback) const {
  auto child = Find(key);
  if (!child) return std::string(fallback);
  const Json& j = J(child->value_);
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    for (auto a : allowed) {
      if (s == a) return s;
    }
  }
  std::string expected = "one of ";
  bool first = true;
  for (auto a : allowed) {
    expected += fmt::format("{}\"{}\"", first ? "" : ", ", a);
    first = false;
  }
  child->Fail(expected);
}

void ConfigNode::ExpectKeys(std::initializer_list<std::string_view> allowed) const {
  ExpectKeys(std::vector<std::string_view>(allowed));
}

void ConfigNode::ExpectKeys(const std::vector<std::string_view>& allowed) const {
  const Json& j = J(value_);
  if (!j.is_object()) Fail("an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_null()) continue;  // null means absent (suites use it to remove a key)
    bool known = false;
    for (auto a : allowed)
      known = known || it.key() == a;
    if (!known) {
      std::string list;
      for (auto a : allowed)
        list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
      throw Error(ErrorKind::kConfig, fmt::format("{}: {}: unknown key (allowed here: {})",
                                                  doc_->Origin(), ChildPath(it.key()), list));
    }
  }
}

void ConfigNode::Fail(std::string_view expected) const {
  throw Error(ErrorKind::kConfig,
              fmt::format("{}: {}: expected {}, got {}", doc_->Origin(),
                          path_.empty() ? "(root)" : path_, expected, Shown(J(value_))));
}

std::string ConfigNode::Dump() const {
  return J(value_).dump();
}

std::string ConfigNode::ChildJson(std::string_view key) const {
  const Json& j = J(value_);
  if (!j.is_object()) Fail("an object");
  auto it = j.find(std::string(key));
  if (it == j.end()) {
    throw Error(ErrorKind::kConfig,
                fmt::format("{}: {}: missing required key", doc_->Origin(), ChildPath(key)));
  }
  return it->dump();
}

ConfigDocument::ConfigDocument() : impl_(std::make_unique<Impl>()) {}
ConfigDocument::ConfigDocument(ConfigDocument&&) noexcept = default;
ConfigDocument& ConfigDocument::operator=(ConfigDocument&&) noexcept = default;
ConfigDocument::~ConfigDocument() = default;

ConfigDocument ConfigDocument::FromText(std::string_view text, std::string origin) {
  ConfigDocument doc;
  doc.origin_ = std::move(origin);
  try {
    doc.impl_->root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann's message carries "line L, column C"; keep only that part.
    std::string what = e.what();
    auto pos = what.find("line ");
    throw Error(ErrorKind::kConfig,
                fmt::format("{}: not valid JSON ({})", doc.origin_,
                            pos == std::string::npos ? what : what.substr(pos)));
  }
  if (!doc.impl_->root.is_object()) {
    throw Error(ErrorKind::kConfig,
                fmt::format("{}: expected a JSON object at the top level", doc.origin_));
  }
  return doc;
}

ConfigDocument ConfigDocument::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kConfig, fmt::format("{}: cannot open config file", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return FromText(buffer.str(), path);
}

namespace {

Json& Walk(Json& root, std::string_view dotted, const std::string& origin) {
  Json* node = &root;
  std::size_t start = 0;
  while (true) {
    const auto dot = dotted.find('.', start);
    const std::string key(
        dotted.substr(start, dot == std::string_view::npos ? dotted.npos : dot - start));
    if (key.empty()) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: --set {}: empty key in path", origin, dotted));
    }
    if (node->is_null()) *node = Json::object();
    if (!node->is_object()) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("{}: --set {}: '{}' is inside a value that is not an object", origin,
                              dotted, key));
    }
    node = &(*node)[key];
    if (dot == std::string_view::npos) return *node;
    start = dot + 1;
  }
}

}  // namespace

void ConfigDocument::SetJson(std::string_view dotted_path, std::string_view value_json) {
  Walk(impl_->root, dotted_path, origin_) = Json::parse(value_json.begin(), value_json.end());
}

void ConfigDocument::SetString(std::string_view dotted_path, std::string_view value) {
  Walk(impl_->root, dotted_path, origin_) = std::string(value);
}

void ConfigDocument::ApplySet(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw Error(ErrorKind::kUsage, fmt::format("--set {}: expected key.path=value", assignment));
  }
  const auto key = assignment.substr(0, eq);
  const auto value = assignment.substr(eq + 1);
  Json parsed = Json::parse(value.begin(), value.end(), nullptr, /*allow_exceptions=*/false);
  Json& slot = Walk(impl_->root, key, origin_);
  if (parsed.is_discarded()) {
    slot = std::string(value);
  } else {
    slot = std::move(parsed);
  }
}

ConfigDocument ConfigDocument::Clone() const {
  ConfigDocument copy;
  copy.origin_ = origin_;
  copy.impl_->root = impl_->root;
  return copy;
}

ConfigNode ConfigDocument::Root() const {
  return ConfigNode(this, &impl_->root, "");
}

std::string ConfigDocument::Pretty() const {
  return impl_->root.dump(2) + "\n";
}

}  // namespace ballast
