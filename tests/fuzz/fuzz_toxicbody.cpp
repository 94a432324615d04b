// libFuzzer target: the bodies the Toxiproxy API takes for toxics (model/toxic.h), as
// ToxiproxyApi runs them for POST /proxies/{p}/toxics and POST|PATCH /proxies/{p}/toxics/{t},
// and the same toxics as the config file holds them (streamgate.toxics). Input: one selector
// byte, then the body.
// Invariants: a refusal has problems, each with a path naming a field of the body and a
// reason; an accepted toxic has a name, a toxicity in 0..1 and no negative attribute, and its
// JSON decodes (as the config file does, strictly) to an equal toxic; the settings decoder
// accepts a list exactly when each entry decodes and the names are unique, and re-encodes it
// to settings that decode equal.

#include "fuzzcheck.h"
#include "model/codec.h"
#include "model/toxic.h"

#include <QJsonDocument>
#include <cstddef>
#include <cstdint>

using namespace sg;

namespace {

void checkAccepted(const ToxicSpec& t, const QByteArray& body)
{
    fuzz::require(!t.name.isEmpty(), "accepted toxic has a name", body);
    fuzz::require(t.toxicity >= 0 && t.toxicity <= 1, "toxicity within 0..1", body);
    for (qint64 a : t.attributes)
        fuzz::require(a >= 0, "no negative attribute", body);
    ToxicSpec again;
    const Problems back = decodeToxic(encodeToxic(t), QString(), ToxicInput::File, &again);
    fuzz::require(back.isEmpty(), "an accepted toxic re-decodes", body);
    fuzz::require(again == t, "an accepted toxic round-trips", body);
}

void checkRefused(const Problems& problems, const QByteArray& body)
{
    fuzz::require(!problems.isEmpty(), "a refusal has problems", body);
    fuzz::requireReasons(problems, "toxic problem");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const int op = data[0] % 3;
    const QByteArray body(reinterpret_cast<const char*>(data + 1), qsizetype(size - 1));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return 0;
    const QJsonValue value = doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object());

    if (op == 0) { // POST /proxies/{p}/toxics
        ToxicSpec t;
        const Problems problems = decodeToxic(value, QString(), ToxicInput::Api, &t);
        if (problems.isEmpty())
            checkAccepted(t, body);
        else
            checkRefused(problems, body);
    } else if (op == 1) { // POST|PATCH /proxies/{p}/toxics/{t} over a stored toxic
        ToxicSpec t;
        t.name = QStringLiteral("stored");
        t.type = ToxicType(quint8(size % 7));
        for (qsizetype i = 0; i < toxicAttributeNames(t.type).size(); ++i)
            t.attributes[std::size_t(i)] = 5 + i; // the type's own; the others stay 0
        const ToxicSpec before = t;
        const Problems problems = decodeToxicUpdate(value, QString(), &t);
        if (problems.isEmpty()) {
            fuzz::require(t.name == before.name && t.type == before.type &&
                              t.upstream == before.upstream,
                          "an update keeps name, type and stream", body);
            checkAccepted(t, body);
        } else {
            fuzz::require(t == before, "a refused update changes nothing", body);
            checkRefused(problems, body);
        }
    } else { // streamgate.toxics as the config file holds it
        const QJsonObject section{
            {QStringLiteral("toxics"), QJsonObject{{QStringLiteral("r"), value}}}};
        const Decoded<StreamgateSettings> d = decodeSettings(section);
        fuzz::requireReasons(d.problems, "settings problem");
        if (d.problems.isEmpty()) {
            fuzz::require(value.isArray(), "a toxic list is an array", body);
            const Decoded<StreamgateSettings> again = decodeSettings(encodeSettings(d.value));
            fuzz::require(again.problems.isEmpty() && again.value == d.value,
                          "accepted toxics round-trip", body);
        }
    }
    return 0;
}
