// The relay pump's filter seam, through the engine: filters that delay, drop, inject, slice,
// hold, end and reset a direction, each on every relay flavour (epoll + splice, epoll + copy,
// the portable poll loop). What a peer sees is what is checked: bytes, their order and
// timing, FIN or reset, and what the session reports (buffered bytes, close reason).

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"

#include <QTest>
#include <deque>

using namespace sg;
using namespace sgtest;

namespace {

// Holds every chunk `delayMs`, then writes it on, in order; a FIN waits for the last chunk.
class DelayFilter final : public RelayFilter
{
public:
    explicit DelayFilter(int delayMs) : m_delayMs(delayMs) {}
    Mode mode() const override { return Mode::Transform; }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        m_chunks.push_back({out.nowMs() + m_delayMs, std::string(data, len)});
        m_held += len;
        out.wakeAt(m_chunks.front().at);
    }
    void onEnd(FilterOutput& out) override
    {
        m_ending = true;
        if (m_chunks.empty())
            out.finish();
    }
    void onTimer(FilterOutput& out) override
    {
        while (!m_chunks.empty() && m_chunks.front().at <= out.nowMs()) {
            const std::string bytes = std::move(m_chunks.front().bytes);
            m_chunks.pop_front();
            m_held -= bytes.size();
            out.write(bytes.data(), bytes.size());
        }
        if (!m_chunks.empty())
            out.wakeAt(m_chunks.front().at);
        else if (m_ending)
            out.finish();
    }
    std::size_t held() const override { return m_held; }

private:
    struct Chunk
    {
        qint64 at;
        std::string bytes;
    };
    const int m_delayMs;
    std::deque<Chunk> m_chunks;
    std::size_t m_held = 0;
    bool m_ending = false;
};

// Drops the first `count` bytes of the direction, passes the rest.
class DropFilter final : public RelayFilter
{
public:
    explicit DropFilter(std::size_t count) : m_left(count) {}
    Mode mode() const override { return m_left ? Mode::Transform : Mode::Pass; }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        const std::size_t drop = qMin(len, m_left);
        m_left -= drop;
        out.write(data + drop, len - drop);
    }

private:
    std::size_t m_left;
};

// Writes `text` before any relayed byte (a PROXY protocol header would), then passes.
class InjectFilter final : public RelayFilter
{
public:
    explicit InjectFilter(QByteArray text) : m_text(std::move(text)) {}
    Mode mode() const override { return m_started ? Mode::Pass : Mode::Transform; }
    void onStart(FilterOutput& out) override
    {
        out.write(m_text.constData(), std::size_t(m_text.size()));
        m_started = true;
    }

private:
    QByteArray m_text;
    bool m_started = false;
};

// Writes what it gets in pieces of `size` bytes, one piece every `gapMs`.
class SliceFilter final : public RelayFilter
{
public:
    SliceFilter(std::size_t size, int gapMs) : m_size(size), m_gapMs(gapMs) {}
    Mode mode() const override { return Mode::Transform; }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        const bool idle = m_pending.empty();
        m_pending.append(data, len);
        if (idle)
            out.wakeAt(out.nowMs());
    }
    void onEnd(FilterOutput& out) override
    {
        m_ending = true;
        if (m_pending.empty())
            out.finish();
    }
    void onTimer(FilterOutput& out) override
    {
        const std::size_t n = qMin(m_size, m_pending.size());
        out.write(m_pending.data(), n);
        m_pending.erase(0, n);
        if (!m_pending.empty())
            out.wakeAt(out.nowMs() + m_gapMs);
        else if (m_ending)
            out.finish();
    }
    std::size_t held() const override { return m_pending.size(); }

private:
    const std::size_t m_size;
    const int m_gapMs;
    std::string m_pending;
    bool m_ending = false;
};

// Keeps every byte (never releases): what it holds must stop the source.
class HoldFilter final : public RelayFilter
{
public:
    Mode mode() const override { return Mode::Transform; }
    void onData(const char*, std::size_t len, FilterOutput&) override { m_held += len; }
    std::size_t held() const override { return m_held; }

private:
    std::size_t m_held = 0;
};

// Passes `limit` bytes, then ends the direction with a FIN (or a reset of the session).
class CutFilter final : public RelayFilter
{
public:
    CutFilter(std::size_t limit, bool reset) : m_left(limit), m_reset(reset) {}
    Mode mode() const override { return Mode::Transform; }
    void onData(const char* data, std::size_t len, FilterOutput& out) override
    {
        const std::size_t n = qMin(len, m_left);
        out.write(data, n);
        m_left -= n;
        if (m_left == 0) {
            if (m_reset)
                out.reset();
            else
                out.finish();
        }
    }

private:
    std::size_t m_left;
    const bool m_reset;
};

