#pragma once
// Plain (unencrypted) connections go only to loopback: decided from the addresses a host name
// resolves to, not from how the name looks (`127.attacker.example` is not loopback).

#include <string>

namespace ballast::net::detail {

/// The first resolved address that is not a loopback address ("" when all are).
template <typename Results>
[[nodiscard]] std::string FirstNonLoopback(const Results& results) {
  for (const auto& entry : results) {
    const auto address = entry.endpoint().address();
    if (!address.is_loopback()) return address.to_string();
  }
  return "";
}

}  // namespace ballast::net::detail
