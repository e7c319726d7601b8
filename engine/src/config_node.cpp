#include "ballast/engine/config_node.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
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

namespace {

// nlohmann's DOM builder with three additions for configs: nesting depth is bounded (printing or
// walking a 100,000-deep array would overflow the stack), duplicate keys are errors, and every
// error knows the key path it happened at (`1e400` is out of range at `execution.slippage_bps`).
class ConfigSax : public nlohmann::detail::json_sax_dom_parser<Json> {
  using Base = nlohmann::detail::json_sax_dom_parser<Json>;

 public:
  explicit ConfigSax(Json& out) : Base(out, /*allow_exceptions=*/false) {}

  bool null() { return Value() && Base::null(); }
  bool boolean(bool v) { return Value() && Base::boolean(v); }
  bool number_integer(number_integer_t v) { return Value() && Base::number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return Value() && Base::number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) {
    return Value() && Base::number_float(v, s);
  }
  bool string(string_t& v) { return Value() && Base::string(v); }
  bool binary(binary_t& v) { return Value() && Base::binary(v); }
  bool start_object(std::size_t n) { return Open(false) && Base::start_object(n); }
  bool start_array(std::size_t n) { return Open(true) && Base::start_array(n); }
  bool end_object() {
    frames_.pop_back();
    return Base::end_object();
  }
  bool end_array() {
    frames_.pop_back();
    return Base::end_array();
  }
  bool key(string_t& k) {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second) {
      f.key = k;
      error_ = fmt::format("{}: duplicate key", Path());
      return false;
    }
    f.key = k;
    return Base::key(k);
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    if (!error_.empty()) return false;
    std::string what = ex.what();
    if (ex.id == 406) {  // out_of_range: number overflow
      const auto quote = what.find('\'');
      error_ = fmt::format("{}: number out of range ({}); expected a finite number", Path(true),
                           quote == std::string::npos ? what : what.substr(quote));
    } else {
      const auto pos = what.find("line ");
      error_ =
          fmt::format("not valid JSON ({})", pos == std::string::npos ? what : what.substr(pos));
    }
    return false;
  }

  [[nodiscard]] const std::string& Error() const noexcept { return error_; }

 private:
  struct Frame {
    bool array = false;
    std::size_t next = 0;  // arrays: index of the next element
    std::string key;       // objects: the current key
    std::set<std::string> keys;
  };

  bool Value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().next;
    return true;
  }
  bool Open(bool array) {
    Value();
    if (frames_.size() >= kMaxConfigDepth) {
      error_ = fmt::format("{}: nested deeper than {} levels", Path(), kMaxConfigDepth);
      return false;
    }
    frames_.push_back({array, 0, {}, {}});
    return true;
  }
  // `pending`: the innermost array's element being parsed has not been counted yet.
  [[nodiscard]] std::string Path(bool pending = false) const {
    std::string p;
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.array) {
        const bool last = i + 1 == frames_.size();
        p += fmt::format("[{}]", pending && last ? f.next : (f.next == 0 ? 0 : f.next - 1));
      } else if (!f.key.empty()) {
        p += (p.empty() ? "" : ".") + f.key;
      }
    }
    if (p.size() > 80) p = p.substr(0, 77) + "...";
    return p.empty() ? "(root)" : p;
  }

  std::vector<Frame> frames_;
  std::string error_;
};

// Parses `text`; on failure returns the error (path and reason) and leaves `out` unspecified.
std::optional<std::string> ParseConfigJson(std::string_view text, Json& out) {
  ConfigSax sax(out);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &sax);
  if (ok) return std::nullopt;
  return sax.Error().empty() ? std::string("not valid JSON") : sax.Error();
}

}  // namespace

ConfigDocument ConfigDocument::FromText(std::string_view text, std::string origin) {
  ConfigDocument doc;
  doc.origin_ = std::move(origin);
  if (const auto error = ParseConfigJson(text, doc.impl_->root)) {
    throw Error(ErrorKind::kConfig, fmt::format("{}: {}", doc.origin_, *error));
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
  Json value;
  if (const auto error = ParseConfigJson(value_json, value)) {
    throw Error(ErrorKind::kUsage, fmt::format("{}: {}: {}", origin_, dotted_path, *error));
  }
  Walk(impl_->root, dotted_path, origin_) = std::move(value);
}

namespace {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF):
// a document holds only such strings, so writing it out can never fail.
bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

void ConfigDocument::SetString(std::string_view dotted_path, std::string_view value) {
  if (!ValidUtf8(value)) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{}: {}: the value is not valid UTF-8", origin_, dotted_path));
  }
  Walk(impl_->root, dotted_path, origin_) = std::string(value);
}

void ConfigDocument::ApplySet(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw Error(ErrorKind::kUsage, fmt::format("--set {}: expected key.path=value", assignment));
  }
  const auto key = assignment.substr(0, eq);
  const auto value = assignment.substr(eq + 1);
  Json parsed;
  const auto error = ParseConfigJson(value, parsed);
  // Text that is not JSON is a string; JSON the config could not hold (too deep, a number out of
  // range) is an error rather than a surprise string.
  if (error && (error->find("nested deeper") != std::string::npos ||
                error->find("out of range") != std::string::npos)) {
    std::string what = *error;
    if (what.rfind("(root): ", 0) == 0) what.erase(0, 8);
    throw Error(ErrorKind::kUsage, fmt::format("--set {}: {}", key, what));
  }
  if (error && !ValidUtf8(value)) {
    throw Error(ErrorKind::kUsage, fmt::format("--set {}: the value is not valid UTF-8", key));
  }
  Json& slot = Walk(impl_->root, key, origin_);
  if (error) {
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
