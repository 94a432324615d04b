#include "proxy/plugins.h"

#include <QMutexLocker>
#include <cmath>

namespace sg {

namespace {

// Validation refuses bad entries; should one slip through, it simply matches no one.
AddressList parseEntries(const QStringList& entries)
{
    if (auto list = AddressList::parse(entries))
        return *list;
    QStringList valid;
    for (const QString& entry : entries) {
        if (AddressRule::parse(entry))
            valid.append(entry);
    }
    return AddressList::parse(valid).value_or(AddressList{});
}

bool isVariableChar(QChar c)
{
    return c.isLetterOrNumber() || c == u'_';
}

} // namespace

IpRestriction::IpRestriction(const IpRestrictionConf& conf)
    : m_whitelist(parseEntries(conf.whitelist)), m_blacklist(parseEntries(conf.blacklist)),
      m_hasWhitelist(!conf.whitelist.isEmpty()), m_hasBlacklist(!conf.blacklist.isEmpty()),
      m_message(conf.message.isEmpty() ? QStringLiteral("Your IP address is not allowed")
                                       : conf.message)
{
}

bool IpRestriction::allows(const QHostAddress& remote) const
{
    const QHostAddress peer = normalizedAddress(remote);
    if (m_hasBlacklist && m_blacklist.contains(peer))
        return false;
    if (m_hasWhitelist && !m_whitelist.contains(peer))
        return false;
    return true;
}

QString streamVariable(const QString& name, const QHostAddress& remote, const QHostAddress& local,
                       int serverPort)
{
    if (name == u"remote_addr")
        return normalizedAddress(remote).toString();
    if (name == u"server_addr")
        return normalizedAddress(local).toString();
    if (name == u"server_port")
        return QString::number(serverPort);
    return QString();
}

QString resolveStreamVariables(const QString& templ, const QHostAddress& remote,
                               const QHostAddress& local, int serverPort, int* resolved)
{
    int count = 0;
    QString out;
    out.reserve(templ.size() + 32);
    const qsizetype n = templ.size();
    for (qsizetype i = 0; i < n;) {
        const QChar c = templ.at(i);
        if (c == u'\\' && i + 1 < n && templ.at(i + 1) == u'$') {
            out.append(u'$'); // an escaped dollar stays literal
            i += 2;
            continue;
        }
        if (c != u'$') {
            out.append(c);
            ++i;
            continue;
        }
        qsizetype start = i + 1;
        qsizetype end = start;
        bool braced = false;
        if (start < n && templ.at(start) == u'{') {
            braced = true;
            ++start;
            end = start;
        }
        while (end < n && isVariableChar(templ.at(end)))
            ++end;
        if (end == start || (braced && (end >= n || templ.at(end) != u'}'))) {
            out.append(c); // not a variable reference: keep the text as written
            ++i;
            continue;
        }
        const QString value =
            streamVariable(templ.mid(start, end - start), remote, local, serverPort);
        if (!value.isNull()) {
            out.append(value);
            ++count;
        }
        i = braced ? end + 1 : end;
    }
    if (resolved)
        *resolved = count;
    return out;
}

LimitConn::LimitConn(const LimitConnConf& conf) : m_conf(conf)
{
    if (m_conf.conn < 1)
        m_conf.conn = 1; // validation requires conn > 0; never divide by zero
    if (m_conf.burst < 0)
        m_conf.burst = 0;
}

QString LimitConn::keyFor(const QHostAddress& remote, const QHostAddress& local,
                          int serverPort) const
{
    QString key;
    if (m_conf.keyType == u"var_combination") {
        int resolved = 0;
        key = resolveStreamVariables(m_conf.key, remote, local, serverPort, &resolved);
        if (resolved == 0)
            key = QString();
    } else {
        key = streamVariable(m_conf.key, remote, local, serverPort);
    }
    if (key.isEmpty())
        key = streamVariable(QStringLiteral("remote_addr"), remote, local, serverPort);
    return key;
}

LimitConn::Admission LimitConn::acquire(const QHostAddress& remote, const QHostAddress& local,
                                        int serverPort)
{
    const QString key = keyFor(remote, local, serverPort);
    Admission admission;
    QMutexLocker lock(&m_mutex);
    int& count = m_active[key];
    const int next = count + 1;
    if (next > m_conf.conn + m_conf.burst) {
        admission.concurrent = count;
        if (count == 0)
            m_active.remove(key);
        return admission;
    }
    count = next;
    admission.admitted = true;
    admission.key = key;
    admission.concurrent = next;
    if (next > m_conf.conn)
        admission.delaySeconds =
            m_conf.defaultConnDelay * std::floor(double(next - 1) / m_conf.conn);
    return admission;
}

void LimitConn::release(const QString& key)
{
    if (key.isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    auto it = m_active.find(key);
    if (it == m_active.end())
        return;
    if (--it.value() <= 0)
        m_active.erase(it);
}

int LimitConn::active(const QString& key) const
{
    QMutexLocker lock(&m_mutex);
    return m_active.value(key, 0);
}

} // namespace sg
