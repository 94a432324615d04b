#pragma once
// A recorded MySQL conversation: the chunks each side sent, in the order the relay saw them.
// Stored as records of one direction byte ('C' client -> server, 'S' server -> client), a
// 4-byte little-endian length and the bytes; tests/data/mysql/*.conv use this format.

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QString>

namespace sg::test {

// Hand-built packets: v as `width` little-endian bytes, a packet (3-byte length, sequence,
// payload) and a length-encoded integer.
inline QByteArray le(quint64 v, int width)
{
    QByteArray out;
    for (int i = 0; i < width; ++i)
        out.append(char((v >> (8 * i)) & 0xFF));
    return out;
}

inline QByteArray packet(quint8 seq, const QByteArray& payload)
{
    return le(quint64(payload.size()), 3) + char(seq) + payload;
}

inline QByteArray lenenc(quint64 v)
{
    if (v < 0xFB)
        return le(v, 1);
    if (v <= 0xFFFF)
        return char(0xFC) + le(v, 2);
    if (v <= 0xFFFFFF)
        return char(0xFD) + le(v, 3);
    return char(0xFE) + le(v, 8);
}

struct Chunk
{
    bool fromClient = false;
    QByteArray bytes;
};

inline QByteArray encodeConversation(const QList<Chunk>& chunks)
{
    QByteArray out;
    for (const Chunk& c : chunks) {
        out.append(c.fromClient ? 'C' : 'S');
        const quint32 n = quint32(c.bytes.size());
        for (int i = 0; i < 4; ++i)
            out.append(char((n >> (8 * i)) & 0xFF));
        out.append(c.bytes);
    }
    return out;
}

// Returns false (and fills error) on a malformed recording.
inline bool decodeConversation(const QByteArray& data, QList<Chunk>& chunks,
                               QString* error = nullptr)
{
    chunks.clear();
    qsizetype pos = 0;
    while (pos < data.size()) {
        if (data.size() - pos < 5 || (data[pos] != 'C' && data[pos] != 'S')) {
            if (error)
                *error = QStringLiteral("bad record header at offset %1").arg(pos);
            return false;
        }
        quint32 n = 0;
        for (int i = 0; i < 4; ++i)
            n |= quint32(quint8(data[pos + 1 + i])) << (8 * i);
        if (quint64(data.size() - pos - 5) < n) {
            if (error)
                *error = QStringLiteral("record at offset %1 claims %2 bytes past the end")
                             .arg(pos)
                             .arg(n);
            return false;
        }
        chunks.append({data[pos] == 'C', data.mid(pos + 5, n)});
        pos += 5 + qsizetype(n);
    }
    return true;
}

inline bool readConversation(const QString& path, QList<Chunk>& chunks, QString* error = nullptr)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = path + QStringLiteral(": ") + f.errorString();
        return false;
    }
    return decodeConversation(f.readAll(), chunks, error);
}

} // namespace sg::test
