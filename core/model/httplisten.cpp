#include "model/httplisten.h"

namespace sg {

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
        result.reason = QStringLiteral("\"%1\" %2").arg(input, why);
        result.error = field + QStringLiteral(": ") + result.reason;
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

} // namespace sg
