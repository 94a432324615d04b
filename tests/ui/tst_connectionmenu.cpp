// The connections table's context menu against a real engine, with real sockets on loopback:
// "Reset now" gives the client a reset (ECONNRESET) and the row says "Reset by user"; "Pause 30 s"
// holds the client's bytes and the State column counts down, "Resume" lets them through; the
// client submenu resets every connection of that address and leaves the others alone. The menu
// is opened with a context-menu event and its entries chosen with the keyboard, as a user would.
// The menu bar's Connections menu carries the same actions, enabled for the selection. Allow
// offers the durations of the banner.
#include "config/configstore.h"
#include "loopback.h"
#include "mainwindow.h"
#include "models/connectiontablemodel.h"
#include "models/roles.h"
#include "proxy/engine.h"
#include "windowfixture.h"

#include <QAction>
#include <QApplication>
#include <QContextMenuEvent>
#include <QFile>
#include <QHash>
#include <QLabel>
#include <QMenu>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <functional>
#include <memory>

using namespace sg;
using namespace sgtest;
using namespace sg::ui;

namespace {

// 0 for EOF, the errno of a failed read, -1 when the socket did not end within timeoutMs.
// Polls with the event loop running, so the window keeps refreshing meanwhile.
int endOf(int fd, int timeoutMs = 5000)
{
    const qint64 deadline = nowMs() + timeoutMs;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0)
            return 0;
        if (n > 0)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return errno;
        if (nowMs() >= deadline)
            return -1;
        QTest::qWait(10);
    }
}

// What came back within timeoutMs, with the event loop running.
QByteArray readFor(int fd, qsizetype want, int timeoutMs)
{
    const qint64 deadline = nowMs() + timeoutMs;
    QByteArray got;
    char buf[4096];
    while (got.size() < want && nowMs() < deadline) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            got.append(buf, n);
        else
            QTest::qWait(10);
    }
    return got;
}

quint16 localPort(int fd)
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(reinterpret_cast<sockaddr_in&>(a).sin_port);
}

QString plain(QString text)
{
    return text.remove(QLatin1Char('&'));
}

} // namespace

