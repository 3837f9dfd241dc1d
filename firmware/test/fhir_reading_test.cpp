#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "medchain/fhir_reading.hpp"
#include "medchain/hex.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

using nlohmann::json;

std::uint64_t u64(const json& value) { return std::stoull(value.get<std::string>()); }

VitalSigns vitals(const json& r) {
    VitalSigns v;
    v.heart_rate = r.at("heart_rate").get<std::uint16_t>();
    v.spo2 = r.at("spo2").get<std::uint16_t>();
    v.systolic = r.at("systolic").get<std::uint16_t>();
    v.diastolic = r.at("diastolic").get<std::uint16_t>();
    v.temperature_centi_c = r.at("temperature_centi_c").get<std::int16_t>();
    return v;
}

TEST(FhirReading, DocumentsAreByteIdenticalToRust) {
    const auto& cases = test::vectors().at("private").at("documents");
    ASSERT_GE(cases.size(), 10u);
    for (const auto& c : cases) {
        fhir::Context ctx;
        ctx.patient = fixed_from_hex<32>(c.at("patient").get<std::string>());
        ctx.device = fixed_from_hex<20>(c.at("device").get<std::string>());
        ctx.sequence = u64(c.at("sequence"));
        ctx.taken_ms = u64(c.at("taken_ms"));
        EXPECT_EQ(fhir::reading_document(vitals(c.at("reading")), ctx), c.at("document").get<std::string>());
    }
}

TEST(FhirReading, EnvelopeDocumentMatches) {
    const auto& e = test::vectors().at("private").at("envelope");
    fhir::Context ctx;
    ctx.patient = fixed_from_hex<32>(e.at("patient").get<std::string>());
    ctx.device = fixed_from_hex<20>(e.at("device").get<std::string>());
    ctx.sequence = u64(e.at("sequence"));
    ctx.taken_ms = u64(e.at("taken_ms"));
    EXPECT_EQ(to_hex(ByteSpan(fhir::reading_document(vitals(e.at("reading")), ctx))),
              e.at("document").get<std::string>());
}

// serde_json prints f64 with ryu: the shortest decimal that round-trips,
// with ".0" on whole numbers. For centi/100 that is the exact two-decimal
// value with trailing zeros dropped; check nlohmann prints the same for
// every int16 the reading can hold.
std::string expected_temperature(int centi) {
    const int magnitude = std::abs(centi);
    std::string text = (centi < 0 ? "-" : "") + std::to_string(magnitude / 100) + ".";
    const int cents = magnitude % 100;
    if (cents == 0) return text + "0";
    text += static_cast<char>('0' + cents / 10);
    if (cents % 10 != 0) text += static_cast<char>('0' + cents % 10);
    return text;
}

TEST(FhirReading, EveryTemperaturePrintsAsRustPrintsIt) {
    for (int centi = std::numeric_limits<std::int16_t>::min(); centi <= std::numeric_limits<std::int16_t>::max();
         ++centi) {
        const json value = static_cast<double>(centi) / 100.0;
        ASSERT_EQ(value.dump(), expected_temperature(centi)) << centi;
    }
}

TEST(FhirReading, DateTimeIsUtcWithMilliseconds) {
    EXPECT_EQ(fhir::date_time(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(fhir::date_time(1765000000123ULL), "2025-12-06T05:46:40.123Z");
    EXPECT_EQ(fhir::date_time(951782400000ULL), "2000-02-29T00:00:00.000Z");
    EXPECT_EQ(fhir::date_time(fhir::kMaxTakenMs), "9999-12-31T23:59:59.999Z");
    EXPECT_THROW(fhir::date_time(fhir::kMaxTakenMs + 1), std::out_of_range);
}

}  // namespace
}  // namespace medchain
