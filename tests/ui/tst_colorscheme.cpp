// Light and dark: the desktop's preference read from a desktop portal on a private session bus
// (the org.freedesktop.portal.Settings interface, served by this test as xdg-desktop-portal
// serves it, with the value wrapped in a second variant as its Read answers), followed when the
// desktop changes it, overridden by the user's choice, and GTK_THEME where no portal answers.

#include "colorscheme.h"
#include "secretservicefixture.h"

#include <QAction>
#include <QApplication>
#include <QDBusVariant>
#include <QMenu>
#include <QSettings>
#include <QStyle>
#include <QTemporaryDir>
#include <QTest>

using namespace sg::ui;

namespace {

const QString kService = QStringLiteral("org.freedesktop.portal.Desktop");
const QString kPath = QStringLiteral("/org/freedesktop/portal/desktop");

} // namespace

class DesktopPortal : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.portal.Settings")

public:
    uint scheme = 0;
    int reads = 0;

    void change(uint value)
    {
        scheme = value;
        Q_EMIT SettingChanged(QStringLiteral("org.freedesktop.appearance"),
                              QStringLiteral("color-scheme"), QDBusVariant(value));
    }

public Q_SLOTS:
    QDBusVariant Read(const QString& group, const QString& key)
    {
        ++reads;
        if (group == QLatin1String("org.freedesktop.appearance") &&
            key == QLatin1String("color-scheme"))
            return QDBusVariant(QVariant::fromValue(QDBusVariant(scheme)));
        return QDBusVariant(QString());
    }

Q_SIGNALS:
    void SettingChanged(const QString& group, const QString& key, const QDBusVariant& value);
};

class TestColorScheme : public QObject
{
    Q_OBJECT

    sgtest::PrivateSessionBus m_bus;
    QString m_platformStyle;

    // The portal on its own connection of the private bus (the scheme reads through another),
    // until the end of the scope, whatever ends it.
    struct ServedPortal
    {
        ServedPortal(const sgtest::PrivateSessionBus& bus, DesktopPortal& portal,
                     const QString& name)
            : connection(bus.connect(name))
        {
            if (connection.registerObject(kPath, &portal,
                                          QDBusConnection::ExportAllSlots |
                                              QDBusConnection::ExportAllSignals))
                connection.registerService(kService);
        }
        ~ServedPortal()
        {
            connection.unregisterService(kService);
            connection.unregisterObject(kPath);
        }
        Q_DISABLE_COPY_MOVE(ServedPortal)
        QDBusConnection connection;
    };

private Q_SLOTS:
    void initTestCase()
    {
        const QString why = m_bus.start();
        if (!why.isEmpty())
            QSKIP(qPrintable(why));
        m_platformStyle = QApplication::style()->name();
        QVERIFY(!ColorScheme(nullptr, QDBusConnection(QString())).isDark());
    }

    void followsTheDesktop()
    {
        DesktopPortal portal;
        portal.scheme = 1; // prefer dark
        const ServedPortal served(m_bus, portal, QStringLiteral("portal-follow"));
        QVERIFY(sgtest::nameHasOwner(served.connection, kService));
        {
            ColorScheme scheme(nullptr, m_bus.connect(QStringLiteral("app-follow")));
            QTRY_VERIFY_WITH_TIMEOUT(scheme.isDark(), 5000);
            QCOMPARE(scheme.desktopPreference(), ColorScheme::Preference::Dark);
            QCOMPARE(QApplication::style()->name(), QStringLiteral("fusion"));
            QCOMPARE(portal.reads, 1);

            portal.change(2); // prefer light
            QTRY_COMPARE_WITH_TIMEOUT(scheme.desktopPreference(), ColorScheme::Preference::Light,
                                      5000);
            QVERIFY(!scheme.isDark());
            QCOMPARE(QApplication::style()->name(), m_platformStyle);

            portal.change(1);
            QTRY_VERIFY_WITH_TIMEOUT(scheme.isDark(), 5000);
            portal.change(0); // no preference: the platform's own
            QTRY_VERIFY_WITH_TIMEOUT(!scheme.isDark(), 5000);
            portal.change(1);
            QTRY_VERIFY_WITH_TIMEOUT(scheme.isDark(), 5000);
        }
        // The platform's look comes back with the object.
        QVERIFY(!ColorScheme(nullptr, QDBusConnection(QString())).isDark());
        QCOMPARE(QApplication::style()->name(), m_platformStyle);
    }

