#pragma once
// Private to the Alpaca transport: the peer check every TLS connection makes, and a handshake
// failure said in words a user can act on.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

namespace ballast::net {

/// Server name indication plus OpenSSL's own host check (RFC 6125 names, or the IP address for a
/// numeric host), so a mismatch fails the chain check with its own verify result.
/// Returns false when OpenSSL refuses the name.
inline bool ExpectPeer(SSL* ssl, const std::string& host) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(param, ip.to_string().c_str()) == 1;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
         X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1;
}

inline std::string TlsHandshakeFailure(SSL* ssl, const std::string& host,
                                       const boost::system::error_code& ec) {
  std::string what = "TLS handshake with " + host + ": " + ec.message();
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    what += " (the certificate does not name the host " + host + ")";
  } else if (verify != X509_V_OK) {
    what += std::string(" (") + X509_verify_cert_error_string(verify) +
            "; give a CA file with broker.alpaca.ca_file if the server uses a private CA)";
  }
  return what;
}

}  // namespace ballast::net
