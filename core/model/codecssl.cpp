// APISIX's ssl objects (schema_def.lua `ssl`): the schema's rules only. Whether the PEM texts
// parse and the keys match their certificates is config/sslcheck.h's (it links OpenSSL).
#include "model/codec_p.h"

#include <QJsonArray>
#include <QSet>
#include <limits>

namespace sg {

using detail::Checker;
using detail::childPath;
using detail::indexPath;
using detail::keep;

namespace detail {

// APISIX's certificate_scheme and private_key_schema: strings of 128 (certificates) or 64
// (keys) to 64 KiB characters. A key's text is never echoed in a problem.
constexpr int kMaxPemLength = 64 * 1024;

std::optional<QString> pemText(Checker& c, const QJsonValue& v, const QString& path, bool key)
{
    const int min = key ? 64 : 128;
    if (!v.isString()) {
        c.wrongType(path, key ? QJsonValue(QJsonValue::Undefined) : v, QStringLiteral("string"));
        return std::nullopt;
    }
    const QString text = v.toString();
    // APISIX's secret references: read from the environment or a vault when the certificate is
    // used. Streamgate stores PEM text only.
    if (text.startsWith(u"$env://", Qt::CaseInsensitive) ||
        text.startsWith(u"$secret://", Qt::CaseInsensitive)) {
        c.fail(path, v,
               QStringLiteral("secret references ($env://, $secret://) are not supported by "
                              "Streamgate: give the PEM text itself"));
        return std::nullopt;
    }
    if (text.size() < min || text.size() > kMaxPemLength) {
        c.fail(path, key ? QJsonValue(QStringLiteral("(%1 characters)").arg(text.size())) : v,
               QStringLiteral("a PEM %1 is %2 to %3 characters long, this one has %4")
                   .arg(key ? QStringLiteral("private key") : QStringLiteral("certificate"))
                   .arg(min)
                   .arg(kMaxPemLength)
                   .arg(text.size()));
        return std::nullopt;
    }
    return text;
}

} // namespace detail

namespace {

using detail::pemText;

// host_def_pat: "*" alone, or a name with an optional leading "*".
std::optional<QString> sniText(Checker& c, const QJsonValue& v, const QString& path)
{
    const std::optional<QString> s = c.string(v, path, 0, -1);
    if (!s)
        return std::nullopt;
    if (!detail::isSniName(*s)) {
        c.fail(path, v,
               QStringLiteral("must be a host name such as db.example.com, a wildcard "
                              "*.example.com, or *"));
        return std::nullopt;
    }
    return s;
}

void pemList(Checker& c, const QJsonObject& o, const QString& path, const char* field, bool key,
             QStringList& out)
{
    const QString name = QLatin1String(field);
    if (!o.contains(name))
        return;
    const QString p = childPath(path, name);
    if (!c.expectArray(o.value(name), p, 0))
        return;
    const QJsonArray a = o.value(name).toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (auto text = pemText(c, a.at(i), indexPath(p, i), key))
            out << *text;
    }
}

void decodeClient(Checker& c, const QJsonValue& v, const QString& path, SslClient& client)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path, {"ca", "depth", "skip_mtls_uri_regex"});
    if (!c.required(o, path, {"ca"}))
        return;
    if (auto ca = pemText(c, o.value(u"ca"), childPath(path, QStringLiteral("ca")), false))
        client.ca = *ca;
    if (o.contains(u"depth")) {
        if (auto depth = c.integer(o.value(u"depth"), childPath(path, QStringLiteral("depth")), 0,
                                   std::numeric_limits<int>::max()))
            client.depth = int(*depth);
        if (client.depth == 1)
            client.explicitFields << QStringLiteral("depth");
    }
    if (o.contains(u"skip_mtls_uri_regex")) {
        const QString p = childPath(path, QStringLiteral("skip_mtls_uri_regex"));
        if (c.expectArray(o.value(u"skip_mtls_uri_regex"), p, 1)) {
            const QJsonArray a = o.value(u"skip_mtls_uri_regex").toArray();
            QSet<QString> seen;
            for (qsizetype i = 0; i < a.size(); ++i) {
                const auto re = c.string(a.at(i), indexPath(p, i), 0, -1);
                if (re && seen.contains(*re))
                    c.fail(indexPath(p, i), a.at(i), QStringLiteral("items must be unique"));
                if (re)
                    seen.insert(*re);
            }
            client.skipMtlsUriRegex = a;
        }
    }
}

} // namespace