    void choiceOverridesTheDesktop()
    {
        DesktopPortal portal;
        portal.scheme = 1;
        const ServedPortal served(m_bus, portal, QStringLiteral("portal-choice"));
        QVERIFY(sgtest::nameHasOwner(served.connection, kService));
        ColorScheme scheme(nullptr, m_bus.connect(QStringLiteral("app-choice")));
        QWidget window;
        QMenu* menu = scheme.createMenu(&window);
        QCOMPARE(menu->objectName(), QStringLiteral("colorSchemeMenu"));
        QCOMPARE(menu->actions().size(), 3);
        QTRY_VERIFY_WITH_TIMEOUT(scheme.isDark(), 5000);

        // Light from the menu, though the desktop prefers dark; and it stays through a change.
        menu->actions().at(1)->trigger();
        QCOMPARE(scheme.choice(), ColorScheme::Choice::Light);
        QVERIFY(!scheme.isDark());
        portal.change(2);
        QTRY_COMPARE_WITH_TIMEOUT(scheme.desktopPreference(), ColorScheme::Preference::Light, 5000);
        portal.change(1);
        QTRY_COMPARE_WITH_TIMEOUT(scheme.desktopPreference(), ColorScheme::Preference::Dark, 5000);
        QVERIFY(!scheme.isDark());

        // Kept in the settings and read back.
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("ui.ini")), QSettings::IniFormat);
        scheme.setChoice(ColorScheme::Choice::Dark);
        QVERIFY(menu->actions().at(2)->isChecked());
        QVERIFY(scheme.isDark());
        scheme.saveSettings(settings);
        QCOMPARE(settings.value(QStringLiteral("ui/colorScheme")).toString(),
                 QStringLiteral("dark"));
        scheme.setChoice(ColorScheme::Choice::Light);
        scheme.restoreSettings(settings);
        QCOMPARE(scheme.choice(), ColorScheme::Choice::Dark);
        QVERIFY(scheme.isDark());
        // Dark text on a light base would be unreadable: the palette is dark throughout.
        const QPalette p = QApplication::palette();
        QVERIFY(p.color(QPalette::Text).lightnessF() > 0.7);
        QVERIFY(p.color(QPalette::Window).lightnessF() < 0.3);
        QVERIFY(QApplication::palette(&window).color(QPalette::Base).lightnessF() < 0.3);

        menu->actions().at(0)->trigger(); // follow the desktop again: dark
        QVERIFY(menu->actions().at(0)->isChecked() && !menu->actions().at(2)->isChecked());
        QVERIFY(scheme.isDark());
    }

    void withoutAPortal()
    {
        // Nobody serves the portal on this bus: the platform's look, or GTK_THEME's word.
        {
            ColorScheme scheme(nullptr, m_bus.connect(QStringLiteral("app-none")));
            QTest::qWait(100); // the Read's error answer
            QVERIFY(!scheme.isDark());
            QCOMPARE(scheme.desktopPreference(), ColorScheme::Preference::None);
        }
        qputenv("GTK_THEME", "Adwaita:dark");
        {
            ColorScheme scheme(nullptr, m_bus.connect(QStringLiteral("app-gtk")));
            scheme.setChoice(ColorScheme::Choice::System);
            QVERIFY(scheme.isDark());
            QTest::qWait(100);
            QVERIFY(scheme.isDark()); // the failed Read changes nothing
        }
        qunsetenv("GTK_THEME");
        QCOMPARE(ColorScheme::choiceFromString(QStringLiteral("purple")),
                 ColorScheme::Choice::System);
    }
};

QTEST_MAIN(TestColorScheme)
#include "tst_colorscheme.moc"
