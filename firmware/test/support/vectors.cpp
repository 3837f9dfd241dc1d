#include "support/vectors.hpp"

#include <fstream>
#include <stdexcept>

namespace medchain::test {

const nlohmann::json& vectors() {
    static const nlohmann::json loaded = [] {
        std::ifstream in(MEDCHAIN_VECTORS_PATH);
        if (!in) throw std::runtime_error("cannot open " MEDCHAIN_VECTORS_PATH);
        return nlohmann::json::parse(in);
    }();
    return loaded;
}

}  // namespace medchain::test
