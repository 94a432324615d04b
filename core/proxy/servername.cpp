#include "proxy/servername.h"

namespace sg {

QString serverNameOf(const unsigned char* ext, std::size_t len)
{
    if (len < 2)
        return {};
    const std::size_t listLength = std::size_t(ext[0]) << 8 | ext[1];
    if (listLength + 2 != len)
        return {};
    std::size_t at = 2;
    while (at + 3 <= len) {
        const unsigned type = ext[at];
        const std::size_t nameLength = std::size_t(ext[at + 1]) << 8 | ext[at + 2];
        at += 3;
        if (nameLength > len - at)
            return {};
        if (type == 0) {
            if (nameLength == 0 || nameLength > 255)
                return {};
            for (std::size_t i = 0; i < nameLength; ++i) {
                if (ext[at + i] <= 0x20 || ext[at + i] >= 0x7f)
                    return {};
            }
            QString name =
                QString::fromLatin1(reinterpret_cast<const char*>(ext + at), qsizetype(nameLength));
            if (name.endsWith(u'.'))
                name.chop(1);
            return name.toLower();
        }
        at += nameLength;
    }
    return {};
}

bool routeSniMatches(const QString& pattern, const QString& sni)
{
    if (pattern.startsWith(u'*'))
        return sni.endsWith(QStringView(pattern).mid(1));
    return pattern == sni;
}

} // namespace sg
