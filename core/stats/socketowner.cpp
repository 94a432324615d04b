#include "stats/socketowner.h"

#include <QFile>
#include <QSet>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace sg {

namespace {

// A netlink socket for sock_diag, closed on scope exit; a reply slower than a second is given
// up on (the kernel answers at once; this only bounds a misbehaving system).
class DiagSocket
{
public:
    DiagSocket() : m_fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG))
    {
        if (m_fd >= 0) {
            timeval tv{1, 0};
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }
    }
    ~DiagSocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    DiagSocket(const DiagSocket&) = delete;
    DiagSocket& operator=(const DiagSocket&) = delete;
    int fd() const { return m_fd; }

private:
    int m_fd;
};

// The address as the kernel's socket table holds it: IPv4-mapped IPv6 as IPv4.
QHostAddress plain(const QHostAddress& address)
{
    bool ok = false;
    const quint32 v4 = address.toIPv4Address(&ok);
    return ok ? QHostAddress(v4) : address;
}

int familyOf(const QHostAddress& address)
{
    return address.protocol() == QAbstractSocket::IPv4Protocol ? AF_INET : AF_INET6;
}

void putAddress(__be32 out[4], const QHostAddress& address)
{
    std::memset(out, 0, 16);
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        out[0] = htonl(address.toIPv4Address());
    } else {
        const Q_IPV6ADDR v6 = address.toIPv6Address();
        std::memcpy(out, v6.c, 16);
    }
}

QHostAddress getAddress(int family, const __be32 in[4])
{
    if (family == AF_INET)
        return QHostAddress(ntohl(in[0]));
    Q_IPV6ADDR v6;
    std::memcpy(v6.c, in, 16);
    return plain(QHostAddress(v6));
}

// A listening socket's address as the kernel holds it: "::" stays "::" (a dual-stack wildcard,
// not 0.0.0.0); an IPv4-mapped one is shown as IPv4.
QHostAddress listenAddress(int family, const __be32 in[4])
{
    if (family == AF_INET)
        return QHostAddress(ntohl(in[0]));
    Q_IPV6ADDR v6;
    std::memcpy(v6.c, in, 16);
    static constexpr quint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.c, mapped, sizeof mapped) == 0)
        return QHostAddress(ntohl(in[3]));
    return QHostAddress(v6);
}

// Sends one request and calls onMessage for each inet_diag_msg of the answer; false when the
// kernel could not be asked.
template <typename OnMessage>
bool ask(const inet_diag_req_v2& request, bool dump, OnMessage onMessage)
{
    DiagSocket s;
    if (s.fd() < 0)
        return false;
    struct
    {
        nlmsghdr header;
        inet_diag_req_v2 body;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = quint16(NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0));
    message.header.nlmsg_seq = 1;
    message.body = request;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(s.fd(), &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) < 0)
        return false;
    alignas(nlmsghdr) char buffer[32768];
    for (;;) {
        const ssize_t n = ::recv(s.fd(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false; // no answer within the timeout
        int left = int(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                return true; // an exact query that finds nothing answers ENOENT
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg)))
                onMessage(*static_cast<const inet_diag_msg*>(NLMSG_DATA(h)));
        }
        if (!dump)
            return true;
    }
}

QString userName(quint32 uid)
{
    passwd entry{};
    passwd* found = nullptr;
    char text[1024];
    if (::getpwuid_r(uid, &entry, text, sizeof text, &found) == 0 && found)
        return QString::fromLocal8Bit(found->pw_name);
    return {};
}

bool isNumber(const char* s)
{
    if (!*s)
        return false;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

// "socket:[12345]" -> 12345; 0 for anything else.
quint64 socketInode(const char* link, ssize_t length)
{
    static constexpr char prefix[] = "socket:[";
    constexpr ssize_t prefixLength = sizeof prefix - 1;
    if (length <= prefixLength + 1 || std::memcmp(link, prefix, prefixLength) != 0 ||
        link[length - 1] != ']')
        return 0;
    quint64 inode = 0;
    for (ssize_t i = prefixLength; i < length - 1; ++i) {
        if (link[i] < '0' || link[i] > '9')
            return 0;
        inode = inode * 10 + quint64(link[i] - '0');
    }
    return inode;
}

} // namespace

