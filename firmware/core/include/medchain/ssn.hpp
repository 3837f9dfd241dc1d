// The SSN text that is hashed into a patient id. medchain hashes the SSN
// exactly as written (trimmed), and its docs write "123-45-6789"; a keypad
// has no dash, so nine typed digits are put into that canonical form.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace medchain {

// "123456789" or "123-45-6789" (surrounding spaces ignored) ->
// "123-45-6789"; nullopt for anything else.
std::optional<std::string> canonical_ssn(std::string_view text);

}  // namespace medchain