namespace detail {

void decodeSslInto(Checker& c, const QJsonValue& v, const QString& path, DecodeMode mode, Ssl& s)
{
    if (!c.expectObject(v, path))
        return;
    const QJsonObject o = v.toObject();
    c.closed(o, path,
             {"id", "desc", "labels", "type", "cert", "key", "sni", "snis", "certs", "keys",
              "client", "status", "ssl_protocols", "create_time", "update_time"});
    detail::decodeHead(c, o, path, s);
    if (o.contains(u"type")) {
        const QString p = childPath(path, QStringLiteral("type"));
        if (auto type = c.string(o.value(u"type"), p, 0, -1)) {
            if (*type == u"server" || *type == u"client") {
                s.type = *type;
                if (*type == u"server")
                    s.explicitFields << QStringLiteral("type");
            } else {
                c.fail(p, o.value(u"type"), QStringLiteral("must be \"server\" or \"client\""));
            }
        }
    }
    // APISIX: a server certificate needs cert, key and exactly one of sni and snis; a client
    // one cert and key.
    if (s.isServer()) {
        const bool hasSni = o.contains(u"sni");
        const bool hasSnis = o.contains(u"snis");
        if (hasSni && hasSnis)
            c.fail(childPath(path, QStringLiteral("snis")), o.value(u"snis"),
                   QStringLiteral("give sni or snis, not both"));
        else if (!hasSni && !hasSnis)
            c.fail(childPath(path, QStringLiteral("sni")), QJsonValue(QJsonValue::Undefined),
                   QStringLiteral("a server certificate needs sni or snis: the names it is "
                                  "presented for"));
    }
    c.required(o, path, {"cert", "key"});
    if (o.contains(u"cert")) {
        if (auto cert =
                pemText(c, o.value(u"cert"), childPath(path, QStringLiteral("cert")), false))
            s.cert = *cert;
    }
    if (o.contains(u"key")) {
        if (auto key = pemText(c, o.value(u"key"), childPath(path, QStringLiteral("key")), true))
            s.key = *key;
    }
    if (o.contains(u"sni")) {
        if (auto sni = sniText(c, o.value(u"sni"), childPath(path, QStringLiteral("sni"))))
            s.sni = *sni;
    }
    if (o.contains(u"snis")) {
        const QString p = childPath(path, QStringLiteral("snis"));
        if (c.expectArray(o.value(u"snis"), p, 1)) {
            const QJsonArray a = o.value(u"snis").toArray();
            for (qsizetype i = 0; i < a.size(); ++i) {
                if (auto sni = sniText(c, a.at(i), indexPath(p, i)))
                    s.snis << *sni;
            }
        }
    }
    pemList(c, o, path, "certs", false, s.certs);
    pemList(c, o, path, "keys", true, s.keys);
    if (o.contains(u"certs") && o.value(u"certs").toArray().isEmpty())
        s.explicitFields << QStringLiteral("certs");
    if (o.contains(u"keys") && o.value(u"keys").toArray().isEmpty())
        s.explicitFields << QStringLiteral("keys");
    if (s.isServer() && o.value(u"certs").toArray().size() != o.value(u"keys").toArray().size())
        c.fail(childPath(path, QStringLiteral("keys")), QJsonValue(QJsonValue::Undefined),
               QStringLiteral("mismatched number of certs and keys: each of certs needs its key "
                              "at the same index of keys"));
    if (o.contains(u"client")) {
        SslClient client;
        const int before = int(c.problems.size());
        decodeClient(c, o.value(u"client"), childPath(path, QStringLiteral("client")), client);
        if (c.problems.size() == before)
            s.client = client;
    }
    if (o.contains(u"status")) {
        const QString p = childPath(path, QStringLiteral("status"));
        if (auto status = c.integer(o.value(u"status"), p, 0, 1,
                                    QStringLiteral("must be 1 (enabled) or 0 (disabled)")))
            s.status = int(*status);
        if (s.status == 1)
            s.explicitFields << QStringLiteral("status");
    }
    if (o.contains(u"ssl_protocols")) {
        const QString p = childPath(path, QStringLiteral("ssl_protocols"));
        if (c.expectArray(o.value(u"ssl_protocols"), p, 0)) {
            const QJsonArray a = o.value(u"ssl_protocols").toArray();
            if (a.size() > 3)
                c.fail(p, o.value(u"ssl_protocols"), QStringLiteral("at most 3 items"));
            for (qsizetype i = 0; i < a.size(); ++i) {
                const QJsonValue item = a.at(i);
                const QString text = item.toString();
                if (!item.isString() ||
                    (text != u"TLSv1.1" && text != u"TLSv1.2" && text != u"TLSv1.3")) {
                    c.fail(indexPath(p, i), item,
                           QStringLiteral("must be one of \"TLSv1.1\", \"TLSv1.2\", "
                                          "\"TLSv1.3\""));
                } else if (s.sslProtocols.contains(text)) {
                    c.fail(indexPath(p, i), item, QStringLiteral("items must be unique"));
                } else {
                    s.sslProtocols << text;
                }
            }
            if (a.isEmpty())
                s.explicitFields << QStringLiteral("ssl_protocols");
        }
    }
    detail::decodeTimes(c, o, path, mode, s);
}

} // namespace detail

