#pragma once
// HeadlessRunner handles the process's signals for a headless Streamgate: SIGHUP reloads the
// config file (a file that does not validate is reported and the running config stays; the
// store itself watches the file, as in the GUI); SIGINT/SIGTERM stop accepting, let sessions
// finish for up to gracePeriodMs, then emit finished().

#include <QObject>
#include <QString>

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

    // Installs the signal handlers. One runner per process.
    void start();
    int gracePeriodMs() const { return m_graceMs; }
    void setGracePeriodMs(int ms) { m_graceMs = ms; }

    // Re-reads the config file now (what SIGHUP does). Returns false when the file was refused.
    bool reload();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void onSignal();

    ConfigStore* m_store;
    Engine* m_engine;
    QSocketNotifier* m_notifier = nullptr;
    int m_graceMs = 5000;
    bool m_stopping = false;
};

} // namespace sg
