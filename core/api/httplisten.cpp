#include "api/httplisten.h"

#include <QHttpServer>
#include <QTcpServer>
#include <QTcpSocket>

namespace sg {

namespace {

// Answers "Expect: 100-continue" (curl sends it with bodies over 1 KiB and then waits a second
// for the go-ahead), which QHttpServer 6.4 does not do itself. It looks at each request's
// header block before QHttpServer reads it; the final response stays QHttpServer's.
class ContinueServer final : public QTcpServer
{
public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto* socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        // Connected before QHttpServer's own handler, so it sees the bytes first.
        connect(socket, &QTcpSocket::readyRead, socket, [socket] {
            if (expectsContinue(socket->peek(16 * 1024)))
                socket->write("HTTP/1.1 100 Continue\r\n\r\n");
        });
        addPendingConnection(socket); // QTcpServer emits newConnection once this returns
    }

private:
    // Whether `unread` opens with a complete request header block that asks for 100-continue.
    static bool expectsContinue(const QByteArray& unread)
    {
        const qsizetype end = unread.indexOf("\r\n\r\n");
        const qsizetype space = unread.indexOf(' ');
        if (end < 0 || space <= 0 || space > 10)
            return false;
        for (qsizetype i = 0; i < space; ++i) {
            if (unread.at(i) < 'A' || unread.at(i) > 'Z')
                return false; // not a request line: body bytes
        }
        for (const QByteArray& line : unread.left(end).split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().toLower() == "expect")
                return line.mid(colon + 1).trimmed().toLower() == "100-continue";
        }
        return false;
    }
};

} // namespace

QString HttpListen::text() const
{
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
                             ? QStringLiteral("[%1]").arg(address.toString())
                             : address.toString();
    return QStringLiteral("%1:%2").arg(host).arg(port);
}

HttpListen parseHttpListen(const QString& input, const QString& field)
{
    HttpListen result;
    const QString text = input.trimmed();
    auto fail = [&](const QString& why) {
        result.error = QStringLiteral("%1: \"%2\" %3").arg(field, input, why);
        return result;
    };
    if (text.isEmpty())
        return fail(QStringLiteral("is empty; expected ip:port, [ipv6]:port or a port"));

    QString host;
    QString portText;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0 || close + 1 >= text.size() || text.at(close + 1) != u':')
            return fail(QStringLiteral("is not [ipv6]:port"));
        host = text.mid(1, close - 1);
        portText = text.mid(close + 2);
    } else if (text.count(u':') == 1) {
        host = text.section(u':', 0, 0);
        portText = text.section(u':', 1);
    } else if (!text.contains(u':')) {
        portText = text; // a bare port: loopback, never all interfaces by accident
        host = QStringLiteral("127.0.0.1");
    } else {
        return fail(QStringLiteral("is ambiguous; write IPv6 addresses as [ipv6]:port"));
    }

    bool ok = false;
    const int port = portText.toInt(&ok);
    if (!ok || port < 0 || port > 65535)
        return fail(QStringLiteral("has an invalid port (0-65535)"));
    if (host == u"localhost")
        host = QStringLiteral("127.0.0.1");
    QHostAddress address;
    if (!address.setAddress(host))
        return fail(QStringLiteral("has an invalid IP address"));
    result.address = address;
    result.port = quint16(port);
    return result;
}

HttpListen chooseHttpListen(const QString& option, const QString& optionField,
                            const QString& setting, const QString& settingField,
                            const char* fallback)
{
    QString text = option;
    QString field = optionField;
    if (text.isEmpty()) {
        text = setting;
        field = settingField;
    }
    if (text.isEmpty())
        text = QLatin1String(fallback);
    return parseHttpListen(text, field);
}

QTcpServer* bindHttpListen(QHttpServer* http, const HttpListen& listen, const QString& who,
                           QString* error)
{
    if (!listen.ok()) {
        *error = listen.error;
        return nullptr;
    }
    auto* server = new ContinueServer(http);
    if (!server->listen(listen.address, listen.port)) {
        *error = QStringLiteral("%1 cannot listen on %2: %3")
                     .arg(who, listen.text(), server->errorString());
        delete server;
        return nullptr;
    }
    http->bind(server);
    return server;
}

} // namespace sg
