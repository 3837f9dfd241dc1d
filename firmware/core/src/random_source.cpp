#include "medchain/random_source.hpp"

#include <sodium.h>

#include <stdexcept>

namespace medchain {

void ensure_sodium() {
    // 0: initialised now, 1: already initialised, -1: failure.
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise (sodium_init)");
}

SodiumRandom::SodiumRandom() { ensure_sodium(); }

void SodiumRandom::fill(std::uint8_t* out, std::size_t size) { randombytes_buf(out, size); }

}  // namespace medchain
