#pragma once

#include <concepts>
#include <memory>

namespace sg {

// A part of a value that most instances leave at its default, kept out of line: nothing but a
// null pointer until it is set, and shared by copies until one of them changes it. Read it as
// `info.mysql->user` (a default T when unset), change it with `info.mysql.edit().user = ...`
// or by assigning a whole T. ConnectionInfo holds what only some connections learn (a MySQL
// login, TLS details, the client's program) this way, so that an idle TCP connection, the
// snapshots that copy it and the events that carry it do not pay for every protocol's fields.
//
// Copies may live on different threads; a change never touches a T another copy can see.
template <typename T> class SharedDetail
{
public:
    SharedDetail() = default;
    SharedDetail(const T& value) { *this = value; } // NOLINT(google-explicit-constructor)

    const T& operator*() const { return m_value ? *m_value : unset(); }
    const T* operator->() const { return &**this; }
    operator const T&() const { return **this; } // NOLINT(google-explicit-constructor)

    T& edit()
    {
        if (!m_value)
            m_value = std::make_shared<T>();
        else if (m_value.use_count() > 1)
            m_value = std::make_shared<T>(*m_value);
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
        if (m_value && m_value.use_count() == 1)
            *m_value = value;
        else
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
