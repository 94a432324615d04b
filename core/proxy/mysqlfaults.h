#pragma once
// The query toxics of a route (model/toxic.h: mysql_latency, mysql_error, mysql_close) as one
// MySQL session applies them. The session's MySQL filter (mysqlfilter.h) holds each command the
// client sends until it has its first bytes (its statement, at most the tracker's
// kMaxStatement), asks decide() what the toxics do to it, and then:
// - lets it on, at once or after the delay of the mysql_latency toxics that hit it;
// - mysql_error: keeps the command from the server, sends a COM_PING in its place (a
//   COM_QUERY "ROLLBACK" for 1213, since a deadlock rolls the transaction back), and gives the
//   client, in place of the server's OK to it, an ERR with the toxic's code, SQLSTATE and
//   message: the sequence ids stay the server's, and pipelined commands keep their order;
// - mysql_close: resets the connection, as a server that dies under the command.
// Like the byte toxics (toxicboard.h), the list is re-read whenever its version moves and each
// toxic counts the sessions it hit; unlike them, the toxicity is drawn for every matching
// command. Only the worker thread of the session uses it.

#include "proxy/toxics/toxicboard.h"

#include <QByteArray>
#include <QRegularExpression>
#include <QString>
#include <memory>
#include <vector>

namespace sg {

// What a command is, as the toxics' text attributes match it.
struct MySqlCommandFacts
{
    QString command;    // COM_QUERY, ...
    QString digestText; // the statement's digest text; the command's name when it has none
    QString user;
    QString database;
};

struct MySqlFaultAction
{
    enum class End : quint8 { None, Error, Close };
    qint64 delayMs = 0;  // the sum of the mysql_latency toxics that hit
    End end = End::None; // the first mysql_error or mysql_close that hits, in the list's order
    quint16 code = 0;
    std::string sqlState; // 5 characters
    std::string message;
};

class MySqlQueryFaults
{
public:
    MySqlQueryFaults(std::shared_ptr<RouteToxics> route, quint64 session,
                     const QHostAddress& client);
    ~MySqlQueryFaults();
    Q_DISABLE_COPY_MOVE(MySqlQueryFaults)

    // Whether a query toxic may hit this session's commands now (enabled, its clients include
    // this one); takes in the route's list when its version moved.
    bool active();
    MySqlFaultAction decide(const MySqlCommandFacts& command);

private:
    struct Entry
    {
        ToxicSpec spec;
        std::shared_ptr<ToxicState> state;
        QRegularExpression match; // empty pattern: any digest text
        QString command;          // its text attributes, read once per list version
        QString user;
        QString database;
        bool reaches = false; // enabled, and the client among its clients
        std::unique_ptr<ToxicHit> mark;
    };
    bool matches(const Entry& e, const MySqlCommandFacts& command) const;

    const std::shared_ptr<RouteToxics> m_route;
    const quint64 m_session;
    const QHostAddress m_client;
    quint64 m_seen = quint64(-1); // never a published version: the first call reads the list
    std::vector<Entry> m_entries;
    bool m_active = false;
};

// The server's own SQLSTATE and message for the error codes a retry test asks for most (1213,
// 1205, 1062, 1040, 1317, 1290); HY000 and a message naming the toxic for the others.
void mySqlErrorDefaults(quint16 code, const QString& toxic, std::string* sqlState,
                        std::string* message);

} // namespace sg
