#include "ballast/engine/run_record.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace ballast {

void RunRecord::Reserve(std::size_t rows, std::size_t n_symbols) {
  symbols = n_symbols;
  for (auto* v : {&equity, &cash, &flows, &benchmark, &bought, &sold, &fees})
    v->reserve(rows);
  times.reserve(rows);
  weights.reserve(rows * n_symbols);
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

char* FormatShortest(char* buf, double v) noexcept {
  if (v == 0.0) {  // also folds -0
    *buf = '0';
    return buf + 1;
  }
  const double a = std::abs(v);
  // std::to_chars is the shortest round-trip representation (Ryu) and several times faster than
  // fmt's runtime-formatted path, which matters for 600k-cell weights files.
  const auto res = (a >= 1e-4 && a < 1e16)
                       ? std::to_chars(buf, buf + 32, v, std::chars_format::fixed)
                       : std::to_chars(buf, buf + 32, v);
  return res.ptr;
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  return std::string(buf, FormatShortest(buf, v));
}

void JsonFields::Key(std::string_view key) {
  if (!text_.empty()) text_.push_back(',');
  AppendJsonString(text_, key);
  text_.push_back(':');
}

JsonFields& JsonFields::Add(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(text_, value);
  return *this;
}

JsonFields& JsonFields::Add(std::string_view key, double value) {
  Key(key);
  text_ += JsonNumber(value);
  return *this;
}

JsonFields& JsonFields::Add(std::string_view key, std::int64_t value) {
  Key(key);
  text_ += fmt::format("{}", value);
  return *this;
}

JsonFields& JsonFields::Add(std::string_view key, std::uint64_t value) {
  Key(key);
  text_ += fmt::format("{}", value);
  return *this;
}

JsonFields& JsonFields::Add(std::string_view key, bool value) {
  Key(key);
  text_ += value ? "true" : "false";
  return *this;
}

JsonFields& JsonFields::AddRaw(std::string_view key, std::string_view json) {
  Key(key);
  text_ += json;
  return *this;
}

}  // namespace ballast
