#include "runtime/headlessrunner.h"

#include "config/configstore.h"
#include "config/logging.h"
#include "proxy/engine.h"

#include <QSocketNotifier>
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace sg {

namespace {

// Self-pipe: the handler only writes the signal number; the event loop does the work.
int g_signalPipe[2] = {-1, -1};

void forwardSignal(int signo)
{
    const char byte = char(signo);
    [[maybe_unused]] const ssize_t n = ::write(g_signalPipe[1], &byte, 1);
}

} // namespace

HeadlessRunner::HeadlessRunner(ConfigStore* store, Engine* engine, QObject* parent)
    : QObject(parent), m_store(store), m_engine(engine)
{
}

HeadlessRunner::~HeadlessRunner()
{
    if (m_notifier) {
        for (int signo : {SIGHUP, SIGINT, SIGTERM})
            std::signal(signo, SIG_DFL);
        ::close(g_signalPipe[0]);
        ::close(g_signalPipe[1]);
        g_signalPipe[0] = g_signalPipe[1] = -1;
    }
}

void HeadlessRunner::start()
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalPipe) == 0) {
        m_notifier = new QSocketNotifier(g_signalPipe[0], QSocketNotifier::Read, this);
        connect(m_notifier, &QSocketNotifier::activated, this, &HeadlessRunner::onSignal);
        struct sigaction action = {};
        action.sa_handler = forwardSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        for (int signo : {SIGHUP, SIGINT, SIGTERM})
            ::sigaction(signo, &action, nullptr);
    } else {
        qCWarning(lcProxy) << "cannot install signal handlers; SIGHUP will not reload";
    }
}

bool HeadlessRunner::reload()
{
    // Validated first: a broken or invalid file must not empty the running proxy.
    return m_store->reload(true).isEmpty();
}

void HeadlessRunner::onSignal()
{
    char byte = 0;
    if (::read(g_signalPipe[0], &byte, 1) != 1)
        return;
    const int signo = byte;
    if (signo == SIGHUP) {
        qCInfo(lcConfig) << "SIGHUP: reloading the config";
        reload();
        return;
    }
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcProxy).noquote() << QStringLiteral("%1: stopping; open sessions have %2 s to finish")
                                     .arg(signo == SIGINT ? "SIGINT" : "SIGTERM")
                                     .arg(m_graceMs / 1000.0);
    m_engine->stop(m_graceMs);
    Q_EMIT finished(0);
}

} // namespace sg
