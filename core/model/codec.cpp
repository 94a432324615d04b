#include "model/codec_p.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>
#include <limits>

namespace sg {

namespace detail {

// ---- APISIX's lexical rules -----------------------------------------------------------------

// Character-class checks are written out rather than regular expressions: they run on every
// decode, from whichever thread validates (GUI, admin API), with nothing shared.
bool isAsciiDigit(QChar c)
{
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

bool isAsciiAlnum(QChar c)
{
    return isAsciiDigit(c) || (c >= QLatin1Char('a') && c <= QLatin1Char('z')) ||
           (c >= QLatin1Char('A') && c <= QLatin1Char('Z'));
}

// [0-9a-zA-Z._-]+ : APISIX's host and id alphabet.
bool isNameChars(QStringView text)
{
    if (text.isEmpty())
        return false;
    for (QChar c : text) {
        if (!isAsciiAlnum(c) && c != QLatin1Char('.') && c != QLatin1Char('_') &&
            c != QLatin1Char('-'))
            return false;
    }
    return true;
}

// 1 to maxDigits ASCII digits, nothing else (no sign, no spaces).
bool isDigits(QStringView text, int maxDigits)
{
    if (text.isEmpty() || text.size() > maxDigits)
        return false;
    for (QChar c : text) {
        if (!isAsciiDigit(c))
            return false;
    }
    return true;
}

// Port text as in "host:port": 1-65535, or 0 when it is not a port.
int parsePort(QStringView text)
{
    if (!isDigits(text, 5))
        return 0;
    const int port = text.toInt();
    return port <= 65535 ? port : 0;
}

// APISIX host_def pattern ^\*?[0-9a-zA-Z-._]+$
bool isSniName(const QString& host)
{
    if (host == QLatin1String("*"))
        return true; // APISIX's host_def_pat: "*" alone matches every name
    return isNameChars(host.startsWith(QLatin1Char('*')) ? QStringView(host).mid(1)
                                                         : QStringView(host));
}

// Strict dotted quad: four decimal octets 0-255 without leading zeros ("127.1" and "01.2.3.4"
// are refused, as APISIX's ipv4 format refuses them).
bool isIpv4(const QString& text)
{
    const QList<QStringView> parts = QStringView(text).split(QLatin1Char('.'));
    if (parts.size() != 4)
        return false;
    for (QStringView part : parts) {
        if (!isDigits(part, 3) || (part.size() > 1 && part.front() == QLatin1Char('0')) ||
            part.toInt() > 255)
            return false;
    }
    return true;
}

// APISIX host_def without the leading wildcard (a node is one host, never a pattern). A
// name made only of digits and dots is meant as an IPv4 address and must be a valid one.
bool isHostName(const QString& host)
{
    if (!isNameChars(host))
        return false;
    for (QChar c : host) {
        if (!isAsciiDigit(c) && c != QLatin1Char('.'))
            return true;
    }
    return isIpv4(host);
}

bool isIpv6(const QString& text)
{
    // Only hex digits, ':' and '.' (embedded IPv4): QHostAddress would also take surrounding
    // spaces and scope ids (fe80::1%eth0), and a route or allow-list entry names networks.
    if (!text.contains(QLatin1Char(':')))
        return false;
    for (QChar c : text) {
        const bool hex = isAsciiDigit(c) || (c >= QLatin1Char('a') && c <= QLatin1Char('f')) ||
                         (c >= QLatin1Char('A') && c <= QLatin1Char('F'));
        if (!hex && c != QLatin1Char(':') && c != QLatin1Char('.'))
            return false;
    }
    QHostAddress address;
    return address.setAddress(text) && address.protocol() == QAbstractSocket::IPv6Protocol;
}

// ---- labels, ids, timestamps ----------------------------------------------------------------

void decodeLabels(Checker& c, const QJsonValue& v, const QString& path, Labels& out)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    if (o.size() > 16)
        c.fail(path, v, QStringLiteral("at most 16 labels are allowed"));
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString p = childPath(path, it.key());
        if (!it.value().isString()) {
            c.wrongType(p, it.value(), QStringLiteral("string"));
            continue;
        }
        const QString value = it.value().toString();
        const bool hasSpace =
            std::any_of(value.begin(), value.end(), [](QChar ch) { return ch.isSpace(); });
        if (value.isEmpty() || value.size() > 64 || hasSpace) {
            // APISIX's label_value_def: 1-256 characters matching ^\S+$ (64 is Streamgate's).
            ApisixWording apisix;
            if (value.isEmpty())
                apisix = apisixSchema(p, QStringLiteral("string too short, expected at least 1, "
                                                        "got 0"));
            else if (value.size() > 256)
                apisix = apisixSchema(p, QStringLiteral("string too long, expected at most 256, "
                                                        "got %1")
                                             .arg(value.size()));
            else if (hasSpace)
                apisix = apisixSchema(p, QStringLiteral("failed to match pattern %1 with %2")
                                             .arg(detail::luaQuoted(QStringLiteral("^\\S+$")),
                                                  detail::luaQuoted(value)));
            c.fail(p, it.value(),
                   QStringLiteral("label values must be 1-64 characters without spaces"), apisix);
            continue;
        }
        out.insert(it.key(), value);
    }
}

void decodeId(Checker& c, const QJsonValue& v, const QString& path, QJsonValue& out)
{
    const QString rule = QStringLiteral(
        "must be a string of 1-64 characters from a-z, A-Z, 0-9, \"-\", \"_\", \".\" or an "
        "integer >= 1");
    if (v.isString()) {
        if (!isApisixIdText(v.toString())) {
            c.fail(path, v, rule, apisixSchema(path, detail::kAnyOfNone));
            return;
        }
        out = v;
        return;
    }
    if (detail::isInteger(v) && v.toDouble() >= 1) {
        out = v;
        return;
    }
    // An integer beyond 2^53 is one to APISIX (Lua's numbers are doubles); not one Streamgate
    // can keep exactly.
    const double d = v.toDouble();
    const bool apisixTakes = v.isDouble() && std::isfinite(d) && std::floor(d) == d && d >= 1;
    c.fail(path, v, rule, apisixTakes ? ApisixWording{} : apisixSchema(path, detail::kAnyOfNone));
}

void decodeTimestamp(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                     DecodeMode mode, qint64& out, QStringList& explicitFields)
{
    if (!o.contains(key))
        return;
    const QString p = childPath(path, key);
    if (mode == DecodeMode::Client) {
        // APISIX refuses these before it looks at the schema, naming them with two spaces.
        c.fail(p, o.value(key),
               QStringLiteral("%1 is set by the server and cannot be given").arg(key),
               ApisixWording{ApisixWording::Kind::Precheck, QString(),
                             QStringLiteral("the property is forbidden:  %1").arg(p)});
        return;
    }
    if (auto t = c.integer(o.value(key), p, 0, std::numeric_limits<qint64>::max())) {
        out = *t;
        if (out == 0)
            explicitFields << key;
    }
}

// Strings with optional length bounds; empty-but-given values are remembered for re-encode.
void decodeString(Checker& c, const QJsonObject& o, const QString& key, const QString& path,
                  int minLength, int maxLength, QString& out, QStringList& explicitFields)
{
    if (!o.contains(key))
        return;
    const QString p = childPath(path, key);
    if (auto s = c.string(o.value(key), p, minLength, maxLength)) {
        out = *s;
        if (out.isEmpty())
            explicitFields << key;
    }
}

// ---- stream variables (chash and limit-conn keys) -------------------------------------------

bool isStreamVar(const QString& name)
{
    for (const char* known : {"remote_addr", "remote_port", "server_addr", "server_port",
                              "protocol", "proxy_protocol_addr", "proxy_protocol_port",
                              "proxy_protocol_server_addr", "proxy_protocol_server_port",
                              "realip_remote_addr", "realip_remote_port", "mqtt_client_id"})
        if (name == QLatin1String(known))
            return true;
    return false;
}

// "$remote_addr $server_port": every $name must be a variable a stream connection has.
QString checkVarCombination(const QString& key)
{
    int count = 0;
    for (qsizetype i = key.indexOf(QLatin1Char('$')); i >= 0;
         i = key.indexOf(QLatin1Char('$'), i + 1)) {
        // $name or ${name}; the name runs over [A-Za-z0-9_].
        qsizetype start = i + 1;
        if (start < key.size() && key.at(start) == QLatin1Char('{'))
            ++start;
        qsizetype end = start;
        while (end < key.size() && (isAsciiAlnum(key.at(end)) || key.at(end) == QLatin1Char('_')))
            ++end;
        if (end == start)
            continue;
        const QString name = key.mid(start, end - start);
        if (!isStreamVar(name))
            return QStringLiteral("$%1 is not available for stream routes; use %2")
                .arg(name, kStreamKeys);
        ++count;
    }
    if (count == 0)
        return QStringLiteral("a var_combination key needs at least one $variable, e.g. "
                              "\"$remote_addr $server_port\"");
    return {};
}

// ---- encoding -------------------------------------------------------------------------------

bool keep(const QStringList& explicitFields, const QString& name, bool nonDefault)
{
    return nonDefault || explicitFields.contains(name);
}

QJsonObject encodeLabels(const Labels& labels)
{
    QJsonObject o;
    for (auto it = labels.begin(); it != labels.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

} // namespace detail

using detail::Checker;
using detail::childPath;
using detail::indexPath;
using detail::isDigits;
using detail::isIpv4;
using detail::isIpv6;
using detail::isNameChars;
using detail::keep;
using detail::parsePort;

namespace {

// ---- listen entries -------------------------------------------------------------------------

void decodeListenInto(Checker& c, const QJsonValue& v, const QString& path, ListenEntry& entry,
                      bool& ok)
{
    ok = false;
    const QString portRule = QStringLiteral("port must be 1-65535");
    if (v.isDouble()) {
        if (auto port = c.integer(v, path, 1, 65535, portRule)) {
            entry.port = int(*port);
            entry.given = v;
            ok = true;
        }
        return;
    }
    if (!v.isString()) {
        c.fail(path, v,
               QStringLiteral("a listener is a port (9100) or \"ip:port\" (\"127.0.0.1:9100\", "
                              "\"[::1]:9100\")"));
        return;
    }
    const QString text = v.toString();
    QString host;
    QString portText;
    if (text.startsWith(QLatin1Char('['))) {
        const qsizetype close = text.indexOf(QLatin1Char(']'));
        if (close < 0 || text.mid(close + 1, 1) != QLatin1String(":")) {
            c.fail(path, v, QStringLiteral("expected \"[ipv6]:port\""));
            return;
        }
        host = text.mid(1, close - 1);
        portText = text.mid(close + 2);
        if (!isIpv6(host)) {
            c.fail(path, v, QStringLiteral("invalid IPv6 address \"%1\"").arg(host));
            return;
        }
    } else if (text.contains(QLatin1Char(':'))) {
        const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
        host = text.left(colon);
        portText = text.mid(colon + 1);
        if (host.contains(QLatin1Char(':'))) {
            c.fail(path, v,
                   QStringLiteral("IPv6 addresses must be in brackets, e.g. \"[::1]:9100\""));
            return;
        }
        if (!isIpv4(host)) {
            c.fail(path, v,
                   QStringLiteral("listen address must be an IP address, not \"%1\"").arg(host));
            return;
        }
    } else {
        portText = text;
    }
    const int port = parsePort(portText);
    if (port != 0) {
        entry.host = host;
        entry.port = port;
        entry.given = v;
        ok = true;
        return;
    }
    // APISIX 3.17's port range "start-end" (validate_port_or_range in apisix/cli/ops.lua): both
    // ends 1-65535, start <= end; nginx then listens on every port of it.
    const qsizetype dash = portText.indexOf(QLatin1Char('-'));
    const QStringView first = QStringView(portText).left(dash);
    const QStringView last = QStringView(portText).mid(dash + 1);
    if (dash <= 0 || !isDigits(first, 18) || !isDigits(last, 18)) {
        c.fail(path, v, portRule);
        return;
    }
    for (const QStringView end : {first, last}) {
        const qint64 n = end.toLongLong();
        if (n < 1 || n > 65535) {
            c.fail(path, v, QStringLiteral("port out of range (1-65535): %1").arg(end.toString()));
            return;
        }
    }
    const int start = first.toInt();
    const int stop = last.toInt();
    if (start > stop) {
        c.fail(path, v, QStringLiteral("invalid port range (start > end): %1").arg(text));
        return;
    }
    if (stop - start + 1 > ListenEntry::kMaxRangePorts) {
        c.fail(path, v,
               QStringLiteral("port range \"%1\" holds %2 ports; Streamgate listens on at most %3 "
                              "ports per range, as each port is a listening socket that keeps a "
                              "file descriptor open (descriptors that sessions need too): split "
                              "it into smaller ranges")
                   .arg(portText)
                   .arg(stop - start + 1)
                   .arg(ListenEntry::kMaxRangePorts));
        return;
    }
    entry.host = host;
    entry.port = start;
    entry.portEnd = stop;
    entry.given = v;
    ok = true;
}

// A stream_proxy.tcp entry: the short forms, or APISIX's object {addr, tls, tls_passthrough,
// proxy_protocol, proxy_protocol_to_upstream} (apisix/cli/schema.lua; tls_passthrough from
// apache/apisix#13912).
void decodeTcpListenInto(Checker& c, const QJsonValue& v, const QString& path, ListenEntry& entry,
                         bool& ok)
{
    if (!v.isObject()) {
        decodeListenInto(c, v, path, entry, ok);
        return;
    }
    ok = false;
    const QJsonObject o = v.toObject();
    c.closed(o, path,
             {"addr", "tls", "tls_passthrough", "proxy_protocol", "proxy_protocol_to_upstream"});
    if (!c.required(o, path, {"addr"}))
        return;
    const int before = int(c.problems.size());
    bool addressOk = false;
    decodeListenInto(c, o.value(u"addr"), childPath(path, QStringLiteral("addr")), entry,
                     addressOk);
    const auto flag = [&](const char* key, std::optional<bool>& out) {
        const QString k = QLatin1String(key);
        if (o.contains(k))
            out = c.boolean(o.value(k), childPath(path, k));
    };
    flag("proxy_protocol", entry.proxyProtocol);
    flag("proxy_protocol_to_upstream", entry.proxyProtocolToUpstream);
    flag("tls", entry.tls);
    flag("tls_passthrough", entry.tlsPassthrough);
    ok = addressOk && int(c.problems.size()) == before;
}

void decodeListenList(Checker& c, const QJsonValue& v, const QString& path, QList<ListenEntry>& out,
                      bool tcp)
{
    if (!c.expectArray(v, path, 0))
        return;
    const QJsonArray a = v.toArray();
    QHash<QString, qsizetype> seen;
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QString p = indexPath(path, i);
        ListenEntry entry;
        bool ok = false;
        if (tcp)
            decodeTcpListenInto(c, a.at(i), p, entry, ok);
        else if (a.at(i).isObject())
            c.fail(p, a.at(i),
                   QStringLiteral("a UDP listener is a port (9100) or \"ip:port\": APISIX's "
                                  "object form is for stream_proxy.tcp only"));
        else
            decodeListenInto(c, a.at(i), p, entry, ok);
        if (!ok)
            continue;
        // Overlapping ports are refused by the cross-object check (config/configcheck.cpp),
        // which imports pass as well.
        const QString key = entry.text();
        if (seen.contains(key)) {
            c.fail(p, a.at(i),
                   QStringLiteral("%1 is already listed as %2")
                       .arg(key, indexPath(path, seen.value(key))));
            continue;
        }
        seen.insert(key, i);
        out << entry;
    }
}

// A list of objects with ids (stream_routes, upstreams, services): each decoded with
// `decodeInto`, ids unique within the list.
template <typename T, typename DecodeInto>
void decodeSection(Checker& c, const QJsonObject& json, const QString& key, DecodeInto decodeInto,
                   QList<T>& out, QStringList& explicitFields)
{
    if (!json.contains(key) || !c.expectArray(json.value(key), key, 0))
        return;
    const QJsonArray items = json.value(key).toArray();
    if (items.isEmpty())
        explicitFields << key;
    QHash<QString, qsizetype> seen;
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QString p = indexPath(key, i);
        T item;
        decodeInto(c, items.at(i), p, DecodeMode::File, item);
        const QString id = item.idString();
        if (!id.isEmpty()) {
            if (seen.contains(id))
                c.fail(childPath(p, QStringLiteral("id")), item.id,
                       QStringLiteral("duplicate id \"%1\" (also used by %2)")
                           .arg(id, indexPath(key, seen.value(id))));
            else
                seen.insert(id, i);
        }
        out << item;
    }
}

template <typename T, typename Encode>
void encodeSection(QJsonObject& o, const QString& key, const QList<T>& items, Encode encode,
                   const QStringList& explicitFields)
{
    if (!keep(explicitFields, key, !items.isEmpty()))
        return;
    QJsonArray a;
    for (const T& item : items)
        a.append(encode(item));
    o.insert(key, a);
}

} // namespace

