// The worker loops' contract for a listening socket that several loops watch (IoWatch::shared),
// which the TCP listeners rely on: the socket is reported for as long as clients wait, so a loop
// may accept a few per report and leave the rest for the next pass, and every client is accepted
// by exactly one of the loops. Both loop implementations.

#include "proxy/eventloop.h"

#include <QTest>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace sg;

namespace {

// Accepts at most `perReport` clients per report, as TcpAcceptor does with its batch limit.
class Acceptor final : public IoHandler
{
public:
    explicit Acceptor(int perReport) : m_perReport(perReport) {}
    void onIo(IoWatch& watch, quint32 bits) override
    {
        ++reports;
        QVERIFY(bits & IoRead);
        for (int i = 0; i < m_perReport; ++i) {
            const int fd = ::accept4(watch.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                return;
            accepted.push_back(fd);
        }
    }
    ~Acceptor()
    {
        for (int fd : accepted)
            ::close(fd);
    }
    int reports = 0;
    std::vector<int> accepted;

private:
    const int m_perReport;
};

int listenOnLoopback(quint16& port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 128) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return -1;
    port = ntohs(a.sin_port);
    return fd;
}

// Blocking connects: each returns once the client sits in the accept queue.
std::vector<int> connectClients(quint16 port, int count)
{
    std::vector<int> fds;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    for (int i = 0; i < count; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            break;
        fds.push_back(fd);
    }
    return fds;
}

} // namespace

class TstEventLoop : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sharedListeningSocket_data()
    {
        QTest::addColumn<EventLoopKind>("kind");
        QTest::newRow("epoll") << EventLoopKind::Epoll;
        QTest::newRow("poll") << EventLoopKind::Poll;
    }

    void sharedListeningSocket()
    {
        QFETCH(EventLoopKind, kind);
        quint16 port = 0;
        const int lfd = listenOnLoopback(port);
        QVERIFY(lfd >= 0);
        constexpr int kClients = 40;
        constexpr int kPerReport = 3;

        std::unique_ptr<EventLoop> loops[2] = {EventLoop::create(kind), EventLoop::create(kind)};
        Acceptor acceptors[2] = {Acceptor(kPerReport), Acceptor(kPerReport)};
        IoWatch watches[2];
        for (int i = 0; i < 2; ++i) {
            watches[i].fd = lfd;
            watches[i].handler = &acceptors[i];
            watches[i].shared = true;
            QVERIFY(loops[i]->add(watches[i], IoRead));
        }

        const std::vector<int> clients = connectClients(port, kClients);
        QCOMPARE(int(clients.size()), kClients);

        // Only the first loop runs: it is told again and again until the queue is empty.
        for (int pass = 0; pass < kClients && int(acceptors[0].accepted.size()) < kClients; ++pass)
            loops[0]->run(1000);
        QCOMPARE(int(acceptors[0].accepted.size()), kClients);
        QVERIFY2(acceptors[0].reports >= kClients / kPerReport,
                 qPrintable(QString::number(acceptors[0].reports)));
        loops[0]->run(0);
        const int reportsWhenEmpty = acceptors[0].reports;
        loops[0]->run(0);
        QCOMPARE(acceptors[0].reports, reportsWhenEmpty); // nothing waits: no report

        // Both loops run: every client is accepted once, by one of them.
        const std::vector<int> more = connectClients(port, kClients);
        QCOMPARE(int(more.size()), kClients);
        for (int pass = 0; pass < 4 * kClients; ++pass) {
            const size_t total = acceptors[0].accepted.size() + acceptors[1].accepted.size();
            if (total == size_t(2 * kClients))
                break;
            loops[pass % 2]->run(10);
        }
        QCOMPARE(int(acceptors[0].accepted.size() + acceptors[1].accepted.size()), 2 * kClients);
        QCOMPARE(::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK), -1); // the queue is empty

        for (int i = 0; i < 2; ++i)
            loops[i]->remove(watches[i]);
        for (int fd : clients)
            ::close(fd);
        for (int fd : more)
            ::close(fd);
        ::close(lfd);
    }
};

QTEST_GUILESS_MAIN(TstEventLoop)
#include "tst_eventloop.moc"
