#include "proxy/pgtlsrequest.h"

namespace sg {

namespace {

quint32 be32(const char* p)
{
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return (quint32(u[0]) << 24) | (quint32(u[1]) << 16) | (quint32(u[2]) << 8) | quint32(u[3]);
}

} // namespace

QByteArray postgresSslRequest()
{
    QByteArray bytes(int(kPgRequestSize), Qt::Uninitialized);
    auto* u = reinterpret_cast<unsigned char*>(bytes.data());
    for (int i = 0; i < 4; ++i) {
        u[i] = quint8(kPgRequestSize >> (24 - 8 * i));
        u[4 + i] = quint8(kPgSslRequestCode >> (24 - 8 * i));
    }
    return bytes;
}

PgFirstBytes classifyPgFirstBytes(const char* data, std::size_t size)
{
    if (size == 0)
        return PgFirstBytes::NeedMore;
    if (data[0] == 0x16) // a TLS handshake record
        return PgFirstBytes::DirectTls;
    if (data[0] != 0) // every PostgreSQL first packet is shorter than 16 MiB
        return PgFirstBytes::Other;
    if (size < kPgRequestSize)
        return PgFirstBytes::NeedMore;
    if (be32(data) != kPgRequestSize)
        return PgFirstBytes::Other;
    switch (be32(data + 4)) {
    case kPgSslRequestCode:
        return PgFirstBytes::SslRequest;
    case kPgGssEncRequestCode:
        return PgFirstBytes::GssEncRequest;
    default:
        return PgFirstBytes::Other;
    }
}

} // namespace sg