ApisixWording detail::apisixAddressWording(const QString& path, const QString& text,
                                           const QString& checkMessage, const QString& plugin)
{
    // schema_def's ip_def: IPv4, IPv4/CIDR, IPv6 (a format this approximates with Qt's parser)
    // and IPv6/CIDR; the CIDR patterns are loose, so ":/8" passes them.
    static const QRegularExpression v4(
        QStringLiteral("^((\\d{1,2}|1\\d{2}|2[0-4]\\d|25[0-5])\\.){3}"
                       "(\\d{1,2}|1\\d{2}|2[0-4]\\d|25[0-5])$"));
    static const QRegularExpression v4Cidr(
        QStringLiteral("^(([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\\.){3}"
                       "([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])/([12]?[0-9]|3[0-2])$"));
    static const QRegularExpression v6Cidr(
        QStringLiteral("^([a-fA-F0-9]{0,4}:){1,8}(:[a-fA-F0-9]{0,4}){0,8}([a-fA-F0-9]{0,4})?"
                       "/[0-9]{1,3}$"));
    QHostAddress v6;
    const bool schemaTakes = v4.match(text).hasMatch() || v4Cidr.match(text).hasMatch() ||
                             v6Cidr.match(text).hasMatch() ||
                             (v6.setAddress(text.section(u'%', 0, 0).trimmed()) &&
                              v6.protocol() == QAbstractSocket::IPv6Protocol);
    return schemaTakes ? apisixCheck(checkMessage, plugin) : apisixSchema(path, detail::kAnyOfNone);
}

