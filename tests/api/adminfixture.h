#pragma once
// What the admin API tests talk to: a config file in a temporary directory, the ConfigStore
// that loaded it, and the AdminServer serving that store on a free loopback port. A test class
// derives from it, calls startAdmin() in init() and stopAdmin() in cleanup(), and uses call().

#include "api/adminserver.h"
#include "config/configstore.h"
#include "httptestclient.h"
#include "testfiles.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <memory>

class AdminFixture
{
protected:
    // Writes `config` to `file` (relative to a fresh temporary directory), loads it and starts
    // the admin API with `key`. Empty when it runs; otherwise what went wrong.
    QString startAdmin(const QByteArray& config, const QByteArray& key,
                       const QString& file = QStringLiteral("streamgate.json"))
    {
        m_key = key;
        m_dir = std::make_unique<QTemporaryDir>();
        if (!m_dir->isValid())
            return QStringLiteral("no temporary directory");
        m_path = m_dir->filePath(file);
        if (!QDir().mkpath(QFileInfo(m_path).path()) || !sgtest::writeFile(m_path, config))
            return QStringLiteral("cannot write %1").arg(m_path);
        m_store = std::make_unique<sg::ConfigStore>(m_path);
        const sg::LoadResult loaded = m_store->load();
        if (!loaded.ok())
            return sg::formatProblems(loaded.problems);
        m_server = std::make_unique<sg::AdminServer>(m_store.get(), nullptr);
        if (!m_server->start({QStringLiteral("127.0.0.1:0"), QString::fromLatin1(key)}) ||
            m_server->port() == 0)
            return m_server->errorString();
        return {};
    }

    void stopAdmin()
    {
        m_server.reset();
        m_store.reset();
        m_dir.reset();
    }

    // path may carry a query ("/streamgate/v1/events?since=3").
    QUrl url(const QString& path) const
    {
        QUrl u = m_server->url();
        u.setPath(path.section(u'?', 0, 0));
        if (path.contains(u'?'))
            u.setQuery(path.section(u'?', 1));
        return u;
    }

    HttpAnswer call(const QByteArray& verb, const QString& path, const QByteArray& body = {})
    {
        return request(m_network, verb, url(path), body, m_key);
    }
    HttpAnswer call(const QByteArray& verb, const QString& path, const QByteArray& body,
                    const QByteArray& key)
    {
        return request(m_network, verb, url(path), body, key);
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    std::unique_ptr<sg::ConfigStore> m_store;
    std::unique_ptr<sg::AdminServer> m_server;
    QNetworkAccessManager m_network;
    QByteArray m_key;
};
