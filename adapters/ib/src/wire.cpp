#include "ballast/adapters/ib/wire.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace ballast::ib {
namespace {

void PutLength(std::string& out, std::size_t n) {
  out.push_back(static_cast<char>((n >> 24) & 0xFF));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
}

std::size_t GetLength(const char* p) {
  const auto b = [&](int i) { return static_cast<std::size_t>(static_cast<unsigned char>(p[i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

}  // namespace

std::string HandshakeBytes(int min_version, int max_version) {
  const std::string range = fmt::format("v{}..{}", min_version, max_version);
  std::string out("API", 3);
  out.push_back('\0');
  PutLength(out, range.size());
  out += range;
  return out;
}

std::string Frame(const Fields& fields) {
  std::size_t n = 0;
  for (const auto& f : fields)
    n += f.size() + 1;
  std::string out;
  out.reserve(n + 4);
  PutLength(out, n);
  for (const auto& f : fields) {
    out += f;
    out.push_back('\0');
  }
  return out;
}

Fields SplitFields(std::string_view payload) {
  Fields out;
  std::size_t start = 0;
  while (start < payload.size()) {
    const std::size_t end = payload.find('\0', start);
    if (end == std::string_view::npos) {  // a last field without its NUL: keep it
      out.emplace_back(payload.substr(start));
      break;
    }
    out.emplace_back(payload.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::optional<Fields> FrameReader::Next(std::optional<WireError>& error) {
  if (buffer_.size() - read_ < 4) return std::nullopt;
  const std::size_t n = GetLength(buffer_.data() + read_);
  if (n > kMaxFrameBytes) {
    error = WireError{fmt::format("a frame of {} bytes (the limit is {})", n, kMaxFrameBytes)};
    return std::nullopt;
  }
  if (buffer_.size() - read_ - 4 < n) return std::nullopt;
  Fields f = SplitFields(std::string_view(buffer_).substr(read_ + 4, n));
  read_ += 4 + n;
  if (read_ == buffer_.size()) {
    buffer_.clear();
    read_ = 0;
  } else if (read_ > 65536) {
    buffer_.erase(0, read_);
    read_ = 0;
  }
  return f;
}

std::string EncodeBool(bool v) {
  return v ? "1" : "0";
}

std::string EncodeInt(std::int64_t v) {
  return v == kUnsetInt ? std::string() : std::to_string(v);
}

std::string EncodeDouble(double v) {
  if (v == kUnsetDouble) return {};
  if (v == std::numeric_limits<double>::infinity()) return "Infinite";
  // Python's repr of a float (ib_async's encoder): shortest round trip, with ".0" on integers.
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string EncodeDecimal(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    const std::size_t last = s.find_last_not_of('0');  // the '.' at worst
    s.erase(s[last] == '.' ? last : last + 1);
  }
  if (s == "-0") return std::string(1, '0');
  return s;
}

void FieldReader::Fail(std::string_view expected) const {
  const std::size_t at = next_ == 0 ? 0 : next_ - 1;
  throw WireError{fmt::format(
      "{} message, field {}: expected {}, got {}", message_, at, expected,
      at < fields_.size() ? fmt::format("\"{}\"", fields_[at].substr(0, 40)) : "the end")};
}

const std::string& FieldReader::Take() {
  if (next_ >= fields_.size()) {
    ++next_;
    Fail("another field");
  }
  return fields_[next_++];
}

std::string FieldReader::String() {
  return Take();
}

std::optional<std::int64_t> FieldReader::OptInt() {
  const std::string& s = Take();
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) Fail("an integer");
  if (v == kUnsetInt) return std::nullopt;
  return v;
}

std::int64_t FieldReader::Int() {
  const auto v = OptInt();
  if (!v) Fail("an integer");
  return *v;
}

std::optional<double> FieldReader::OptDouble() {
  const std::string& s = Take();
  if (s.empty()) return std::nullopt;
  if (s == "Infinite") return std::numeric_limits<double>::infinity();
  double v = 0.0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || std::isnan(v)) Fail("a number");
  if (v >= kUnsetDouble || v == static_cast<double>(kUnsetInt)) return std::nullopt;
  return v;
}

double FieldReader::Double() {
  const auto v = OptDouble();
  if (!v) Fail("a number");
  return *v;
}

bool FieldReader::Bool() {
  const std::string& s = Take();
  if (s.empty() || s == "0" || s == "false") return false;
  if (s == "1" || s == "true") return true;
  Fail("1 or 0");
}

}  // namespace ballast::ib