Decoded<Ssl> decodeSsl(const QJsonValue& json, const QString& path, DecodeMode mode)
{
    Checker c;
    Decoded<Ssl> result;
    detail::decodeSslInto(c, json, path, mode, result.value);
    result.problems = c.problems;
    return result;
}

QJsonObject encodeSsl(const Ssl& s)
{
    QJsonObject o;
    const QStringList& ex = s.explicitFields;
    detail::encodeHead(o, s);
    if (keep(ex, QStringLiteral("type"), !s.isServer()))
        o.insert(QStringLiteral("type"), s.type);
    o.insert(QStringLiteral("cert"), s.cert);
    o.insert(QStringLiteral("key"), s.key);
    if (!s.sni.isEmpty())
        o.insert(QStringLiteral("sni"), s.sni);
    if (!s.snis.isEmpty())
        o.insert(QStringLiteral("snis"), QJsonArray::fromStringList(s.snis));
    if (keep(ex, QStringLiteral("certs"), !s.certs.isEmpty()))
        o.insert(QStringLiteral("certs"), QJsonArray::fromStringList(s.certs));
    if (keep(ex, QStringLiteral("keys"), !s.keys.isEmpty()))
        o.insert(QStringLiteral("keys"), QJsonArray::fromStringList(s.keys));
    if (s.client) {
        QJsonObject client{{QStringLiteral("ca"), s.client->ca}};
        if (keep(s.client->explicitFields, QStringLiteral("depth"), s.client->depth != 1))
            client.insert(QStringLiteral("depth"), s.client->depth);
        if (!s.client->skipMtlsUriRegex.isEmpty())
            client.insert(QStringLiteral("skip_mtls_uri_regex"), s.client->skipMtlsUriRegex);
        o.insert(QStringLiteral("client"), client);
    }
    if (keep(ex, QStringLiteral("status"), s.status != 1))
        o.insert(QStringLiteral("status"), s.status);
    if (keep(ex, QStringLiteral("ssl_protocols"), !s.sslProtocols.isEmpty()))
        o.insert(QStringLiteral("ssl_protocols"), QJsonArray::fromStringList(s.sslProtocols));
    detail::encodeTimes(o, s);
    return o;
}

} // namespace sg