// Sees every byte and never changes one.
class CountFilter final : public RelayFilter
{
public:
    explicit CountFilter(std::shared_ptr<std::atomic<qint64>> seen) : m_seen(std::move(seen)) {}
    Mode mode() const override { return Mode::Observe; }
    void observe(const char*, std::size_t len) override { m_seen->fetch_add(qint64(len)); }

private:
    std::shared_ptr<std::atomic<qint64>> m_seen;
};

using MakeFilter = std::function<std::unique_ptr<RelayFilter>()>;

} // namespace

class TstRelayFilter : public QObject
{
    Q_OBJECT

private:
    // An engine whose TCP sessions get `toUpstream` / `toClient` filters (either may be null).
    EngineOptions options(MakeFilter toUpstream, MakeFilter toClient = {}) const
    {
        EngineOptions o = relayFlavourOptions();
        o.workers = 1;
        o.filterProviders.push_back([toUpstream, toClient](const auto&, SessionFilters& out) {
            if (toUpstream)
                out.toUpstream.push_back(toUpstream());
            if (toClient)
                out.toClient.push_back(toClient());
        });
        return o;
    }

    // One listener and one route "r" to `upstreamPort`; returns a connected client, or -1.
    int connectThrough(Engine& engine, int upstreamPort)
    {
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        c.streamRoutes << route("r", upstream({node("127.0.0.1", upstreamPort)}));
        engine.apply(c);
        return connectTo("127.0.0.1", port);
    }

    static const ConnectionInfo* closedSession(const Snapshot& s)
    {
        return s.closed.isEmpty() ? nullptr : &s.closed.constFirst();
    }

private Q_SLOTS:
    void initTestCase_data() { addRelayFlavours(); }

