// Byte containers shared by the whole core.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medchain {

using Bytes = std::vector<std::uint8_t>;
using Bytes32 = std::array<std::uint8_t, 32>;
using Hash = Bytes32;
using Address = std::array<std::uint8_t, 20>;

// A non-owning view of contiguous bytes (C++17 has no std::span).
class ByteSpan {
public:
    constexpr ByteSpan() = default;
    constexpr ByteSpan(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    ByteSpan(const Bytes& bytes) : data_(bytes.data()), size_(bytes.size()) {}  // NOLINT: implicit by design
    template <std::size_t N>
    constexpr ByteSpan(const std::array<std::uint8_t, N>& bytes)  // NOLINT: implicit by design
        : data_(bytes.data()), size_(N) {}
    // The UTF-8 (or any) bytes of a string.
    ByteSpan(std::string_view text)  // NOLINT: implicit by design
        : data_(reinterpret_cast<const std::uint8_t*>(text.data())), size_(text.size()) {}
    ByteSpan(const std::string& text) : ByteSpan(std::string_view(text)) {}  // NOLINT: implicit by design
    ByteSpan(const char* text) : ByteSpan(std::string_view(text)) {}         // NOLINT: implicit by design

    constexpr const std::uint8_t* data() const { return data_; }
    constexpr std::size_t size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr const std::uint8_t* begin() const { return data_; }
    constexpr const std::uint8_t* end() const { return data_ + size_; }
    constexpr std::uint8_t operator[](std::size_t i) const { return data_[i]; }

    // Bytes [offset, offset + count); throws std::out_of_range past the end.
    ByteSpan subspan(std::size_t offset, std::size_t count) const;

private:
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

inline Bytes to_bytes(ByteSpan span) { return Bytes(span.begin(), span.end()); }

// Appends `tail` to `out`.
inline void append(Bytes& out, ByteSpan tail) { out.insert(out.end(), tail.begin(), tail.end()); }

}  // namespace medchain
