// Where the private write path's randomness comes from (content keys,
// ephemeral ECDH keys, AEAD nonces), behind an interface so tests can fix
// it and compare bytes with the Rust vectors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace medchain {

class RandomSource {
public:
    virtual ~RandomSource() = default;
    // Fills `out` with `size` bytes. Throws if it cannot.
    virtual void fill(std::uint8_t* out, std::size_t size) = 0;
};

// libsodium's randombytes_buf: the operating system's generator on the
// host (getrandom), the hardware RNG (esp_fill_random) on the ESP32 with
// ESP-IDF's libsodium port. Initialises libsodium; throws
// std::runtime_error if sodium_init fails.
class SodiumRandom final : public RandomSource {
public:
    SodiumRandom();
    void fill(std::uint8_t* out, std::size_t size) override;
};

// Calls sodium_init once (it is idempotent); throws std::runtime_error if
// libsodium cannot initialise.
void ensure_sodium();

}  // namespace medchain
