#pragma once
/// A read-only view of one node of a JSON config document, carrying its key path so every error
/// names the file, the path (`strategy.targets.SPY`) and what was expected. The document itself
/// (and the JSON library) stays behind this interface, so strategies never include it.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast {

class ConfigDocument;

/// Deepest nesting of objects and arrays a config may have.
inline constexpr std::size_t kMaxConfigDepth = 256;

class ConfigNode {
 public:
  /// Path of this node (`strategy.frequency`; the root is empty).
  [[nodiscard]] const std::string& Path() const noexcept { return path_; }

  [[nodiscard]] bool IsObject() const;
  [[nodiscard]] bool IsArray() const;
  [[nodiscard]] bool IsString() const;
  [[nodiscard]] bool IsNumber() const;
  [[nodiscard]] bool IsBool() const;
  [[nodiscard]] bool IsNull() const;

  /// Child `key` of an object; an error naming the path when it is missing.
  [[nodiscard]] ConfigNode At(std::string_view key) const;
  /// Child `key` when present (a JSON null counts as absent).
  [[nodiscard]] std::optional<ConfigNode> Find(std::string_view key) const;
  [[nodiscard]] bool Has(std::string_view key) const { return Find(key).has_value(); }
  /// Keys of an object in document order.
  [[nodiscard]] std::vector<std::string> Keys() const;
  [[nodiscard]] std::size_t Size() const;
  [[nodiscard]] ConfigNode Index(std::size_t i) const;

  [[nodiscard]] std::string String() const;
  [[nodiscard]] double Number() const;
  [[nodiscard]] std::int64_t Integer() const;
  [[nodiscard]] bool Bool() const;

  [[nodiscard]] std::string StringOr(std::string_view key, std::string_view fallback) const;
  [[nodiscard]] double NumberOr(std::string_view key, double fallback) const;
  [[nodiscard]] bool BoolOr(std::string_view key, bool fallback) const;
  /// The string at `key`, which must be one of `allowed`; `fallback` when absent.
  [[nodiscard]] std::string EnumOr(std::string_view key,
                                   std::initializer_list<std::string_view> allowed,
                                   std::string_view fallback) const;

  /// Errors on any key of this object not in `allowed` (unknown keys are config errors); keys
  /// whose value is null count as absent.
  void ExpectKeys(std::initializer_list<std::string_view> allowed) const;
  void ExpectKeys(const std::vector<std::string_view>& allowed) const;
  /// Throws a config error: "<file>: <path>: expected <expected>, got <value>".
  [[noreturn]] void Fail(std::string_view expected) const;
  /// Compact JSON text of child `key`, including an explicit null (which Find treats as absent).
  [[nodiscard]] std::string ChildJson(std::string_view key) const;
  /// Compact JSON text of this node (for messages and logs).
  [[nodiscard]] std::string Dump() const;

 private:
  friend class ConfigDocument;
  ConfigNode(const ConfigDocument* doc, const void* value, std::string path)
      : doc_(doc), value_(value), path_(std::move(path)) {}
  [[nodiscard]] std::string ChildPath(std::string_view key) const;

  const ConfigDocument* doc_;
  const void* value_;  // const nlohmann::ordered_json*, owned by doc_
  std::string path_;
};

/// Owns a parsed JSON config. `--set` overrides are applied before it is viewed.
class ConfigDocument {
 public:
  /// Parses a file; a config error naming the file and position when it is not valid JSON, and
  /// the key path for a duplicate key, a number out of range or nesting deeper than
  /// kMaxConfigDepth.
  static ConfigDocument FromFile(const std::string& path);
  static ConfigDocument FromText(std::string_view text, std::string origin);
  ConfigDocument(ConfigDocument&&) noexcept;
  ConfigDocument& operator=(ConfigDocument&&) noexcept;
  ~ConfigDocument();

  /// Applies `key.path=value`: the value is parsed as JSON when it is valid JSON, else taken as a
  /// string; objects along the path are created as needed; an object value replaces the subtree.
  void ApplySet(std::string_view assignment);
  /// Sets `path` (dotted) to the JSON `value_json`.
  void SetJson(std::string_view dotted_path, std::string_view value_json);
  /// Sets a string at `path`.
  void SetString(std::string_view dotted_path, std::string_view value);

  [[nodiscard]] ConfigNode Root() const;
  /// An independent copy (same origin).
  [[nodiscard]] ConfigDocument Clone() const;
  /// Origin (file path) used in error messages.
  [[nodiscard]] const std::string& Origin() const noexcept { return origin_; }
  /// Pretty JSON (2-space indent, keys in document order).
  [[nodiscard]] std::string Pretty() const;

 private:
  struct Impl;
  ConfigDocument();
  std::unique_ptr<Impl> impl_;
  std::string origin_;
};

}  // namespace ballast
