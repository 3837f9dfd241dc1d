// The FHIR R4 document a device stores for one reading, byte-identical to
// medchain's Rust `privacy::fhir::reading_document` (the ciphertext and its
// CID depend on every byte): a `collection` Bundle of four vital-signs
// Observations — heart rate (LOINC 8867-4, /min), oxygen saturation
// (2708-6 and 59408-5, %), the blood pressure panel (85354-9 with 8480-6
// and 8462-4, mm[Hg]) and body temperature (8310-5, Cel) — each naming the
// patient by pseudonymous id, the device and the time taken. Compact JSON,
// keys in the Rust structs' order.
#pragma once

#include <cstdint>
#include <string>

#include "medchain/bytes.hpp"
#include "medchain/vital_signs.hpp"

namespace medchain::fhir {

// Who and what a reading is about, and when it was taken.
struct Context {
    Bytes32 patient{};           // pseudonymous patient id (never an SSN)
    Address device{};            // the device wallet that took the reading
    std::uint64_t sequence = 0;  // the device's sequence number for it
    std::uint64_t taken_ms = 0;  // milliseconds since the Unix epoch
};

// The latest time the document format (four-digit years) can carry:
// 9999-12-31T23:59:59.999Z.
constexpr std::uint64_t kMaxTakenMs = 253402300799999ULL;

// FHIR dateTime, UTC with milliseconds ("2025-12-06T05:46:40.123Z"), as
// chrono's to_rfc3339_opts(Millis, true) prints it. Throws
// std::out_of_range past kMaxTakenMs.
std::string date_time(std::uint64_t ms);

// The document's bytes. Throws std::out_of_range if ctx.taken_ms is past
// kMaxTakenMs (a broken clock).
std::string reading_document(const VitalSigns& reading, const Context& ctx);

}  // namespace medchain::fhir
