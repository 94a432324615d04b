#include "proxy/mysqlrefusal.h"

#include "proxy/mysqlwire.h"
#include "proxy/routetable.h"

#include <sys/socket.h>

namespace sg {

namespace {

// A MySQL packet's payload is at most 16 MiB - 1; the message is kept far below that, and
// below what clients print without cutting (MYSQL_ERRMSG_SIZE is 512).
constexpr qsizetype kMaxMessage = 480;

} // namespace

bool frontsMySql(const RouteEntry& route)
{
    return route.mysqlDeclared ||
           (route.stats && route.stats->mysqlUpstream.load(std::memory_order_relaxed));
}

std::string mysqlRefusalPacket(CloseReason reason, const QString& clientHost, const QString& why)
{
    quint16 code = 1130; // ER_HOST_NOT_PRIVILEGED
    QString message;
    switch (reason) {
    case CloseReason::Limited:
    case CloseReason::NoDescriptors:
        code = 1040; // ER_CON_COUNT_ERROR
        message = QStringLiteral("Too many connections; refused by Streamgate: %1").arg(why);
        break;
    case CloseReason::ConnectFailed:
        // ProxySQL's code when no backend answers: client libraries refuse to show a server
        // error in the 2000s (CR_CONN_HOST_ERROR, 2003, is the client's own).
        code = 9001;
        message = QStringLiteral("Can't connect to MySQL server through Streamgate: %1").arg(why);
        break;
    default:
        message = QStringLiteral("Host '%1' is not allowed to connect to this MySQL server; "
                                 "refused by Streamgate: %2")
                      .arg(clientHost, why);
        break;
    }
    const QByteArray text = message.left(kMaxMessage).toUtf8();
    // Sequence 0: the server's first packet; before the handshake, without a SQL state.
    return mysqlwire::errPacket(0, code, {}, std::string_view(text.constData(), text.size()));
}

void sendMySqlRefusal(int fd, CloseReason reason, const QString& clientHost, const QString& why)
{
    const std::string packet = mysqlRefusalPacket(reason, clientHost, why);
    [[maybe_unused]] const ssize_t sent =
        ::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

} // namespace sg
