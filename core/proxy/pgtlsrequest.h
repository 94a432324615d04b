#pragma once
// What a PostgreSQL client's first bytes ask for, for database TLS (proxy/databasetls.h): the
// 8-byte SSLRequest or GSSENCRequest, a TLS ClientHello straight away (direct TLS), or
// something else (a startup in plaintext, a cancel request, another protocol). Pure, so that
// the fuzz target can run it; the verdict for a prefix that decides never changes as more bytes
// come.

#include <QByteArray>
#include <QtGlobal>
#include <cstddef>

namespace sg {

enum class PgFirstBytes : quint8 { NeedMore, SslRequest, GssEncRequest, DirectTls, Other };

inline constexpr std::size_t kPgRequestSize = 8; // length and code, both 32-bit big-endian
inline constexpr quint32 kPgSslRequestCode = 80877103;
inline constexpr quint32 kPgGssEncRequestCode = 80877104;

// The SSLRequest a client sends a server (database_server_tls asks the server as libpq does).
QByteArray postgresSslRequest();

// Looks at no more than kPgRequestSize bytes of `data`.
PgFirstBytes classifyPgFirstBytes(const char* data, std::size_t size);

} // namespace sg
