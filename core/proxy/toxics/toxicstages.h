#pragma once
// One stage per toxic in a direction's toxic chain (toxicfilter.h). A stage gets the bytes the
// stage before it let through and hands what it lets through to a StageLink: the next stage, or
// the relay at the end of the chain. It may hold bytes (they count as the filter's held()
// bytes, so they slow the source by TCP flow control) and asks for a wake-up with wakeAt().

#include "model/toxic.h"

#include <QtGlobal>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

namespace sg {

// What a stage writes to; valid during the call it is given to.
class StageLink
{
public:
    virtual ~StageLink() = default;
    virtual void write(const char* data, std::size_t len) = 0;
    virtual void finish() = 0; // the direction ends (a FIN once the bytes before it are out)
    virtual void reset() = 0;  // the session ends with a reset to both peers
    virtual qint64 nowMs() const = 0;
};

class ToxicStage
{
public:
    explicit ToxicStage(const ToxicSpec& spec) : m_spec(spec) {}
    virtual ~ToxicStage() = default;
    Q_DISABLE_COPY_MOVE(ToxicStage)

    const ToxicSpec& spec() const { return m_spec; }
    // The toxic's attributes changed (same name and type): state such as limit_data's count
    // carries over, as in Toxiproxy.
    void setSpec(const ToxicSpec& spec) { m_spec = spec; }

    virtual void data(StageLink& link, const char* bytes, std::size_t len) = 0;
    virtual void end(StageLink& link) { link.finish(); }
    virtual void timer(StageLink& link) { Q_UNUSED(link); }
    // The toxic was removed: what it holds goes on (nothing is dropped but what it drops).
    virtual void drain(StageLink& link) { Q_UNUSED(link); }
    virtual qint64 wakeAt() const { return 0; } // 0: none wanted
    virtual std::size_t held() const { return 0; }

private:
    ToxicSpec m_spec;
};

// A stage for `spec`, starting now (timeout counts from here).
std::unique_ptr<ToxicStage> makeToxicStage(const ToxicSpec& spec, qint64 nowMs);

} // namespace sg
