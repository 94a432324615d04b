#pragma once
// MQTT's first packet (MQTT 3.1, 3.1.1 and 5.0): the CONNECT a client opens every session with,
// read as far as its client identifier, which is all the mqtt-proxy plugin needs. The reader
// takes bytes however they were cut, never more than the packet's bytes up to the end of the
// client identifier, and never more than kMaxPrefix in all: a CONNECT whose client identifier
// ends later (a v5 packet with very large properties) is refused, not buffered without end. It
// keeps only the protocol name and the client identifier.

#include "stats/snapshot.h"

#include <QByteArray>
#include <QString>
#include <cstddef>

namespace sg {

class MqttConnectReader
{
public:
    static constexpr std::size_t kMaxPrefix = 16384;

    enum class State { NeedMore, Done, Error };

    // Takes the bytes that follow the ones handed in before; returns how many of them belong to
    // the CONNECT up to the end of its client identifier. Takes nothing once Done or Error.
    std::size_t feed(const char* data, std::size_t len);

    State state() const { return m_state; }
    const MqttInfo& connect() const { return m_connect; } // once Done (detected)
    const QString& error() const { return m_error; }      // once Error
    std::size_t consumed() const { return m_consumed; }
    // At most this many further bytes can be taken (0 once read or refused).
    std::size_t wantAtMost() const;

private:
    // The fields in packet order; each Length step reads a two-byte length, each Bytes step
    // that many bytes.
    enum class Step {
        Type,
        RemainingLength,
        NameLength,
        Name,
        Level,
        Flags,
        KeepAlive,
        PropertiesLength,
        Properties,
        ClientIdLength,
        ClientId
    };
    void fail(const QString& why);
    void enter(Step step, std::size_t need);
    void finishStep();

    State m_state = State::NeedMore;
    Step m_step = Step::Type;
    std::size_t m_need = 1;      // bytes the current step still waits for
    std::size_t m_consumed = 0;  // bytes taken in all
    std::size_t m_packetEnd = 0; // consumed() at the packet's end, once its length is read
    quint32 m_value = 0;         // a length being read
    int m_varintBytes = 0;       // bytes of a variable-length integer so far
    QByteArray m_field;          // the name or client identifier being read
    MqttInfo m_connect;
    QString m_error;
};

} // namespace sg