SocketOwnerFinder::Socket SocketOwnerFinder::query(const Key& key)
{
    const QHostAddress client = plain(key.clientAddress);
    const QHostAddress server = plain(key.serverAddress);
    Socket out;
    if (key.protocol == Protocol::Tcp) {
        // The exact lookup: src is the socket's own end (the client's), dst its peer.
        inet_diag_req_v2 request{};
        request.sdiag_family = quint8(familyOf(client));
        request.sdiag_protocol = IPPROTO_TCP;
        request.idiag_states = ~0U;
        request.id.idiag_sport = htons(key.clientPort);
        request.id.idiag_dport = htons(key.serverPort);
        putAddress(request.id.idiag_src, client);
        putAddress(request.id.idiag_dst, server);
        request.id.idiag_cookie[0] = request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
        ask(request, false, [&](const inet_diag_msg& m) {
            out = {true, m.idiag_inode, m.idiag_uid};
        });
        return out;
    }
    // UDP: a client socket is often unconnected and bound to the wildcard address, which an
    // exact lookup would not match; the table is listed and matched on the local port and
    // address. A dual-stack IPv6 socket may be the client of an IPv4 server, so both families
    // are listed for an IPv4 client.
    // A listener on the wildcard address may not know which of its addresses was the target.
    const bool serverAny = server.isEqual(QHostAddress::AnyIPv4) ||
                           server.isEqual(QHostAddress::AnyIPv6) || server.isNull();
    const QList<int> families =
        familyOf(client) == AF_INET ? QList<int>{AF_INET, AF_INET6} : QList<int>{AF_INET6};
    for (int family : families) {
        inet_diag_req_v2 request{};
        request.sdiag_family = quint8(family);
        request.sdiag_protocol = IPPROTO_UDP;
        request.idiag_states = ~0U;
        int score = -1; // 2: connected to the server, 1: bound to the client address, 0: wildcard
        ask(request, true, [&](const inet_diag_msg& m) {
            if (ntohs(m.id.idiag_sport) != key.clientPort)
                return;
            const QHostAddress local = getAddress(m.idiag_family, m.id.idiag_src);
            if (local != client && !local.isEqual(QHostAddress::AnyIPv4) &&
                !local.isEqual(QHostAddress::AnyIPv6))
                return;
            const QHostAddress peer = getAddress(m.idiag_family, m.id.idiag_dst);
            const quint16 peerPort = ntohs(m.id.idiag_dport);
            if (peerPort != 0 && (peerPort != key.serverPort || (!serverAny && peer != server)))
                return; // connected to someone else
            const int s = peerPort != 0 ? 2 : (local == client ? 1 : 0);
            if (s > score) {
                score = s;
                out = {true, m.idiag_inode, m.idiag_uid};
            }
        });
        if (out.found)
            return out;
    }
    return out;
}

bool SocketOwnerFinder::holds(const Holder& holder, quint64 inode)
{
    char path[64];
    char link[64];
    std::snprintf(path, sizeof path, "/proc/%lld/fd/%d", static_cast<long long>(holder.pid),
                  holder.fd);
    const ssize_t n = ::readlink(path, link, sizeof link);
    return n > 0 && socketInode(link, n) == inode;
}

bool SocketOwnerFinder::scanProcess(qint64 pid, QSet<quint64>& wanted, int& budget)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%lld/fd", static_cast<long long>(pid));
    DIR* fds = ::opendir(path); // fails for processes this user may not read
    if (!fds)
        return false;
    bool held = false;
    char link[64];
    while (const dirent* e = ::readdir(fds)) {
        if (--budget < 0)
            break;
        const ssize_t n = ::readlinkat(::dirfd(fds), e->d_name, link, sizeof link);
        if (const quint64 inode = n > 0 ? socketInode(link, n) : 0) {
            // Every socket of the process is remembered: its next connections are found here.
            m_holderByInode.insert(inode, Holder{pid, std::atoi(e->d_name)});
            held |= wanted.remove(inode);
        }
    }
    ::closedir(fds);
    return held;
}

void SocketOwnerFinder::scan(QSet<quint64> wanted)
{
    ++m_scans;
    if (m_holderByInode.size() > kMaxRemembered)
        m_holderByInode.clear();
    int budget = kMaxScannedFds;
    // The programs that held clients' sockets lately first: a client that connects again
    // (a pool, a load test) is found without reading every process's descriptors.
    QList<qint64> scanned;
    for (const qint64 pid : std::as_const(m_recentHolders)) {
        scanProcess(pid, wanted, budget);
        scanned.append(pid);
        if (wanted.isEmpty())
            return;
    }
    DIR* proc = ::opendir("/proc");
    if (!proc)
        return;
    while (const dirent* p = ::readdir(proc)) {
        if (wanted.isEmpty() || budget <= 0)
            break;
        if (!isNumber(p->d_name))
            continue;
        const qint64 pid = std::atoll(p->d_name);
        if (scanned.contains(pid) || !scanProcess(pid, wanted, budget))
            continue;
        m_recentHolders.removeAll(pid);
        m_recentHolders.prepend(pid);
        if (m_recentHolders.size() > kRecentHolders)
            m_recentHolders.removeLast();
    }
    ::closedir(proc);
}

