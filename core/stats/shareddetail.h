#pragma once

#include <concepts>
#include <memory>

namespace sg {

// A part of a value that most instances leave at its default, kept out of line: nothing but a
// null pointer until it is set, and shared by copies. Read it as `info.mysql->user` (a default
// T when unset); change it by assigning a whole T or with `info.mysql.edit().user = ...`.
// ConnectionInfo holds what only some connections learn (a MySQL login, TLS details, the
// client's program) this way, so that an idle TCP connection, the snapshots that copy it and
// the events that carry it do not pay for every protocol's fields.
//
// Copies live on different threads (a connection's record on its worker, snapshots on the GUI
// thread), so a T, once set, is never changed: a change makes a new one. edit() hands out a
// new T of this value's own, to change before the value is copied again.
template <typename T> class SharedDetail
{
public:
    SharedDetail() = default;
    SharedDetail(const T& value) { *this = value; } // NOLINT(google-explicit-constructor)

    const T& operator*() const { return m_value ? *m_value : unset(); }
    const T* operator->() const { return &**this; }
    operator const T&() const { return **this; } // NOLINT(google-explicit-constructor)

    // A new T to change: a copy of the one set, or a default one.
    T& edit()
    {
        m_value = m_value ? std::make_shared<T>(*m_value) : std::make_shared<T>();
        return *m_value;
    }
    SharedDetail& operator=(const T& value)
    {
        if constexpr (std::equality_comparable<T>) {
            if (value == unset()) { // nothing learned: stays out of line for free
                m_value.reset();
                return *this;
            }
        }
        m_value = std::make_shared<T>(value);
        return *this;
    }
    bool isSet() const { return m_value != nullptr; }
    // The same object, or equal values (unset reads as a default T).
    bool operator==(const SharedDetail& other) const
    {
        return m_value == other.m_value || **this == *other;
    }

private:
    static const T& unset()
    {
        static const T value;
        return value;
    }
    std::shared_ptr<T> m_value;
};

} // namespace sg
