#include "medchain/private_writer.hpp"

#include <utility>

#include "medchain/content_id.hpp"
#include "medchain/envelope.hpp"
#include "medchain/fhir_reading.hpp"
#include "medchain/hex.hpp"

namespace medchain {

namespace pr = private_records;

PrivateWriter::PrivateWriter(EthClient& eth, Transport& store, RandomSource& random, const Address& contract,
                             const Address& device, std::string store_url)
    : eth_(eth),
      store_(store),
      random_(random),
      contract_(contract),
      device_(device),
      store_url_(std::move(store_url)) {}

SealedReading PrivateWriter::seal(const OutboxEntry& entry) {
    const CurrentKey& key = current_key(entry.patient);
    const std::string document =
        fhir::reading_document(entry.vitals, {entry.patient, device_, entry.sequence, entry.device_timestamp});
    SealedReading out;
    out.key_version = key.version;
    out.envelope = envelope::seal_reading(key.public_key, key.version, {entry.patient, device_, entry.sequence},
                                          document, random_);
    out.cid = content_id::of(out.envelope);
    out.calldata = pr::encode_add_record(
        {entry.patient, content_id::digest(out.envelope), key.version, entry.device_timestamp, entry.sequence});
    return out;
}

void PrivateWriter::store(const SealedReading& sealed) {
    const std::string body(sealed.envelope.begin(), sealed.envelope.end());
    const PutReply reply = store_.put(store_url_ + "/" + sealed.cid, body);
    if (reply.status == 200 || reply.status == 201) return;
    throw PrivatePathError("the store refused " + sealed.cid + ": HTTP " + std::to_string(reply.status) + " " +
                           reply.body.substr(0, 200));
}

// patients(id).keyVersion, then dataPublicKey(id, version); both public,
// kept until forget_key().
const PrivateWriter::CurrentKey& PrivateWriter::current_key(const Bytes32& patient) {
    if (key_ && key_->patient == patient) return *key_;
    const std::uint32_t version =
        pr::decode_patients(eth_.call({device_, contract_, pr::encode_patients(patient)})).key_version;
    if (version == 0) throw PrivatePathError("patient " + to_hex(patient) + " is not registered on the contract");
    const std::optional<pr::CompressedPublicKey> public_key =
        pr::decode_data_public_key(eth_.call({device_, contract_, pr::encode_data_public_key(patient, version)}));
    if (!public_key) {
        throw PrivatePathError("patient " + to_hex(patient) + " has no data public key for version " +
                               std::to_string(version));
    }
    key_ = CurrentKey{patient, version, *public_key};
    return *key_;
}

}  // namespace medchain
