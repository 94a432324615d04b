#pragma once
// SocketOwnerFinder answers "which program on this machine holds this socket": the kernel's
// socket table (NETLINK_SOCK_DIAG, inet_diag) gives the socket with an exact address/port pair
// its inode and owner uid, then /proc/*/fd gives the process holding "socket:[inode]". Only
// processes this user may read are seen (another user's socket is reported with its uid), and
// only sockets of this network namespace (a client in a container with its own namespace is
// not found). Blocking (a few system calls, and a /proc scan on a cache miss): run it off the
// GUI and worker threads (stats/clientresolver.h does). Not thread-safe; one per thread.

#include "stats/snapshot.h"

#include <QHash>
#include <QHostAddress>
#include <QSet>

namespace sg {

class SocketOwnerFinder
{
public:
    // The socket of a client at clientAddress:clientPort connected to (TCP) or sending to (UDP)
    // serverAddress:serverPort, looked up as the client's own socket.
    struct Key
    {
        Protocol protocol = Protocol::Tcp;
        QHostAddress clientAddress = nullAddress();
        quint16 clientPort = 0;
        QHostAddress serverAddress = nullAddress();
        quint16 serverPort = 0;
    };
    // One result per key, in order. A result's pid is 0 when not found, and `unknown` says why.
    // The kernel is asked for every socket first, then /proc is scanned at most once.
    QList<ClientProcess> find(const QList<Key>& keys);
    ClientProcess find(const Key& key) { return find(QList<Key>{key}).constFirst(); }

    // A socket waiting for clients: TCP in state LISTEN, or UDP bound to the port (a UDP
    // socket has no listening state: any socket on the port holds it).
    struct Listening
    {
        QHostAddress address; // where it listens: 127.0.0.1, ::1, 0.0.0.0, ::, an interface
        quint16 port = 0;
        ClientProcess process; // pid 0 with `unknown` saying why when not found
        bool operator==(const Listening&) const = default;
    };
    // Every socket of this machine (network namespace) listening on local `port`, with the
    // program holding it; empty when nothing listens there.
    QList<Listening> findListening(Protocol protocol, quint16 port);
    // The local ports on which some socket listens (TCP) or is bound (UDP): one socket-table
    // pass, no /proc scan.
    static QSet<quint16> listeningPorts(Protocol protocol);

    // How many /proc scans ran (a socket was not where the cache last saw it); for tests.
    int scans() const { return m_scans; }

    // The command line shown is cut to this many characters ("…" marks the cut).
    static constexpr int kMaxCmdline = 1024;
    // A scan of /proc stops after this many descriptors (a machine with more is not searched
    // further; the socket is then reported as not found). A scan stops as soon as every socket
    // it looks for is found.
    static constexpr int kMaxScannedFds = 200000;

    // Reads /proc/<pid>/comm and cmdline into a ClientProcess (pid 0 when it is gone).
    static ClientProcess describe(qint64 pid);

private:
    struct Socket
    {
        bool found = false;
        quint64 inode = 0;
        quint32 uid = 0;
    };
    // Where a socket was seen: a process and its descriptor.
    struct Holder
    {
        qint64 pid = 0;
        int fd = -1;
    };
    static constexpr int kRecentHolders = 8;
    static constexpr int kMaxRemembered = 262144;

    static Socket query(const Key& key);
    // Lists the sockets listening (TCP) or bound (UDP) on this machine, both families; calls
    // onSocket(address, port, socket) for each.
    template <typename OnSocket> static void listListening(Protocol protocol, OnSocket onSocket);
    // The programs holding the sockets, in order (at most one /proc scan for all of them).
    QList<ClientProcess> owners(const QList<Socket>& sockets);
    // Whether the holder's descriptor is still that socket (one readlink).
    static bool holds(const Holder& holder, quint64 inode);
    // Reads /proc until every wanted socket has its holder, the programs that held clients'
    // sockets lately first.
    void scan(QSet<quint64> wanted);
    // Remembers every socket of pid; true when one of them was wanted (taken out of wanted).
    bool scanProcess(qint64 pid, QSet<quint64>& wanted, int& budget);

    QHash<quint64, Holder> m_holderByInode; // from the scans, checked before use
    QList<qint64> m_recentHolders;          // newest first
    int m_scans = 0;
};

} // namespace sg
