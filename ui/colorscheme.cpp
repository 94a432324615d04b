#include "colorscheme.h"

#include "delegates.h"

#include <QActionGroup>
#include <QApplication>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusVariant>
#include <QMenu>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>

namespace sg::ui {

namespace {

const QString kPortalService = QStringLiteral("org.freedesktop.portal.Desktop");
const QString kPortalPath = QStringLiteral("/org/freedesktop/portal/desktop");
const QString kSettingsInterface = QStringLiteral("org.freedesktop.portal.Settings");
const QString kAppearance = QStringLiteral("org.freedesktop.appearance");
const QString kColorScheme = QStringLiteral("color-scheme");
const QString kSettingsKey = QStringLiteral("ui/colorScheme");

// The portal's Read wraps the value in one more variant than its newer ReadOne does.
QVariant unwrapped(QVariant value)
{
    for (int depth = 0; depth < 3 && value.metaType() == QMetaType::fromType<QDBusVariant>();
         ++depth)
        value = qvariant_cast<QDBusVariant>(value).variant();
    return value;
}

ColorScheme::Preference preferenceOf(const QVariant& value)
{
    bool ok = false;
    const uint v = unwrapped(value).toUInt(&ok);
    if (ok && v == 1)
        return ColorScheme::Preference::Dark;
    if (ok && v == 2)
        return ColorScheme::Preference::Light;
    return ColorScheme::Preference::None;
}

} // namespace

ColorScheme::ColorScheme(QObject* parent, const QDBusConnection& bus)
    : QObject(parent), m_bus(bus), m_platformStyle(QApplication::style()->name()),
      m_platformPalette(QApplication::palette()), m_platformDark(sg::ui::isDark(m_platformPalette))
{
    if (qEnvironmentVariable("GTK_THEME").endsWith(QLatin1String(":dark")))
        m_preference = Preference::Dark;
    if (!m_bus.isConnected())
        return;
    // The slot's QDBusVariant must be known by name before QtDBus can match it to "ssv".
    qRegisterMetaType<QDBusVariant>();
    m_bus.connect(kPortalService, kPortalPath, kSettingsInterface, QStringLiteral("SettingChanged"),
                  this, SLOT(onSettingChanged(QString, QString, QDBusVariant)));
    QDBusMessage read = QDBusMessage::createMethodCall(kPortalService, kPortalPath,
                                                       kSettingsInterface, QStringLiteral("Read"));
    read << kAppearance << kColorScheme;
    auto* watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(read), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this,
            [this](QDBusPendingCallWatcher* call) {
                call->deleteLater();
                const QDBusPendingReply<QDBusVariant> reply = *call;
                // No portal, or one without the setting: GTK_THEME's word stands.
                if (!reply.isError())
                    setPreference(preferenceOf(QVariant::fromValue(reply.value())));
            });
}

// The platform's look comes back with the object's end (a window closed, a test's next window).
ColorScheme::~ColorScheme()
{
    if (m_restyled) {
        QApplication::setStyle(m_platformStyle);
        QApplication::setPalette(m_platformPalette);
    }
}

void ColorScheme::setChoice(Choice choice)
{
    m_choice = choice;
    if (m_actions) {
        for (QAction* a : m_actions->actions())
            a->setChecked(a->data().toString() == toString(choice));
    }
    apply();
}

QMenu* ColorScheme::createMenu(QWidget* parent)
{
    auto* menu = new QMenu(tr("&Colours"), parent);
    menu->setObjectName(QStringLiteral("colorSchemeMenu"));
    m_actions = new QActionGroup(menu);
    for (const auto& [choice, text] :
         {std::pair{Choice::System, tr("Follow the &desktop")},
          std::pair{Choice::Light, tr("&Light")}, std::pair{Choice::Dark, tr("Dar&k")}}) {
        QAction* a = menu->addAction(text);
        a->setCheckable(true);
        a->setChecked(choice == m_choice);
        a->setData(toString(choice));
        m_actions->addAction(a);
        connect(a, &QAction::triggered, this, [this, choice] { setChoice(choice); });
    }
    return menu;
}

void ColorScheme::restoreSettings(const QSettings& settings)
{
    setChoice(choiceFromString(settings.value(kSettingsKey).toString()));
}

void ColorScheme::saveSettings(QSettings& settings) const
{
    settings.setValue(kSettingsKey, toString(m_choice));
}

bool ColorScheme::isDark() const
{
    return sg::ui::isDark(QApplication::palette());
}

QString ColorScheme::toString(Choice choice)
{
    switch (choice) {
    case Choice::Light:
        return QStringLiteral("light");
    case Choice::Dark:
        return QStringLiteral("dark");
    case Choice::System:
        break;
    }
    return QStringLiteral("system");
}

ColorScheme::Choice ColorScheme::choiceFromString(const QString& text)
{
    if (text == QLatin1String("light"))
        return Choice::Light;
    if (text == QLatin1String("dark"))
        return Choice::Dark;
    return Choice::System;
}

QPalette ColorScheme::darkPalette()
{
    const QColor window(0x2d, 0x2f, 0x33);
    const QColor base(0x1f, 0x21, 0x24);
    const QColor text(0xe8, 0xe8, 0xe8);
    const QColor disabled(0x85, 0x88, 0x8c);
    const QColor highlight(0x3d, 0x84, 0xd6);
    QPalette p;
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x27, 0x29, 0x2d));
    p.setColor(QPalette::ToolTipBase, window);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x36, 0x39, 0x3e));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4e));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3d, 0x42));
    p.setColor(QPalette::Mid, QColor(0x26, 0x28, 0x2b));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, QColor(0x0c, 0x0c, 0x0d));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xb0, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xb0, 0x8c, 0xf0));
    for (const QPalette::ColorRole role :
         {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x4a, 0x4d, 0x52));
    return p;
}

void ColorScheme::onSettingChanged(const QString& group, const QString& key,
                                   const QDBusVariant& value)
{
    if (group == kAppearance && key == kColorScheme)
        setPreference(preferenceOf(QVariant::fromValue(value)));
}

void ColorScheme::setPreference(Preference preference)
{
    m_preference = preference;
    if (m_choice == Choice::System)
        apply();
}

void ColorScheme::apply()
{
    bool dark = m_platformDark;
    if (m_choice == Choice::Dark ||
        (m_choice == Choice::System && m_preference == Preference::Dark))
        dark = true;
    else if (m_choice == Choice::Light ||
             (m_choice == Choice::System && m_preference == Preference::Light))
        dark = false;

    if (dark == m_platformDark) {
        if (m_restyled) {
            QApplication::setStyle(m_platformStyle);
            QApplication::setPalette(m_platformPalette);
            m_restyled = false;
        }
    } else {
        if (!m_restyled)
            QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        m_restyled = true;
        QApplication::setPalette(dark ? darkPalette() : QApplication::style()->standardPalette());
    }
    Q_EMIT applied(isDark());
}

} // namespace sg::ui