    void delayHoldsEachChunk()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options([] { return std::make_unique<DelayFilter>(300); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        QElapsedTimer t;
        t.start();
        QVERIFY(sendAll(fd, "ping"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("ping"));
        // The worker keeps time in whole milliseconds read once per loop pass: the hold starts
        // up to 1 ms before the bytes arrive.
        QVERIFY2(t.elapsed() >= 299, qPrintable(QString::number(t.elapsed())));
        // A bulk transfer through the delay arrives whole and in order, and the FIN follows it.
        const QByteArray big = pattern(256 * 1024, 3); // 64 KiB per 300 ms: about 1.2 s
        QByteArray back;
        QCOMPARE(exchange(fd, big, back, -1, true, 20000), ReadEnd::Eof);
        QCOMPARE(back.size(), big.size());
        QVERIFY(back == big);
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(closedSession(engine.snapshot()), 5000);
        QCOMPARE(closedSession(engine.snapshot())->bytesUp, quint64(big.size() + 4));
    }

    void dropRemovesBytes()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options([] { return std::make_unique<DropFilter>(6); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "XXXXXXhello"));
        QCOMPARE(recvExactly(fd, 5), QByteArray("hello"));
        QVERIFY(sendAll(fd, " again"));
        QCOMPARE(recvExactly(fd, 6), QByteArray(" again"));
        ::shutdown(fd, SHUT_WR);
        QByteArray rest;
        QCOMPARE(waitForEnd(fd, 5000, &rest), ReadEnd::Eof);
        QVERIFY(rest.isEmpty());
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(closedSession(engine.snapshot()), 5000);
        // 17 bytes sent, 6 dropped: the server and the counters see 11.
        QCOMPARE(echo.bytesIn.load(), 11);
        QCOMPARE(closedSession(engine.snapshot())->bytesUp, quint64(11));
    }

    void injectSpeaksFirst()
    {
        // Both directions: a header toward the server before the client says anything, and
        // one toward the client before the server's first byte.
        TestServer echo(TestServer::Echo);
        Engine engine(options([] { return std::make_unique<InjectFilter>("HELLO-UP\n"); },
                              [] { return std::make_unique<InjectFilter>("HELLO-DOWN\n"); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        // The echo returns the upstream header; the downstream header comes first.
        QCOMPARE(recvExactly(fd, 20), QByteArray("HELLO-DOWN\nHELLO-UP\n"));
        QVERIFY(sendAll(fd, "data"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("data"));
        ::close(fd);
    }

    void sliceCutsAndPaces()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options({}, [] { return std::make_unique<SliceFilter>(10, 40); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        const QByteArray message = pattern(100, 9); // 10 pieces, 9 gaps of 40 ms
        QVERIFY(sendAll(fd, message));
        QElapsedTimer t;
        t.start();
        QByteArray got;
        int reads = 0;
        while (got.size() < message.size() && t.elapsed() < 5000) {
            QByteArray part;
            if (readSome(fd, part, 1, 5000) != ReadEnd::Data)
                break;
            got += part;
            ++reads;
        }
        QCOMPARE(got, message);
        QVERIFY2(t.elapsed() >= 9 * 40 - 40, qPrintable(QString::number(t.elapsed())));
        QVERIFY2(reads >= 2, "the slices arrived as one");
        ::close(fd);
    }

    void heldBytesStopTheSource()
    {
        TestServer sink(TestServer::Sink);
        const int cap = 64 * 1024;
        Engine engine(options([] { return std::make_unique<HoldFilter>(); }));
        const int fd = connectThrough(engine, sink.port());
        QVERIFY(fd >= 0);
        QTRY_VERIFY_WITH_TIMEOUT(
            activeOn(engine.snapshot(), "r").value_or(ConnectionInfo{}).state ==
                ConnectionState::Established,
            5000);
        const QByteArray chunk = pattern(64 * 1024, 5);
        qint64 written = 0;
        quint64 maxHeld = 0;
        const qint64 end = nowMs() + 1500;
        while (nowMs() < end) {
            const ssize_t n = ::send(fd, chunk.constData(), size_t(chunk.size()), MSG_NOSIGNAL);
            if (n > 0) {
                written += n;
            } else {
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 50);
            }
            if (const auto c = activeOn(engine.snapshot(), "r"))
                maxHeld = qMax(maxHeld, c->buffered);
        }
        // The filter holds at most the cap; the rest waits in the kernel, then in the client.
        QVERIFY2(maxHeld > 0, "the held bytes were not reported");
        QVERIFY2(maxHeld <= quint64(cap), qPrintable(QString::number(maxHeld)));
        QVERIFY2(written < 64 * 1024 * 1024,
                 qPrintable(QStringLiteral("the client wrote %1 bytes").arg(written)));
        QCOMPARE(sink.bytesIn.load(), 0);
        ::close(fd);
    }

    void finishEndsTheDirection()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options([] { return std::make_unique<CutFilter>(5, false); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "0123456789"));
        // The server gets five bytes and a FIN; the echo sends them back and closes.
        QByteArray got;
        QCOMPARE(waitForEnd(fd, 5000, &got), ReadEnd::Eof);
        QCOMPARE(got, QByteArray("01234"));
        QCOMPARE(echo.bytesIn.load(), 5);
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(closedSession(engine.snapshot()), 5000);
        QCOMPARE(toString(closedSession(engine.snapshot())->closeReason),
                 toString(CloseReason::UpstreamClosed));
    }

    void resetReachesBothPeers()
    {
        TestServer echo(TestServer::Echo);
        Engine engine(options([] { return std::make_unique<CutFilter>(3, true); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "abcdef"));
        QByteArray got;
        QCOMPARE(waitForEnd(fd, 5000, &got), ReadEnd::Reset);
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(closedSession(engine.snapshot()), 5000);
        QCOMPARE(toString(closedSession(engine.snapshot())->closeReason),
                 toString(CloseReason::InjectedReset));
        QTRY_COMPARE_WITH_TIMEOUT(echo.open.load(), 0, 5000);
    }

    void observerSeesEveryByte()
    {
        TestServer echo(TestServer::Echo);
        auto up = std::make_shared<std::atomic<qint64>>(0);
        auto down = std::make_shared<std::atomic<qint64>>(0);
        Engine engine(options([up] { return std::make_unique<CountFilter>(up); },
                              [down] { return std::make_unique<CountFilter>(down); }));
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        const QByteArray big = pattern(3 * 1024 * 1024 + 17, 4);
        QByteArray back;
        QCOMPARE(exchange(fd, big, back, -1, true, 20000), ReadEnd::Eof);
        QVERIFY(back == big);
        ::close(fd);
        QTRY_VERIFY_WITH_TIMEOUT(closedSession(engine.snapshot()), 5000);
        QCOMPARE(up->load(), qint64(big.size()));
        QCOMPARE(down->load(), qint64(big.size()));
    }

    void chainRunsInOrder()
    {
        // drop 2, then delay: the delay sees (and holds) only what the drop let through.
        TestServer echo(TestServer::Echo);
        EngineOptions o = options({});
        o.filterProviders.push_back([](const auto&, SessionFilters& out) {
            out.toUpstream.push_back(std::make_unique<DropFilter>(2));
            out.toUpstream.push_back(std::make_unique<DelayFilter>(100));
            out.toUpstream.push_back(std::make_unique<InjectFilter>("<"));
        });
        Engine engine(o);
        const int fd = connectThrough(engine, echo.port());
        QVERIFY(fd >= 0);
        QVERIFY(sendAll(fd, "--abc"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("<abc"));
        ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TstRelayFilter)
#include "tst_relayfilter.moc"