// ---- public API -----------------------------------------------------------------------------

bool isApisixIdText(QStringView text)
{
    return text.size() <= 64 && isNameChars(text);
}

bool isIpOrCidr(const QString& text)
{
    const qsizetype slash = text.indexOf(QLatin1Char('/'));
    const QString address = slash < 0 ? text : text.left(slash);
    const bool v4 = isIpv4(address);
    const bool v6 = !v4 && isIpv6(address);
    if (!v4 && !v6)
        return false;
    if (slash < 0)
        return true;
    const QStringView prefix = QStringView(text).mid(slash + 1);
    // APISIX's CIDR patterns take the prefix without leading zeros ("/8", not "/08").
    if (!isDigits(prefix, 3) || (prefix.size() > 1 && prefix.front() == QLatin1Char('0')))
        return false;
    return prefix.toInt() <= (v4 ? 32 : 128);
}

Decoded<ListenEntry> decodeListenEntry(const QJsonValue& json, const QString& path)
{
    Checker c;
    Decoded<ListenEntry> result;
    bool ok = false;
    decodeListenInto(c, json, path, result.value, ok);
    result.problems = c.problems;
    return result;
}

Decoded<ListenEntry> decodeTcpListenEntry(const QJsonValue& json, const QString& path)
{
    Checker c;
    Decoded<ListenEntry> result;
    bool ok = false;
    decodeTcpListenInto(c, json, path, result.value, ok);
    result.problems = c.problems;
    return result;
}

