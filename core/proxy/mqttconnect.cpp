#include "proxy/mqttconnect.h"

#include <algorithm>

namespace sg {

namespace {

const char* fieldName(int step)
{
    // Indexed by MqttConnectReader::Step.
    static const char* const names[] = {"packet type",       "remaining length", "protocol name",
                                        "protocol name",     "protocol level",   "connect flags",
                                        "keep alive",        "properties",       "properties",
                                        "client identifier", "client identifier"};
    return names[step];
}

} // namespace

std::size_t MqttConnectReader::wantAtMost() const
{
    if (m_state != State::NeedMore)
        return 0;
    std::size_t most = kMaxPrefix - m_consumed;
    if (m_packetEnd > 0)
        most = std::min(most, m_packetEnd - m_consumed);
    return most;
}

void MqttConnectReader::fail(const QString& why)
{
    m_state = State::Error;
    m_error = why;
    m_field.clear();
}

// Starts reading `step`, which needs `need` more bytes (1 for each byte of a variable-length
// integer): refused at once when the packet, or the bound, ends before them.
void MqttConnectReader::enter(Step step, std::size_t need)
{
    m_step = step;
    m_need = need;
    m_value = 0;
    m_varintBytes = 0;
    m_field.clear();
    if (m_packetEnd > 0 && m_consumed + need > m_packetEnd) {
        fail(QStringLiteral("the MQTT CONNECT packet ends inside its %1")
                 .arg(QLatin1String(fieldName(int(step)))));
        return;
    }
    if (m_consumed + need > kMaxPrefix) {
        fail(QStringLiteral("the MQTT CONNECT packet's client identifier does not end within "
                            "its first %1 bytes")
                 .arg(kMaxPrefix));
        return;
    }
    if (need == 0)
        finishStep();
}

// The current step has all its bytes: keep what it read and go to the next field.
void MqttConnectReader::finishStep()
{
    switch (m_step) {
    case Step::Type:
        enter(Step::RemainingLength, 1);
        break;
    case Step::RemainingLength:
        m_packetEnd = m_consumed + m_value;
        enter(Step::NameLength, 2);
        break;
    case Step::NameLength:
        enter(Step::Name, m_value);
        break;
    case Step::Name:
        m_connect.protocolName = QString::fromUtf8(m_field);
        enter(Step::Level, 1);
        break;
    case Step::Level:
        m_connect.protocolLevel = int(m_value);
        enter(Step::Flags, 1);
        break;
    case Step::Flags:
        enter(Step::KeepAlive, 2);
        break;
    case Step::KeepAlive:
        if (m_connect.protocolLevel == 5)
            enter(Step::PropertiesLength, 1);
        else
            enter(Step::ClientIdLength, 2);
        break;
    case Step::PropertiesLength:
        enter(Step::Properties, m_value);
        break;
    case Step::Properties:
        enter(Step::ClientIdLength, 2);
        break;
    case Step::ClientIdLength:
        enter(Step::ClientId, m_value);
        break;
    case Step::ClientId:
        m_connect.clientId = QString::fromUtf8(m_field);
        m_field.clear();
        m_connect.detected = true;
        m_state = State::Done;
        break;
    }
}

std::size_t MqttConnectReader::feed(const char* data, std::size_t len)
{
    std::size_t taken = 0;
    while (m_state == State::NeedMore && taken < len) {
        switch (m_step) {
        case Step::Name:
        case Step::Properties:
        case Step::ClientId: {
            const std::size_t n = std::min(m_need, len - taken);
            if (m_step != Step::Properties) // properties are skipped
                m_field.append(data + taken, qsizetype(n));
            taken += n;
            m_consumed += n;
            m_need -= n;
            if (m_need == 0)
                finishStep();
            break;
        }
        case Step::RemainingLength:
        case Step::PropertiesLength: {
            // A variable-length integer: 7 bits a byte, least significant first, at most 4.
            const auto b = quint8(data[taken++]);
            ++m_consumed;
            m_value |= quint32(b & 0x7F) << (7 * m_varintBytes);
            if (++m_varintBytes == 4 && (b & 0x80)) {
                fail(QStringLiteral("the MQTT CONNECT packet's %1 is malformed")
                         .arg(QLatin1String(fieldName(int(m_step)))));
            } else if (b & 0x80) {
                const quint32 value = m_value;
                const int bytes = m_varintBytes;
                enter(m_step, 1); // the next byte of the same integer
                m_value = value;
                m_varintBytes = bytes;
            } else {
                finishStep();
            }
            break;
        }
        case Step::Type: {
            const auto b = quint8(data[taken]);
            if (b != 0x10) {
                fail(QStringLiteral("the first packet is not an MQTT CONNECT: it starts with "
                                    "byte 0x%1")
                         .arg(b, 2, 16, QLatin1Char('0')));
                break;
            }
            ++taken;
            ++m_consumed;
            finishStep();
            break;
        }
        default: {
            // A fixed-size number: a two-byte length, the level, the flags, the keep alive.
            m_value = (m_value << 8) | quint8(data[taken++]);
            ++m_consumed;
            if (--m_need == 0)
                finishStep();
            break;
        }
        }
    }
    return taken;
}

} // namespace sg
