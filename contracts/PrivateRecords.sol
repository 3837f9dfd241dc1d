// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.24;

/// @title PrivateRecords
/// @notice medchain's default records contract: the chain holds only where an
///         encrypted reading is (the digest of its content identifier), which
///         device wrote it, its sequence, its timestamps and the version of the
///         patient's key it was sealed to. Vital signs and identities never reach
///         the chain (see docs/privacy.md).
/// @dev Keys follow consent. Each patient has a data key pair per version: the
///      public half is published here, so a device can seal a reading to it
///      without being able to read anything; the secret half is published only
///      wrapped (ECIES, secp256k1) to each reader's public key. Revoking consent
///      rotates to a new version atomically, so records written afterwards are
///      sealed to a key the revoked reader never had.
///      Everything in contract storage is public to anyone with node access;
///      view-function checks below therefore only express the consortium's
///      rules, they protect nothing. What protects readings is the encryption.
///      Revert reasons are plain strings (require), never custom errors.
contract PrivateRecords {
    // ---------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------

    /// @notice One sealed reading, stored off-chain under `cidDigest`.
    struct Record {
        bytes32 cidDigest; // sha2-256 digest of the stored (encrypted) bytes: a CIDv1 raw leaf
        address device; // device wallet that wrote the record
        uint64 sequence; // per-device strictly increasing sequence number
        uint64 deviceTimestamp; // device clock at measurement time (ms since epoch)
        uint64 blockTimestamp; // block.timestamp when the record was written
        uint32 keyVersion; // version of the patient's data key the reading was sealed to
    }

    struct Patient {
        address wallet; // the patient's own wallet, proven by its signature
        address custodian; // hospital holding the patient (and the salt of the id)
        uint32 keyVersion; // current data key version (1 after registration)
    }

    struct Device {
        bytes32 patient; // the one patient this device writes for
        address registeredBy; // hospital that registered it
        uint64 lastSequence; // highest sequence accepted (kept across revoke/re-register)
        bool active; // registered and allowed to write
    }

    struct Emr {
        bytes32 contentHash; // digest of the off-chain EMR document
        uint64 version; // 1 on open, +1 on every update; 0 = no EMR
    }

    // ---------------------------------------------------------------------
    // State
    // ---------------------------------------------------------------------

    /// @notice The consortium's administrator; handed over in two steps.
    address public admin;
    /// @notice Proposed next admin, until they accept.
    address public pendingAdmin;

    mapping(address => bool) public isHospital;
    mapping(address => string) public hospitalName;
    mapping(address => bool) public isDoctor;
    mapping(address => address) public doctorHospital;
    /// @notice Readers of every patient (auditors, research). Admin only.
    mapping(address => bool) public isGlobalReader;
    /// @notice A reader's secp256k1 public key (64 bytes, uncompressed without
    ///         the 0x04 prefix), proven to belong to the address.
    mapping(address => bytes) public readerKey;

    mapping(bytes32 => Patient) public patients;
    /// @notice The patient's data public key per version (33 bytes, compressed).
    mapping(bytes32 => mapping(uint32 => bytes)) public dataPublicKey;
    /// @notice The data secret key of a version, wrapped to one reader.
    mapping(bytes32 => mapping(uint32 => mapping(address => bytes))) public wrappedKey;
    mapping(bytes32 => mapping(address => bool)) public hasConsent;

    mapping(address => Device) public devices;
    mapping(bytes32 => Record[]) private _records;
    mapping(bytes32 => Emr) private _emrs;

    // ---------------------------------------------------------------------
    // Events: no health information, and nothing that names a person
    // ---------------------------------------------------------------------

    event AdminProposed(address indexed admin, address indexed proposed);
    event AdminChanged(address indexed previous, address indexed admin);
    event HospitalAdded(address indexed hospital, string name);
    event HospitalRemoved(address indexed hospital);
    event DoctorRegistered(address indexed doctor, address indexed hospital, address indexed registeredBy);
    event GlobalReaderSet(address indexed reader, bool allowed);
    event ReaderKeyPublished(address indexed reader);
    event PatientRegistered(bytes32 indexed patient, address indexed wallet, address indexed custodian);
    event KeyRotated(bytes32 indexed patient, uint32 version);
    event KeyShared(bytes32 indexed patient, uint32 indexed version, address indexed reader);
    event ConsentGranted(bytes32 indexed patient, address indexed reader);
    event ConsentRevoked(bytes32 indexed patient, address indexed reader, uint32 newKeyVersion);
    event DeviceRegistered(address indexed device, bytes32 indexed patient, address indexed registeredBy);
    event DeviceRevoked(address indexed device, bytes32 indexed patient, address indexed revokedBy);
    event RecordAdded(bytes32 indexed patient, address indexed device, uint256 indexed recordId, uint64 sequence);
    event CustodyTransferred(bytes32 indexed patient, address indexed from, address indexed to);
    event EmrUpdated(bytes32 indexed patient, address indexed custodian, bytes32 contentHash, uint64 version);

    modifier onlyAdmin() {
        require(msg.sender == admin, "PrivateRecords: caller is not admin");
        _;
    }

    modifier onlyHospital() {
        require(isHospital[msg.sender], "PrivateRecords: caller is not a hospital");
        _;
    }

    modifier onlyCustodian(bytes32 patient) {
        require(
            isHospital[msg.sender] && patients[patient].custodian == msg.sender,
            "PrivateRecords: caller is not the patient's custodian"
        );
        _;
    }

    modifier onlyPatient(bytes32 patient) {
        require(
            patients[patient].wallet != address(0) && msg.sender == patients[patient].wallet,
            "PrivateRecords: caller is not the patient"
        );
        _;
    }

    constructor() {
        admin = msg.sender;
    }

    // ---------------------------------------------------------------------
    // Consortium
    // ---------------------------------------------------------------------

    /// @notice First step of handing over the admin role; the proposed
    ///         address must accept. Proposing address(0) cancels.
    function proposeAdmin(address next) external onlyAdmin {
        pendingAdmin = next;
        emit AdminProposed(admin, next);
    }

    /// @notice Second step: the proposed admin takes the role.
    function acceptAdmin() external {
        require(pendingAdmin != address(0) && msg.sender == pendingAdmin, "PrivateRecords: caller is not the proposed admin");
        emit AdminChanged(admin, msg.sender);
        admin = msg.sender;
        pendingAdmin = address(0);
    }

    function addHospital(address hospital, string calldata name) external onlyAdmin {
        require(hospital != address(0), "PrivateRecords: zero address");
        require(!isHospital[hospital], "PrivateRecords: hospital already registered");
        isHospital[hospital] = true;
        hospitalName[hospital] = name;
        emit HospitalAdded(hospital, name);
    }

    /// @notice A removed hospital can no longer act as a hospital or custodian.
    function removeHospital(address hospital) external onlyAdmin {
        require(isHospital[hospital], "PrivateRecords: not a registered hospital");
        isHospital[hospital] = false;
        emit HospitalRemoved(hospital);
    }

    /// @notice A hospital registers its own doctors.
    function registerDoctor(address doctor) external onlyHospital {
        require(doctor != address(0), "PrivateRecords: zero address");
        require(!isDoctor[doctor], "PrivateRecords: doctor already registered");
        isDoctor[doctor] = true;
        doctorHospital[doctor] = msg.sender;
        emit DoctorRegistered(doctor, msg.sender, msg.sender);
    }

    function setGlobalReader(address reader, bool allowed) external onlyAdmin {
        require(reader != address(0), "PrivateRecords: zero address");
        isGlobalReader[reader] = allowed;
        emit GlobalReaderSet(reader, allowed);
    }

    /// @notice Publish the caller's public key, so keys can be wrapped to it.
    ///         The key must be the one the caller's address is derived from.
    function publishReaderKey(bytes calldata publicKey) external {
        require(publicKey.length == 64, "PrivateRecords: public key must be 64 bytes");
        require(
            address(uint160(uint256(keccak256(publicKey)))) == msg.sender,
            "PrivateRecords: public key does not belong to the caller"
        );
        readerKey[msg.sender] = publicKey;
        emit ReaderKeyPublished(msg.sender);
    }

    // ---------------------------------------------------------------------
    // Patients and keys
    // ---------------------------------------------------------------------

    /// @notice The message a patient's wallet signs (EIP-191 personal_sign of
    ///         these 32 bytes) to be registered with `custodian`.
    function registrationDigest(bytes32 patient, address custodian) public view returns (bytes32) {
        return keccak256(abi.encodePacked("medchain/patient/v1", block.chainid, address(this), patient, custodian));
    }

    /// @notice A hospital takes a patient into custody: binds the wallet that
    ///         signed `registrationDigest`, publishes the first data public key
    ///         and its secret wrapped to `readers` (the patient and the hospital).
    function registerPatient(
        bytes32 patient,
        address wallet,
        bytes calldata signature,
        bytes calldata dataKey,
        address[] calldata readers,
        bytes[] calldata wrapped
    ) external onlyHospital {
        require(patient != bytes32(0), "PrivateRecords: zero patient id");
        require(patients[patient].custodian == address(0), "PrivateRecords: patient already registered");
        require(dataKey.length == 33, "PrivateRecords: data key must be 33 bytes (compressed)");
        require(
            _signer(registrationDigest(patient, msg.sender), signature) == wallet && wallet != address(0),
            "PrivateRecords: signature is not the patient wallet's"
        );
        patients[patient] = Patient({wallet: wallet, custodian: msg.sender, keyVersion: 1});
        dataPublicKey[patient][1] = dataKey;
        emit PatientRegistered(patient, wallet, msg.sender);
        emit KeyRotated(patient, 1);
        _share(patient, 1, readers, wrapped);
    }

    /// @notice Publish a key version wrapped to readers who may read the patient.
    ///         By the patient or the custodian (the holders of the secret).
    function shareKeys(
        bytes32 patient,
        uint32 version,
        address[] calldata readers,
        bytes[] calldata wrapped
    ) external {
        Patient storage p = patients[patient];
        require(
            msg.sender == p.wallet || (msg.sender == p.custodian && isHospital[msg.sender]),
            "PrivateRecords: caller is not the patient or custodian"
        );
        require(version >= 1 && version <= p.keyVersion, "PrivateRecords: no such key version");
        _share(patient, version, readers, wrapped);
    }

    function _share(bytes32 patient, uint32 version, address[] calldata readers, bytes[] calldata wrapped) private {
        require(readers.length == wrapped.length, "PrivateRecords: readers and keys differ in length");
        for (uint256 i = 0; i < readers.length; ++i) {
            require(canRead(patient, readers[i]), "PrivateRecords: reader may not read this patient");
            require(wrapped[i].length == 106, "PrivateRecords: a wrapped key is 106 bytes");
            wrappedKey[patient][version][readers[i]] = wrapped[i];
            emit KeyShared(patient, version, readers[i]);
        }
    }

    /// @notice The patient lets a doctor or a hospital read their records and,
    ///         in the same transaction, hands it the key versions `versions`
    ///         (wrapped to its published key).
    function grantConsent(
        bytes32 patient,
        address reader,
        uint32[] calldata versions,
        bytes[] calldata wrapped
    ) external onlyPatient(patient) {
        require(isDoctor[reader] || isHospital[reader], "PrivateRecords: not a registered doctor or hospital");
        require(!hasConsent[patient][reader], "PrivateRecords: consent already granted");
        require(versions.length == wrapped.length, "PrivateRecords: versions and keys differ in length");
        hasConsent[patient][reader] = true;
        emit ConsentGranted(patient, reader);
        uint32 current = patients[patient].keyVersion;
        for (uint256 i = 0; i < versions.length; ++i) {
            require(versions[i] >= 1 && versions[i] <= current, "PrivateRecords: no such key version");
            require(wrapped[i].length == 106, "PrivateRecords: a wrapped key is 106 bytes");
            wrappedKey[patient][versions[i]][reader] = wrapped[i];
            emit KeyShared(patient, versions[i], reader);
        }
    }

    /// @notice The patient withdraws consent and, in the same transaction,
    ///         moves to a new data key: records written afterwards are sealed to
    ///         a key the revoked reader never receives. `readers` are those who
    ///         keep access and receive the new key.
    function revokeConsent(
        bytes32 patient,
        address reader,
        bytes calldata newDataKey,
        address[] calldata readers,
        bytes[] calldata wrapped
    ) external onlyPatient(patient) {
        require(hasConsent[patient][reader], "PrivateRecords: consent not granted");
        require(newDataKey.length == 33, "PrivateRecords: data key must be 33 bytes (compressed)");
        hasConsent[patient][reader] = false;
        Patient storage p = patients[patient];
        uint32 version = p.keyVersion + 1;
        p.keyVersion = version;
        dataPublicKey[patient][version] = newDataKey;
        emit ConsentRevoked(patient, reader, version);
        emit KeyRotated(patient, version);
        _share(patient, version, readers, wrapped);
    }

    /// @notice Whether `reader` may read `patient`'s records under the
    ///         consortium's rules: the patient; the custodian hospital and its
    ///         doctors; a doctor or hospital with consent; a global reader.
    function canRead(bytes32 patient, address reader) public view returns (bool) {
        Patient storage p = patients[patient];
        if (reader == address(0) || p.custodian == address(0)) return false;
        if (reader == p.wallet) return true;
        if (isGlobalReader[reader]) return true;
        bool hospital = isHospital[reader];
        bool doctor = isDoctor[reader] && isHospital[doctorHospital[reader]];
        if (!hospital && !doctor) return false;
        if (hasConsent[patient][reader]) return true;
        if (hospital) return reader == p.custodian;
        return doctorHospital[reader] == p.custodian;
    }

    // ---------------------------------------------------------------------
    // Devices and records
    // ---------------------------------------------------------------------

    /// @notice Bind a device to a patient the calling hospital holds, or
    ///         has the patient's consent for.
    function registerDevice(address device, bytes32 patient) external onlyHospital {
        require(device != address(0), "PrivateRecords: zero address");
        require(patients[patient].custodian != address(0), "PrivateRecords: patient not registered");
        require(
            patients[patient].custodian == msg.sender || hasConsent[patient][msg.sender],
            "PrivateRecords: patient is not in the caller's custody and gave no consent"
        );
        Device storage d = devices[device];
        require(!d.active, "PrivateRecords: device already registered");
        require(d.patient == bytes32(0) || d.patient == patient, "PrivateRecords: device was bound to another patient");
        d.patient = patient;
        d.registeredBy = msg.sender;
        d.active = true;
        emit DeviceRegistered(device, patient, msg.sender);
    }

    /// @notice Stop a device (lost or compromised): by the hospital that
    ///         registered it, the patient's custodian, or the patient.
    function revokeDevice(address device) external {
        Device storage d = devices[device];
        require(d.active, "PrivateRecords: device not registered");
        Patient storage p = patients[d.patient];
        require(
            (isHospital[msg.sender] && (msg.sender == d.registeredBy || msg.sender == p.custodian)) ||
                msg.sender == p.wallet,
            "PrivateRecords: caller may not revoke this device"
        );
        d.active = false;
        emit DeviceRevoked(device, d.patient, msg.sender);
    }

    /// @notice Append a sealed reading. Only an active device, for its patient,
    ///         with a sequence above its last one (a retry never writes twice)
    ///         and sealed to the patient's current key version.
    function addRecord(
        bytes32 patient,
        bytes32 cidDigest,
        uint32 keyVersion,
        uint64 deviceTimestamp,
        uint64 sequence
    ) external returns (uint256 recordId) {
        Device storage d = devices[msg.sender];
        require(d.active, "PrivateRecords: caller is not a registered device");
        require(d.patient == patient, "PrivateRecords: device not bound to this patient");
        require(sequence > d.lastSequence, "PrivateRecords: duplicate or stale sequence");
        require(keyVersion == patients[patient].keyVersion, "PrivateRecords: sealed to a retired key version");
        require(cidDigest != bytes32(0), "PrivateRecords: zero content digest");
        d.lastSequence = sequence;
        Record[] storage list = _records[patient];
        recordId = list.length;
        list.push(
            Record({
                cidDigest: cidDigest,
                device: msg.sender,
                sequence: sequence,
                deviceTimestamp: deviceTimestamp,
                blockTimestamp: uint64(block.timestamp),
                keyVersion: keyVersion
            })
        );
        emit RecordAdded(patient, msg.sender, recordId, sequence);
    }

    /// @notice Page through a patient's records in insertion order. Public:
    ///         a record says where a sealed reading is, not what it holds.
    function getRecords(bytes32 patient, uint256 offset, uint256 limit) external view returns (Record[] memory page) {
        Record[] storage list = _records[patient];
        uint256 len = list.length;
        if (offset >= len) return new Record[](0);
        if (limit > len - offset) limit = len - offset;
        page = new Record[](limit);
        for (uint256 i = 0; i < limit; ++i) page[i] = list[offset + i];
    }

    function recordCount(bytes32 patient) external view returns (uint256) {
        return _records[patient].length;
    }

    // ---------------------------------------------------------------------
    // Custody and the EMR document
    // ---------------------------------------------------------------------

    /// @notice Move the patient to another registered hospital. The new
    ///         custodian needs the patient's keys shared to it (shareKeys).
    function transferCustody(bytes32 patient, address toHospital) external onlyCustodian(patient) {
        require(isHospital[toHospital], "PrivateRecords: not a registered hospital");
        require(toHospital != msg.sender, "PrivateRecords: already the custodian");
        patients[patient].custodian = toHospital;
        emit CustodyTransferred(patient, msg.sender, toHospital);
    }

    /// @notice Record a new version of the sealed off-chain EMR document.
    function updateEmr(bytes32 patient, bytes32 contentHash) external onlyCustodian(patient) {
        require(contentHash != bytes32(0), "PrivateRecords: zero content hash");
        Emr storage e = _emrs[patient];
        e.contentHash = contentHash;
        e.version += 1;
        emit EmrUpdated(patient, msg.sender, contentHash, e.version);
    }

    function queryEmr(bytes32 patient) external view returns (bytes32 contentHash, address custodian, uint64 version) {
        Emr storage e = _emrs[patient];
        return (e.contentHash, patients[patient].custodian, e.version);
    }

    /// @dev The signer of an EIP-191 personal message over `digest`.
    function _signer(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        // Reject malleable (high-s) signatures.
        if (uint256(s) > 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0) return address(0);
        bytes32 message = keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", digest));
        return ecrecover(message, v, r, s);
    }
}