Decoded<Config> decodeConfig(const QJsonObject& json)
{
    Checker c;
    Decoded<Config> result;
    Config& config = result.value;
    c.closed(json, QString(),
             {"stream_proxy", "stream_routes", "upstreams", "services", "plugin_metadata", "ssls",
              settingkey::Section});

    const QString proxyKey = QStringLiteral("stream_proxy");
    if (json.contains(proxyKey) && c.expectObject(json.value(proxyKey), proxyKey)) {
        const QJsonObject proxy = json.value(proxyKey).toObject();
        c.closed(proxy, proxyKey, {"tcp", "udp"});
        if (proxy.isEmpty())
            config.explicitFields << proxyKey;
        for (const char* protocol : {"tcp", "udp"}) {
            const QString key = QLatin1String(protocol);
            if (!proxy.contains(key))
                continue;
            QList<ListenEntry>& list =
                key == QLatin1String("tcp") ? config.streamProxy.tcp : config.streamProxy.udp;
            decodeListenList(c, proxy.value(key), childPath(proxyKey, key), list,
                             key == QLatin1String("tcp"));
            if (proxy.value(key).toArray().isEmpty())
                config.explicitFields << childPath(proxyKey, key);
        }
    }

    decodeSection(c, json, QStringLiteral("stream_routes"), detail::decodeRouteInto,
                  config.streamRoutes, config.explicitFields);
    decodeSection(c, json, QStringLiteral("upstreams"), detail::decodeUpstreamInto,
                  config.upstreams, config.explicitFields);
    decodeSection(c, json, QStringLiteral("services"), detail::decodeServiceInto, config.services,
                  config.explicitFields);
    decodeSection(c, json, QStringLiteral("plugin_metadata"), detail::decodePluginMetadataInto,
                  config.pluginMetadata, config.explicitFields);
    decodeSection(c, json, QStringLiteral("ssls"), detail::decodeSslInto, config.ssls,
                  config.explicitFields);

    const QString ownKey = QLatin1String(settingkey::Section);
    if (json.contains(ownKey) && c.expectObject(json.value(ownKey), ownKey)) {
        Decoded<StreamgateSettings> settings = decodeSettings(json.value(ownKey), ownKey);
        config.streamgate = settings.value;
        c.problems << settings.problems;
        if (json.value(ownKey).toObject().isEmpty())
            config.explicitFields << ownKey;
    }
    result.problems = c.problems;
    return result;
}

