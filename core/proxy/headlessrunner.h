#pragma once
// HeadlessRunner keeps a headless Streamgate in step with its config file and the process's
// signals: a change to the file (seen by a watcher) or SIGHUP reloads it — a file that does
// not validate is reported and the running config stays; SIGINT/SIGTERM stop accepting, let
// sessions finish for up to gracePeriodMs, then emit finished().

#include <QObject>
#include <QString>
#include <QTimer>

class QFileSystemWatcher;
class QSocketNotifier;

namespace sg {

class ConfigStore;
class Engine;

class HeadlessRunner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HeadlessRunner)

public:
    HeadlessRunner(ConfigStore* store, Engine* engine, QObject* parent = nullptr);
    ~HeadlessRunner() override;

    // Installs the signal handlers and the file watcher. One runner per process.
    void start();
    int gracePeriodMs() const { return m_graceMs; }
    void setGracePeriodMs(int ms) { m_graceMs = ms; }

    // Re-reads the config file now (what SIGHUP does). Returns false when the file was refused.
    bool reload();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void onSignal();
    void watchFile();

    ConfigStore* m_store;
    Engine* m_engine;
    QFileSystemWatcher* m_watcher = nullptr;
    QSocketNotifier* m_notifier = nullptr;
    QTimer m_debounce;
    int m_graceMs = 5000;
    bool m_stopping = false;
};

} // namespace sg