ClientProcess SocketOwnerFinder::describe(qint64 pid)
{
    ClientProcess p;
    const QString dir = QStringLiteral("/proc/%1/").arg(pid);
    QFile comm(dir + QLatin1String("comm"));
    if (!comm.open(QIODevice::ReadOnly))
        return p;
    p.pid = pid;
    p.name = QString::fromLocal8Bit(comm.read(256).trimmed());
    QFile cmdline(dir + QLatin1String("cmdline"));
    if (cmdline.open(QIODevice::ReadOnly)) {
        QByteArray raw = cmdline.read(kMaxCmdline + 1);
        const bool cut = raw.size() > kMaxCmdline;
        raw.truncate(kMaxCmdline);
        while (raw.endsWith('\0'))
            raw.chop(1);
        raw.replace('\0', ' ');
        p.cmdline = QString::fromLocal8Bit(raw);
        if (cut)
            p.cmdline += QChar(0x2026);
    }
    return p;
}

QList<ClientProcess> SocketOwnerFinder::find(const QList<Key>& keys)
{
    QList<Socket> sockets;
    sockets.reserve(keys.size());
    for (const Key& key : keys)
        sockets.append(query(key));
    return owners(sockets);
}

QList<ClientProcess> SocketOwnerFinder::owners(const QList<Socket>& sockets)
{
    const quint32 me = ::getuid();
    // One scan for the whole batch, only for the sockets of processes this user may read that
    // are not where the cache last saw them.
    const bool mayReadAll = me == 0;
    QSet<quint64> wanted;
    for (const Socket& s : std::as_const(sockets)) {
        if (s.found && s.inode != 0 && (s.uid == me || mayReadAll)) {
            const auto it = m_holderByInode.find(s.inode);
            if (it != m_holderByInode.end() && holds(*it, s.inode))
                continue;
            if (it != m_holderByInode.end())
                m_holderByInode.erase(it); // the descriptor is another file now
            wanted.insert(s.inode);
        }
    }
    if (!wanted.isEmpty())
        scan(std::move(wanted));
    QList<ClientProcess> out;
    out.reserve(sockets.size());
    // A program with many connections is read once per batch, and its texts are shared by them.
    QHash<qint64, ClientProcess> described;
    for (const Socket& s : std::as_const(sockets)) {
        ClientProcess p;
        if (!s.found) {
            p.unknown = QStringLiteral(
                "no such socket on this machine (another network namespace or container?)");
        } else if (s.inode == 0) {
            p.unknown = QStringLiteral("the client's socket is already closed");
        } else if (s.uid != me && me != 0) {
            const QString name = userName(s.uid);
            p.unknown =
                name.isEmpty()
                    ? QStringLiteral("another user's process (uid %1)").arg(s.uid)
                    : QStringLiteral("another user's process (%1, uid %2)").arg(name).arg(s.uid);
        } else {
            const auto it = m_holderByInode.constFind(s.inode);
            if (it != m_holderByInode.constEnd()) {
                auto known = described.constFind(it->pid);
                if (known == described.constEnd())
                    known = described.insert(it->pid, describe(it->pid));
                p = *known;
            }
            if (p.pid == 0)
                p.unknown =
                    QStringLiteral("no process of this user holds the socket (uid %1)").arg(s.uid);
        }
        out.append(p);
    }
    return out;
}

template <typename OnSocket>
void SocketOwnerFinder::listListening(Protocol protocol, OnSocket onSocket)
{
    for (const int family : {AF_INET, AF_INET6}) {
        inet_diag_req_v2 request{};
        request.sdiag_family = quint8(family);
        if (protocol == Protocol::Tcp) {
            request.sdiag_protocol = IPPROTO_TCP;
            request.idiag_states = 1U << TCP_LISTEN;
        } else {
            request.sdiag_protocol = IPPROTO_UDP;
            request.idiag_states = ~0U;
        }
        ask(request, true, [&](const inet_diag_msg& m) {
            onSocket(listenAddress(m.idiag_family, m.id.idiag_src), ntohs(m.id.idiag_sport),
                     Socket{true, m.idiag_inode, m.idiag_uid});
        });
    }
}

QList<SocketOwnerFinder::Listening> SocketOwnerFinder::findListening(Protocol protocol,
                                                                     quint16 port)
{
    QList<Listening> out;
    QList<Socket> sockets;
    listListening(protocol, [&](const QHostAddress& address, quint16 p, const Socket& socket) {
        if (p != port)
            return;
        out.append(Listening{address, p, {}});
        sockets.append(socket);
    });
    const QList<ClientProcess> processes = owners(sockets);
    for (int i = 0; i < out.size(); ++i)
        out[i].process = processes.at(i);
    return out;
}

QSet<quint16> SocketOwnerFinder::listeningPorts(Protocol protocol)
{
    QSet<quint16> out;
    listListening(protocol,
                  [&](const QHostAddress&, quint16 port, const Socket&) { out.insert(port); });
    return out;
}

} // namespace sg