QJsonValue encodeListenEntry(const ListenEntry& entry)
{
    QJsonValue address(QJsonValue::Undefined);
    // Keep the spelling the user chose ("9100" vs 9100) as long as it still says the same.
    if (!entry.given.isUndefined()) {
        const Decoded<ListenEntry> again = decodeListenEntry(entry.given);
        if (again.ok() && again.value.sameAddress(entry))
            address = entry.given;
    }
    if (address.isUndefined())
        address = entry.host.isEmpty() && !entry.isRange() ? QJsonValue(entry.port)
                                                           : QJsonValue(entry.text());
    if (!entry.proxyProtocol && !entry.proxyProtocolToUpstream && !entry.tls &&
        !entry.tlsPassthrough)
        return address;
    // APISIX's object form, with the settings written as they were given.
    QJsonObject o{{QStringLiteral("addr"), address}};
    if (entry.tls)
        o.insert(QStringLiteral("tls"), *entry.tls);
    if (entry.tlsPassthrough)
        o.insert(QStringLiteral("tls_passthrough"), *entry.tlsPassthrough);
    if (entry.proxyProtocol)
        o.insert(QStringLiteral("proxy_protocol"), *entry.proxyProtocol);
    if (entry.proxyProtocolToUpstream)
        o.insert(QStringLiteral("proxy_protocol_to_upstream"), *entry.proxyProtocolToUpstream);
    return o;
}

