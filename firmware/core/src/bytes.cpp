#include "medchain/bytes.hpp"

#include <stdexcept>

namespace medchain {

ByteSpan ByteSpan::subspan(std::size_t offset, std::size_t count) const {
    if (offset > size_ || count > size_ - offset) {
        throw std::out_of_range("ByteSpan::subspan past the end");
    }
    return ByteSpan(data_ + offset, count);
}

}  // namespace medchain
