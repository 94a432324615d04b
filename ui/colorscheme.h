#pragma once
// Light or dark, as the desktop prefers or as the user chooses for Streamgate alone.
//
// The desktop's preference is the XDG desktop portal's "org.freedesktop.appearance"
// "color-scheme" (1: prefer dark, 2: prefer light, 0: none), read without waiting for the
// answer and followed when the desktop changes it; where no portal answers, a GTK_THEME that
// ends in ":dark" means dark. What the platform already gives is kept when it matches (a dark
// KDE palette stays as it is); otherwise dark is the Fusion style with a dark palette and light
// is Fusion's own palette. "No preference" leaves the platform's style and palette untouched.

#include <QDBusConnection>
#include <QObject>
#include <QPalette>

class QActionGroup;
class QDBusVariant;
class QMenu;
class QSettings;
class QWidget;

namespace sg::ui {

class ColorScheme final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ColorScheme)

public:
    enum class Choice { System, Light, Dark };
    Q_ENUM(Choice)
    // What the desktop asked for, in the portal's terms.
    enum class Preference { None, Dark, Light };
    Q_ENUM(Preference)

    // Asks `bus` for the desktop's preference (answered later) and applies the choice at once
    // with what is known until then. Takes the application's style and palette as they are now
    // as the platform's own.
    explicit ColorScheme(QObject* parent = nullptr,
                         const QDBusConnection& bus = QDBusConnection::sessionBus());
    ~ColorScheme() override;

    void setChoice(Choice choice);
    Choice choice() const { return m_choice; }
    Preference desktopPreference() const { return m_preference; }
    // Whether the application's palette is dark now.
    bool isDark() const;

    // View > Colours: follow the desktop, light, dark (object name "colorSchemeMenu").
    QMenu* createMenu(QWidget* parent);
    void restoreSettings(const QSettings& settings);
    void saveSettings(QSettings& settings) const;

    // "system", "light", "dark" (as kept in the GUI's settings); anything else is System.
    static QString toString(Choice choice);
    static Choice choiceFromString(const QString& text);
    static QPalette darkPalette();

Q_SIGNALS:
    // After the application's palette changed (dark: whether it is dark now).
    void applied(bool dark);

private Q_SLOTS:
    void onSettingChanged(const QString& group, const QString& key, const QDBusVariant& value);

private:
    void setPreference(Preference preference);
    void apply();

    QDBusConnection m_bus;
    QActionGroup* m_actions = nullptr; // the menu's, checked as the choice
    QString m_platformStyle;
    QPalette m_platformPalette;
    bool m_platformDark = false;
    bool m_restyled = false; // the application runs Fusion set by this object
    Choice m_choice = Choice::System;
    Preference m_preference = Preference::None;
};

} // namespace sg::ui
