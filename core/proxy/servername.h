#pragma once
// Server names of TLS connections: the SNI a ClientHello carries, read from the body of its
// server_name extension (as OpenSSL's client-hello callback hands it over, the extension's own
// length already checked), and a route's sni pattern matched against it. Qt Core only, so the
// reader is fuzzed on its own (tests/fuzz/fuzz_servername.cpp).

#include <QString>
#include <cstddef>

namespace sg {

// The first host_name of a server_name extension body (RFC 6066 3), lower case and without a
// trailing dot, as APISIX compares names; "" when the body is malformed (lengths that do not
// add up) or the name has a byte no host name has (controls, space, non-ASCII).
QString serverNameOf(const unsigned char* ext, std::size_t len);

// APISIX's route sni against a connection's SNI: exact, or "*suffix" (any number of labels
// before the suffix, "*" every name).
bool routeSniMatches(const QString& pattern, const QString& sni);

} // namespace sg
