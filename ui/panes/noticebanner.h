#pragma once
// The strip above the routes and tabs that asks for an answer: a config file that could not be
// loaded (Recover backup), a client refused on a route (Allow, Show denied, Dismiss). One notice
// at a time, named by a key, so whoever showed one takes down that one and never another's.

#include <QFrame>
#include <QList>
#include <QPair>
#include <functional>

class QLabel;
class QMenu;

namespace sg::ui {

class NoticeBanner final : public QFrame
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NoticeBanner)

public:
    // A button: its text and what a click does.
    using Action = QPair<QString, std::function<void()>>;

    explicit NoticeBanner(QWidget* parent = nullptr);

    // Shows text with one button per action ("bannerButton0", ...), in place of any notice.
    void showNotice(const QString& key, const QString& text, const QList<Action>& actions);
    // The button of action i shows `menu` (its choices) instead of acting; the menu is the
    // banner's until the next notice. For a choice after the first click (Allow: how long).
    void setButtonMenu(int i, QMenu* menu);
    // Hides the notice of key; false, changing nothing, when another one (or none) shows.
    bool hideNotice(const QString& key);
    // The key of the notice shown, empty while hidden.
    QString key() const { return m_key; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTint();

    QLabel* m_text;
    QWidget* m_buttons;
    QString m_key;
    bool m_tinting = false;
};

} // namespace sg::ui