QJsonObject encodeConfig(const Config& config)
{
    QJsonObject o;
    const QStringList& ex = config.explicitFields;
    QJsonObject proxy;
    for (const bool tcp : {true, false}) {
        const QList<ListenEntry>& list = tcp ? config.streamProxy.tcp : config.streamProxy.udp;
        const QString key = tcp ? QStringLiteral("tcp") : QStringLiteral("udp");
        if (!keep(ex, QStringLiteral("stream_proxy.") + key, !list.isEmpty()))
            continue;
        QJsonArray a;
        for (const ListenEntry& entry : list)
            a.append(encodeListenEntry(entry));
        proxy.insert(key, a);
    }
    if (keep(ex, QStringLiteral("stream_proxy"), !proxy.isEmpty()))
        o.insert(QStringLiteral("stream_proxy"), proxy);
    encodeSection(o, QStringLiteral("stream_routes"), config.streamRoutes, encodeStreamRoute, ex);
    encodeSection(o, QStringLiteral("upstreams"), config.upstreams, encodeUpstream, ex);
    encodeSection(o, QStringLiteral("services"), config.services, encodeService, ex);
    encodeSection(o, QStringLiteral("plugin_metadata"), config.pluginMetadata, encodePluginMetadata,
                  ex);
    encodeSection(o, QStringLiteral("ssls"), config.ssls, encodeSsl, ex);
    const QString ownKey = QLatin1String(settingkey::Section);
    if (keep(ex, ownKey, !config.streamgate.isEmpty()))
        o.insert(ownKey, encodeSettings(config.streamgate));
    return o;
}

} // namespace sg
