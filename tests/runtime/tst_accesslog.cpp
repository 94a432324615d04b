// The headless access log: APISIX stream access-log lines for sessions and refusals, event
// lines, and a live engine feeding it.

#include "loopback.h"
#include "proxy/engine.h"
#include "proxyfixture.h"
#include "runtime/accesslogwriter.h"
#include "stats/accesslog.h"

#include <QBuffer>
#include <QRegularExpression>
#include <QtTest>

using namespace sg;
using namespace sgtest;

class TstAccessLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void status_data()
    {
        QTest::addColumn<int>("reason");
        QTest::addColumn<int>("status");
        QTest::newRow("client closed") << int(CloseReason::ClientClosed) << 200;
        QTest::newRow("idle timeout") << int(CloseReason::IdleTimeout) << 200;
        QTest::newRow("ip-restriction") << int(CloseReason::DeniedIpRestriction) << 403;
        QTest::newRow("no route") << int(CloseReason::NoRoute) << 403;
        QTest::newRow("connect failed") << int(CloseReason::ConnectFailed) << 502;
        QTest::newRow("limited") << int(CloseReason::Limited) << 503;
        QTest::newRow("descriptor limit") << int(CloseReason::NoDescriptors) << 503;
    }
    void status()
    {
        QFETCH(int, reason);
        QFETCH(int, status);
        QCOMPARE(accessLogStatus(CloseReason(reason)), status);
    }

    void sessionLineShape()
    {
        ConnectionInfo c;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        c.routeId = "db";
        c.startMs = 1'700'000'000'000;
        c.endMs = c.startMs + 1250;
        c.bytesUp = 3;
        c.bytesDown = 5;
        c.closeReason = CloseReason::ClientClosed;
        const QString line = formatAccessLogSession(c);
        static const QRegularExpression shape(QStringLiteral(
            R"(^127\.0\.0\.2 \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] TCP 200 5 3 1\.250 route="db" reason="client closed"$)"));
        QVERIFY2(shape.match(line).hasMatch(), qPrintable(line));
    }

    // Lines within one second share their time text; each line still shows its own second.
    void timeFollowsEachLine()
    {
        ConnectionInfo c;
        c.clientAddress = QHostAddress(QStringLiteral("127.0.0.2"));
        const qint64 t = 1'700'000'000'000;
        for (const qint64 ms : {t, t + 999, t + 1000, t + 59'999, t + 3'600'000, t - 1, t}) {
            c.startMs = ms;
            c.endMs = ms;
            const QString line = formatAccessLogSession(c);
            const QString want = QLocale::c().toString(QDateTime::fromMSecsSinceEpoch(ms),
                                                       QStringLiteral("dd/MMM/yyyy:HH:mm:ss"));
            QVERIFY2(line.startsWith(QStringLiteral("127.0.0.2 [") + want + ' '),
                     qPrintable(QString::number(ms) + ": " + line));
        }
    }

    void liveEngineLines()
    {
        TestServer echo(TestServer::Echo);
        EngineOptions o;
        o.workers = 1;
        Engine engine(o);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        AccessLogWriter log(&engine, &out);
        const int port = freePort();
        Config c;
        c.streamProxy.tcp << listenEntry("127.0.0.1", port);
        StreamRoute r = route("echo", upstream({node("127.0.0.1", echo.port())}));
        r.remoteAddr = "127.0.0.1";
        c.streamRoutes << r;
        engine.apply(c);

        const int fd = connectTo("127.0.0.1", port, "127.0.0.1");
        QVERIFY(sendAll(fd, "abcd"));
        QCOMPARE(recvExactly(fd, 4), QByteArray("abcd"));
        ::shutdown(fd, SHUT_WR);
        QCOMPARE(waitForEnd(fd, 3000), ReadEnd::Eof);
        ::close(fd);
        QTRY_COMPARE_WITH_TIMEOUT(engine.snapshot().closed.size(), 1, 5000);
        QCOMPARE(greetingVia("127.0.0.1", port, "127.0.0.7"), QByteArray()); // no route

        QTRY_VERIFY_WITH_TIMEOUT(out.data().count('\n') >= 3, 5000);
        const QStringList lines = QString::fromUtf8(out.data()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY2(lines[0].contains(QLatin1String("listener up")), qPrintable(lines[0]));
        QVERIFY2(lines[1].startsWith(QLatin1String("127.0.0.1 [")), qPrintable(lines[1]));
        QVERIFY2(lines[1].contains(QLatin1String("] TCP 200 4 4 ")), qPrintable(lines[1]));
        QVERIFY2(lines[1].endsWith(QLatin1String("route=\"echo\" reason=\"client closed\"")),
                 qPrintable(lines[1]));
        QVERIFY2(lines[2].startsWith(QLatin1String("127.0.0.7 [")), qPrintable(lines[2]));
        QVERIFY2(
            lines[2].contains(QLatin1String("] TCP 403 0 0 0.000 route=\"\" reason=\"no route\"")),
            qPrintable(lines[2]));
        QCOMPARE(log.poll(), 0); // nothing printed twice
    }
};

QTEST_GUILESS_MAIN(TstAccessLog)
#include "tst_accesslog.moc"