class TestConnectionMenu : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<TestServer> m_echo;
    int m_port = 0;
    WindowFixture m_ui;
    QTableView* m_view = nullptr;

    QHash<int, quint16> m_ports; // client fd -> its port, kept once the socket is reset

    int rowOf(int fd) const
    {
        const QString suffix = QStringLiteral(":%1").arg(m_ports.value(fd));
        for (int r = 0; r < m_view->model()->rowCount(); ++r) {
            if (m_view->model()
                    ->index(r, ConnectionTableModel::ClientColumn)
                    .data()
                    .toString()
                    .endsWith(suffix))
                return r;
        }
        return -1;
    }
    QString cell(int fd, int column) const
    {
        const int row = rowOf(fd);
        return row < 0 ? QStringLiteral("(no row)")
                       : m_view->model()->index(row, column).data().toString();
    }
    // A client from `from` with one round trip through the proxy done, shown in the table.
    int open(const QString& from)
    {
        const int fd = connectTo("127.0.0.1", m_port, from);
        if (fd < 0)
            return -1;
        m_ports.insert(fd, localPort(fd));
        if (!sendAll(fd, "hi") || readFor(fd, 2, 5000) != "hi") {
            ::close(fd);
            return -1;
        }
        const qint64 deadline = nowMs() + 5000;
        while (rowOf(fd) < 0 && nowMs() < deadline)
            QTest::qWait(20);
        return rowOf(fd) < 0 ? -1 : fd;
    }
    // Right-clicks the row of fd (selecting it first, as a click does) and picks the entries of
    // `path` in the menu and its submenus with the keyboard. False when an entry was missing or
    // disabled.
    bool choose(int fd, const QStringList& path)
    {
        const int row = rowOf(fd);
        if (row < 0)
            return false;
        const QModelIndex index = m_view->model()->index(row, ConnectionTableModel::ClientColumn);
        m_view->scrollTo(index);
        m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                             QItemSelectionModel::Rows);
        bool ok = true;
        int step = 0;
        QMenu* last = nullptr;
        std::function<void()> next;
        next = [&] {
            auto* menu = qobject_cast<QMenu*>(QApplication::activePopupWidget());
            if (!menu || menu == last) {
                QTimer::singleShot(10, next);
                return;
            }
            QAction* found = nullptr;
            for (QAction* a : menu->actions())
                if (plain(a->text()) == path.at(step))
                    found = a;
            if (!found || !found->isEnabled()) {
                qWarning("no enabled menu entry \"%s\"", qPrintable(path.at(step)));
                ok = false;
                menu->close();
                return;
            }
            menu->setActiveAction(found);
            last = menu;
            if (++step < path.size()) {
                QTest::keyClick(menu, Qt::Key_Right); // opens the submenu
                QTimer::singleShot(10, next);
            } else {
                QTest::keyClick(menu, Qt::Key_Return);
            }
        };
        QTimer::singleShot(0, next);
        const QPoint at = m_view->visualRect(index).center();
        QContextMenuEvent event(QContextMenuEvent::Mouse, at, m_view->viewport()->mapToGlobal(at));
        QApplication::sendEvent(m_view->viewport(), &event); // returns when the menu has closed
        // Menus that are still open (a failed step) are closed.
        while (QWidget* popup = QApplication::activePopupWidget())
            popup->close();
        return ok;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", m_dir.filePath("xdg").toLocal8Bit());
        m_echo = std::make_unique<TestServer>(TestServer::Echo);
        QVERIFY(m_echo->ok());
        m_port = freePort();
        const QString path = m_dir.filePath("streamgate.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral(R"({"stream_proxy": {"tcp": ["127.0.0.1:%1"]},
          "stream_routes": [{"id": "echo", "name": "Echo", "upstream": {"nodes": {"127.0.0.1:%2": 1}}}]})")
                       .arg(m_port)
                       .arg(m_echo->port())
                       .toUtf8());
        file.close();
        QVERIFY(m_ui.open(path));
        m_view = m_ui.window->findChild<QTableView*>(QStringLiteral("connectionsView"));
        QVERIFY(m_view);
        QTRY_VERIFY_WITH_TIMEOUT(m_ui.window->findChild<QLabel*>(QStringLiteral("listenersLabel"))
                                     ->text()
                                     .contains("1 listener"),
                                 5000);
    }

    void cleanupTestCase()
    {
        m_ui.window.reset();
        m_ui.engine.reset();
        m_ui.store.reset();
        m_echo.reset();
    }

    void resetNowResetsTheClient()
    {
        const int fd = open({});
        QVERIFY(fd >= 0);
        QVERIFY(choose(fd, {"Reset now"}));
        QCOMPARE(endOf(fd), ECONNRESET);
        QTRY_COMPARE_WITH_TIMEOUT(cell(fd, ConnectionTableModel::CloseReasonColumn),
                                  QStringLiteral("Reset by user"), 5000);
        m_ports.remove(fd);
        ::close(fd);
    }

    void pauseShowsInTheTableAndResumeEndsIt()
    {
        const int fd = open({});
        QVERIFY(fd >= 0);
        QVERIFY(choose(fd, {"Pause 30 s"}));
        QTRY_VERIFY_WITH_TIMEOUT(cell(fd, ConnectionTableModel::StateColumn).startsWith("Paused "),
                                 3000);
        const QString state = cell(fd, ConnectionTableModel::StateColumn);
        const int seconds = state.section(' ', 1, 1).toInt();
        QVERIFY2(seconds >= 28 && seconds <= 30, qPrintable(state));
        // The client's bytes are held.
        QVERIFY(sendAll(fd, "held"));
        QCOMPARE(readFor(fd, 4, 400), QByteArray());
        QVERIFY(choose(fd, {"Resume"}));
        QCOMPARE(readFor(fd, 4, 3000), QByteArray("held"));
        QTRY_COMPARE_WITH_TIMEOUT(cell(fd, ConnectionTableModel::StateColumn),
                                  QStringLiteral("Established"), 3000);
        m_ports.remove(fd);
        ::close(fd);
    }

    // Opens the menu bar's Connections menu (its entries enabled for the selection as it opens),
    // reads which of `names` are enabled, and picks `pick` with the keyboard when given.
    QList<bool> menuBarEntries(const QStringList& names, const QString& pick = {})
    {
        auto* menu = m_ui.window->findChild<QMenu*>(QStringLiteral("connectionsMenu"));
        if (!menu)
            return {};
        menu->popup(m_ui.window->mapToGlobal(QPoint(40, 40)));
        if (!QTest::qWaitFor([menu] { return menu->isVisible(); }, 3000))
            return {};
        QList<bool> enabled;
        for (const QString& name : names) {
            QAction* found = nullptr;
            for (QAction* a : menu->actions())
                if (plain(a->text()) == name)
                    found = a;
            enabled << (found && found->isEnabled());
            if (found && name == pick && found->isEnabled()) {
                menu->setActiveAction(found);
                QTest::keyClick(menu, Qt::Key_Return);
            }
        }
        if (menu->isVisible())
            menu->close();
        return enabled;
    }

    void menuBarConnectionsMenuHasTheFaultActions()
    {
        const QStringList names{"Reset now", "Pause 30 s", "Resume"};
        m_view->clearSelection();
        QCOMPARE(menuBarEntries(names), (QList<bool>{false, false, false}));

        const int fd = open({});
        QVERIFY(fd >= 0);
        const QModelIndex index =
            m_view->model()->index(rowOf(fd), ConnectionTableModel::ClientColumn);
        m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                             QItemSelectionModel::Rows);
        QCOMPARE(menuBarEntries(names, "Pause 30 s"), (QList<bool>{true, true, false}));
        QTRY_VERIFY_WITH_TIMEOUT(cell(fd, ConnectionTableModel::StateColumn).startsWith("Paused "),
                                 3000);
        QVERIFY(sendAll(fd, "held"));
        QCOMPARE(readFor(fd, 4, 400), QByteArray());
        QCOMPARE(menuBarEntries(names, "Resume"), (QList<bool>{true, true, true}));
        QCOMPARE(readFor(fd, 4, 3000), QByteArray("held"));
        QTRY_COMPARE_WITH_TIMEOUT(cell(fd, ConnectionTableModel::StateColumn),
                                  QStringLiteral("Established"), 3000);
        QCOMPARE(menuBarEntries(names, "Reset now"), (QList<bool>{true, true, false}));
        QCOMPARE(endOf(fd), ECONNRESET);
        m_ports.remove(fd);
        ::close(fd);
    }

    void clientSubmenuActsOnThatClientOnly()
    {
        const int a = open("127.0.0.2");
        const int b = open("127.0.0.2");
        const int other = open("127.0.0.3");
        QVERIFY(a >= 0 && b >= 0 && other >= 0);
        QVERIFY(choose(b, {"All connections of 127.0.0.2", "Reset now"}));
        QCOMPARE(endOf(a), ECONNRESET);
        QCOMPARE(endOf(b), ECONNRESET);
        QVERIFY(sendAll(other, "still"));
        QCOMPARE(readFor(other, 5, 3000), QByteArray("still"));
        QCOMPARE(cell(other, ConnectionTableModel::CloseReasonColumn), QString());
        // Close now on the other client: EOF.
        QVERIFY(choose(other, {"All connections of 127.0.0.3", "Close now"}));
        QCOMPARE(endOf(other), 0);
        QTRY_COMPARE_WITH_TIMEOUT(cell(other, ConnectionTableModel::CloseReasonColumn),
                                  QStringLiteral("Closed by user"), 5000);
        for (int fd : {a, b, other}) {
            m_ports.remove(fd);
            ::close(fd);
        }
    }

    // Allow from the table offers the banner's durations: a client blocked while connected is
    // let back in for 1 hour, which streamgate.allow_expiry holds beside a plain whitelist entry.
    void allowOffersTheDurations()
    {
        const auto setWhitelist = [this](const std::optional<QStringList>& list) {
            return m_ui.store
                ->update([&](Config& config) {
                    StreamRoute& route = config.streamRoutes[0];
                    if (list) {
                        IpRestrictionConf conf;
                        conf.whitelist = *list;
                        route.plugins.ipRestriction = conf;
                    } else {
                        route.plugins.ipRestriction.reset();
                    }
                    return Problems{};
                })
                .isEmpty();
        };
        const auto whitelist = [this] {
            const StreamRoute* route = m_ui.store->config().findRoute("echo");
            return route->plugins.ipRestriction ? route->plugins.ipRestriction->whitelist
                                                : QStringList();
        };
        QVERIFY(setWhitelist(QStringList{"127.0.0.1", "127.0.0.4"}));
        const int fd = open("127.0.0.4");
        QVERIFY(fd >= 0);
        QVERIFY(choose(fd, {"Block 127.0.0.4 on Echo"}));
        QVERIFY(!whitelist().contains("127.0.0.4"));

        auto* menu = m_ui.window->findChild<QMenu*>(QStringLiteral("connectionAllowMenu"));
        QVERIFY(menu);
        QStringList entries;
        for (const QAction* a : menu->actions())
            entries << plain(a->text());
        QCOMPARE(entries, QStringList({"Allow once", "Allow for 1 hour",
                                       "Allow until Streamgate quits", "Always allow"}));
        QVERIFY(choose(fd, {"Allow 127.0.0.4 on Echo", "Allow for 1 hour"}));
        QVERIFY(whitelist().contains("127.0.0.4"));
        const AllowExpirySettings expiry =
            m_ui.store->config().streamgate.allowExpiryMap().value("echo").value("127.0.0.4");
        QVERIFY(expiry.until.has_value());
        QVERIFY(!expiry.once.has_value() && !expiry.untilQuit.has_value());
        // The next connection from 127.0.0.4 passes.
        const int next = open("127.0.0.4");
        QVERIFY(next >= 0);
        for (int c : {fd, next}) {
            m_ports.remove(c);
            ::close(c);
        }
        QVERIFY(setWhitelist(std::nullopt)); // the expiry goes with the entry
        QTRY_VERIFY_WITH_TIMEOUT(m_ui.store->config().streamgate.allowExpiryMap().isEmpty(), 2000);
    }
};

QTEST_MAIN(TestConnectionMenu)
#include "tst_connectionmenu.moc"
