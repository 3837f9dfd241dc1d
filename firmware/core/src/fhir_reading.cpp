#include "medchain/fhir_reading.hpp"

#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "medchain/hex.hpp"

namespace medchain::fhir {
namespace {

// Insertion-ordered, so keys come out in the order serde writes the Rust
// structs' fields.
using Json = nlohmann::ordered_json;
using Codes = std::vector<std::pair<const char*, const char*>>;

constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kUcum = "http://unitsofmeasure.org";
constexpr const char* kCategory = "http://terminology.hl7.org/CodeSystem/observation-category";

Json coding(const char* system, const char* code, const char* display) {
    Json j;
    j["system"] = system;
    j["code"] = code;
    j["display"] = display;
    return j;
}

Json loinc(const Codes& codes, const char* text) {
    Json list = Json::array();
    for (const auto& [code, display] : codes) list.push_back(coding(kLoinc, code, display));
    Json j;
    j["coding"] = std::move(list);
    j["text"] = text;
    return j;
}

Json quantity(Json value, const char* unit) {
    Json j;
    j["value"] = std::move(value);
    j["unit"] = unit;
    j["system"] = kUcum;
    j["code"] = unit;
    return j;
}

Json reference(const std::string& to) {
    Json j;
    j["reference"] = to;
    return j;
}

// One Observation of `ctx`, without its value.
Json observation(const Context& ctx, const char* suffix, Json code) {
    const std::string device = to_hex(ctx.device, false);
    Json category;
    category["coding"] = Json::array({coding(kCategory, "vital-signs", "Vital Signs")});
    Json j;
    j["resourceType"] = "Observation";
    j["id"] = device + "-" + std::to_string(ctx.sequence) + "-" + suffix;
    j["status"] = "final";
    j["category"] = Json::array({std::move(category)});
    j["code"] = std::move(code);
    j["subject"] = reference("Patient/" + to_hex(ctx.patient, false));
    j["effectiveDateTime"] = date_time(ctx.taken_ms);
    j["device"] = reference("Device/" + device);
    return j;
}

// Howard Hinnant's days_from_civil inverse: the proleptic Gregorian date
// of a day count since 1970-01-01 (non-negative here).
void civil_from_days(std::uint64_t days, unsigned& year, unsigned& month, unsigned& day) {
    const std::uint64_t z = days + 719468;
    const std::uint64_t era = z / 146097;
    const std::uint64_t doe = z - era * 146097;
    const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::uint64_t mp = (5 * doy + 2) / 153;
    day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<unsigned>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

}  // namespace

std::string date_time(std::uint64_t ms) {
    if (ms > kMaxTakenMs) throw std::out_of_range("reading time past year 9999: " + std::to_string(ms) + " ms");
    const std::uint64_t day_ms = 86400000;
    unsigned year = 0, month = 0, day = 0;
    civil_from_days(ms / day_ms, year, month, day);
    const std::uint64_t in_day = ms % day_ms;
    char text[32];
    std::snprintf(text, sizeof text, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year, month, day,
                  static_cast<unsigned>(in_day / 3600000), static_cast<unsigned>(in_day / 60000 % 60),
                  static_cast<unsigned>(in_day / 1000 % 60), static_cast<unsigned>(in_day % 1000));
    return text;
}

std::string reading_document(const VitalSigns& r, const Context& ctx) {
    Json hr = observation(ctx, "hr", loinc({{"8867-4", "Heart rate"}}, "Heart rate"));
    hr["valueQuantity"] = quantity(r.heart_rate, "/min");
    const Codes spo2_codes = {{"2708-6", "Oxygen saturation in Arterial blood"},
                              {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"}};
    Json spo2 = observation(ctx, "spo2", loinc(spo2_codes, "Oxygen saturation"));
    spo2["valueQuantity"] = quantity(r.spo2, "%");
    Json bp = observation(ctx, "bp", loinc({{"85354-9", "Blood pressure panel"}}, "Blood pressure"));
    Json systolic;
    systolic["code"] = loinc({{"8480-6", "Systolic blood pressure"}}, "Systolic");
    systolic["valueQuantity"] = quantity(r.systolic, "mm[Hg]");
    Json diastolic;
    diastolic["code"] = loinc({{"8462-4", "Diastolic blood pressure"}}, "Diastolic");
    diastolic["valueQuantity"] = quantity(r.diastolic, "mm[Hg]");
    bp["component"] = Json::array({std::move(systolic), std::move(diastolic)});
    Json temp = observation(ctx, "temp", loinc({{"8310-5", "Body temperature"}}, "Body temperature"));
    // The same double as Rust's f64::from(centi) / 100.0; nlohmann prints
    // the shortest round-trip form with a ".0" on whole numbers, as serde_json
    // (ryu) does (checked over every int16 in fhir_reading_test).
    temp["valueQuantity"] = quantity(static_cast<double>(r.temperature_centi_c) / 100.0, "Cel");

    Json entries = Json::array();
    for (Json* o : {&hr, &spo2, &bp, &temp}) {
        Json entry;
        entry["fullUrl"] = "urn:medchain:observation:" + (*o)["id"].get<std::string>();
        entry["resource"] = std::move(*o);
        entries.push_back(std::move(entry));
    }
    Json bundle;
    bundle["resourceType"] = "Bundle";
    bundle["type"] = "collection";
    bundle["entry"] = std::move(entries);
    return bundle.dump();
}

}  // namespace medchain::fhir
