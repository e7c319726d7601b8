#pragma once
/// The TWS socket protocol's wire layer (IB Gateway / TWS, API servers 176-178): after the
/// handshake every message is a 4-byte big-endian length and that many bytes of fields, each
/// ended by NUL; field 0 is the message id. Values are ASCII text: bools 1/0, an unset int or
/// double an empty field, +infinity "Infinite". The server sends the sentinels 2147483647 and
/// 1.7976931348623157E308 for "no value"; readers treat them as absent. docs/live.md
/// ("Interactive Brokers") has the sources.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast::ib {

using Fields = std::vector<std::string>;

/// Oldest and newest API server versions this client speaks (the field layouts below are those
/// of 176-178; from 201 field 0 is a binary integer and the messages are protobuf).
inline constexpr int kMinServerVersion = 176;
inline constexpr int kMaxServerVersion = 178;
/// The largest frame either side accepts (IB's own client refuses longer ones).
inline constexpr std::size_t kMaxFrameBytes = 0xFFFFFF;

inline constexpr std::int64_t kUnsetInt = 2147483647;
inline constexpr double kUnsetDouble = 1.7976931348623157E308;

/// A frame or field that breaks the protocol's rules. The text names the message and field.
struct WireError {
  std::string what;
};

/// The client's first bytes: "API\0" then the framed version range "v176..178".
[[nodiscard]] std::string HandshakeBytes(int min_version = kMinServerVersion,
                                         int max_version = kMaxServerVersion);

/// Fields → one framed message (length prefix, each field NUL-terminated).
[[nodiscard]] std::string Frame(const Fields& fields);

/// The fields of one frame's payload (without its length prefix).
[[nodiscard]] Fields SplitFields(std::string_view payload);

/// Cuts a byte stream into frames. Feed what the socket read; Next gives each complete frame's
/// fields in order. A length over kMaxFrameBytes is an error (the stream cannot be trusted
/// after it).
class FrameReader {
 public:
  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  /// The next complete frame, nullopt until one is whole; sets `error` and returns nullopt on a
  /// frame over the limit.
  std::optional<Fields> Next(std::optional<WireError>& error);
  [[nodiscard]] std::size_t Buffered() const noexcept { return buffer_.size() - read_; }

 private:
  std::string buffer_;
  std::size_t read_ = 0;
};

/// Field encoders (client → server).
[[nodiscard]] std::string EncodeBool(bool v);
[[nodiscard]] std::string EncodeInt(std::int64_t v);  ///< kUnsetInt → ""
/// Shortest text that reads back as `v`; kUnsetDouble → "", +inf → "Infinite".
[[nodiscard]] std::string EncodeDouble(double v);
/// A quantity or price as a plain decimal (no exponent), at most `decimals` places, trailing
/// zeros dropped ("10", "612.34").
[[nodiscard]] std::string EncodeDecimal(double v, int decimals = 8);

/// Reads one message's fields in order with the message named in errors.
class FieldReader {
 public:
  FieldReader(const Fields& fields, std::string_view message)
      : fields_(fields), message_(message) {}
  [[nodiscard]] std::size_t Index() const noexcept { return next_; }
  [[nodiscard]] bool AtEnd() const noexcept { return next_ >= fields_.size(); }
  void Skip(std::size_t n = 1) { next_ += n; }
  /// An error when fields skipped over were not there.
  void Require() const {
    if (next_ > fields_.size()) Fail("more fields");
  }
  /// The next field as text (an error past the end).
  std::string String();
  /// The next field as an integer; empty or the sentinel → nullopt.
  std::optional<std::int64_t> OptInt();
  std::int64_t Int();  ///< required
  /// The next field as a number ("Infinite" is +inf); empty or a sentinel → nullopt.
  std::optional<double> OptDouble();
  double Double();  ///< required
  bool Bool();      ///< "1"/"0" (empty: false)

 private:
  [[noreturn]] void Fail(std::string_view expected) const;
  const std::string& Take();
  const Fields& fields_;
  std::string_view message_;
  std::size_t next_ = 0;
};

}  // namespace ballast::ib
