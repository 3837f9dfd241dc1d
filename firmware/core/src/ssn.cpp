#include "medchain/ssn.hpp"

#include <algorithm>

namespace medchain {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::optional<std::string> canonical_ssn(std::string_view text) {
    text = trim(text);
    std::string digits;
    if (text.size() == 9 && std::all_of(text.begin(), text.end(), is_digit)) {
        digits = std::string(text);
    } else if (text.size() == 11 && text[3] == '-' && text[6] == '-') {
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (i == 3 || i == 6) continue;
            if (!is_digit(text[i])) return std::nullopt;
            digits += text[i];
        }
    } else {
        return std::nullopt;
    }
    return digits.substr(0, 3) + "-" + digits.substr(3, 2) + "-" + digits.substr(5);
}

}  // namespace medchain
