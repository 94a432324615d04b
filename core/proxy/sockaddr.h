#pragma once
// Conversions from the kernel's socket addresses (accept, getsockname, recvmmsg) to the
// normalised addresses the router matches on. IPv4-mapped peers come out as IPv4.

#include "proxy/addressmatch.h"

#include <QHostAddress>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace sg {

inline quint16 portOf(const sockaddr_storage& a)
{
    if (a.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
    if (a.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
    return 0;
}

inline QHostAddress hostOf(const sockaddr_storage& a)
{
    return normalizedAddress(QHostAddress(reinterpret_cast<const sockaddr*>(&a)));
}

} // namespace sg
