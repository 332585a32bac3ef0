// Numbers of JSON documents from outside the kit (a report to merge, a
// counterexample to replay, what an agent says). nlohmann's get<int>() of a
// float past int's range (1e300) is undefined behaviour, and of a large
// integer it wraps: a number is taken as T only when T holds it exactly.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ilk {

// v as T (an integer type, or a floating one): nullopt when v is no number,
// is not finite, or (for an integer T) has a fraction or lies outside T.
template <class T>
std::optional<T> json_number(const nlohmann::json& v) {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
    if (!v.is_number()) return std::nullopt;
    if constexpr (std::is_floating_point_v<T>) {
        const double d = v.get<double>();
        return std::isfinite(d) ? std::optional<T>(static_cast<T>(d)) : std::nullopt;
    } else {
        if (v.is_number_unsigned()) {
            const std::uint64_t n = v.get<std::uint64_t>();
            if (n > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
            return static_cast<T>(n);
        }
        if (v.is_number_integer()) {
            const std::int64_t n = v.get<std::int64_t>();
            if constexpr (std::is_unsigned_v<T>) {
                if (n < 0 || static_cast<std::uint64_t>(n) > std::numeric_limits<T>::max()) return std::nullopt;
            } else {
                if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) return std::nullopt;
            }
            return static_cast<T>(n);
        }
        const double d = v.get<double>();  // a float: whole, and inside T (compared as doubles, before any conversion)
        if (!std::isfinite(d) || std::trunc(d) != d || d < static_cast<double>(std::numeric_limits<T>::min()) ||
            d >= std::ldexp(1.0, std::numeric_limits<T>::digits))
            return std::nullopt;
        return static_cast<T>(d);
    }
}

// j[key] as T, or fallback when j has no such key; a value T does not hold
// exactly throws std::runtime_error naming the key and the value.
template <class T>
T number_or(const nlohmann::json& j, const char* key, T fallback) {
    if (!j.is_object() || !j.contains(key)) return fallback;
    if (const std::optional<T> n = json_number<T>(j.at(key))) return *n;
    throw std::runtime_error(fmt::format("'{}' is {}: not a number it can be", key, j.at(key).dump().substr(0, 40)));
}

}  // namespace ilk
