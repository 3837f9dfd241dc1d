// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.24;

/// @title MedicalRecords
/// @notice Vital-sign records written by registered IoT devices (ESP32 wallets),
///         EMR custody tracking between hospitals, and a small role/consent model
///         governing who may read the records through this contract's interface.
/// @dev Privacy: no plaintext identifier or payload is ever stored. A patient id is
///      `keccak256(abi.encodePacked(bytes32 networkSalt, bytes ssnUtf8))`, computed
///      off-chain; the salt is never sent to the chain. EMR documents live off-chain
///      and only their content hash is recorded here. Note that view-function access
///      control only governs this interface: anyone with access to a node can read
///      raw contract storage. See docs/contracts.md.
///      Revert reasons are plain strings (require), never custom errors.
contract MedicalRecords {
    // ---------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------

    /// @notice One vital-sign reading. Packed into two storage slots:
    ///         slot 0: heartRate..sequence (208 bits), slot 1: device + blockTimestamp (224 bits).
    struct Record {
        uint16 heartRate; // beats per minute
        uint16 spo2; // oxygen saturation, percent
        uint16 systolic; // mmHg
        uint16 diastolic; // mmHg
        int16 temperatureCentiC; // body temperature in hundredths of a degree Celsius (3650 = 36.50 C)
        uint64 deviceTimestamp; // device clock at measurement time (unit chosen by the device; medchain uses ms since epoch)
        uint64 sequence; // per-device strictly increasing sequence number
        address device; // device wallet that wrote the record
        uint64 blockTimestamp; // block.timestamp when the record was written
    }

    struct Device {
        bytes32 patient; // patient this device is bound to
        uint64 lastSequence; // highest sequence accepted from this device (kept across revoke/re-register)
        bool active; // registered and allowed to write
    }

    struct Emr {
        bytes32 contentHash; // hash of the off-chain EMR document
        address custodian; // hospital currently holding the EMR
        uint64 version; // 1 on open, +1 on every update; 0 = no EMR
    }

    // ---------------------------------------------------------------------
    // Abnormal-reading thresholds and reason bits (see docs/contracts.md)
    // ---------------------------------------------------------------------

    uint16 public constant HEART_RATE_LOW = 40; // heartRate <  40 bpm
    uint16 public constant HEART_RATE_HIGH = 130; // heartRate > 130 bpm
    uint16 public constant SPO2_LOW = 90; // spo2 < 90 %
    uint16 public constant SYSTOLIC_HIGH = 180; // systolic > 180 mmHg
    int16 public constant TEMPERATURE_HIGH_CENTI_C = 3900; // temperature > 39.00 C

    uint8 public constant REASON_HEART_RATE_LOW = 1; // bit 0
    uint8 public constant REASON_HEART_RATE_HIGH = 2; // bit 1
    uint8 public constant REASON_SPO2_LOW = 4; // bit 2
    uint8 public constant REASON_SYSTOLIC_HIGH = 8; // bit 3
    uint8 public constant REASON_TEMPERATURE_HIGH = 16; // bit 4

    // ---------------------------------------------------------------------
    // State
    // ---------------------------------------------------------------------

    /// @notice The deployer. Fixed for the life of the contract.
    address public immutable admin;

    mapping(address => bool) public isHospital;
    mapping(address => string) public hospitalName;

    mapping(address => bool) public isDoctor;
    /// @notice Hospital that registered the doctor; address(0) if the admin registered them.
    mapping(address => address) public doctorHospital;

    /// @notice Global read permission granted by authorizeUser / removed by revokeUser.
    mapping(address => bool) public isAuthorized;

    mapping(address => Device) public devices;

    /// @notice Wallet of the patient (may grant/revoke consent and read own records).
    mapping(bytes32 => address) public patientWallet;
    mapping(bytes32 => mapping(address => bool)) public hasConsent;

    mapping(bytes32 => Record[]) private _records;
    mapping(bytes32 => Emr) private _emrs;

    // ---------------------------------------------------------------------
    // Events (one for every state-changing call)
    // ---------------------------------------------------------------------

    event HospitalAdded(address indexed hospital, string name);
    event DoctorRegistered(address indexed doctor, address indexed hospital, address indexed registeredBy);
    event DeviceRegistered(address indexed device, bytes32 indexed patient, address indexed registeredBy);
    event DeviceRevoked(address indexed device, bytes32 indexed patient, address indexed revokedBy);
    event PatientRegistered(bytes32 indexed patient, address indexed wallet, address indexed registeredBy);
    event UserAuthorized(address indexed user, address indexed authorizedBy);
    event UserRevoked(address indexed user, address indexed revokedBy);
    event ConsentGranted(bytes32 indexed patient, address indexed doctor);
    event ConsentRevoked(bytes32 indexed patient, address indexed doctor);
    event RecordAdded(
        bytes32 indexed patient,
        address indexed device,
        uint256 indexed recordId,
        uint64 sequence,
        uint64 deviceTimestamp
    );
    event AbnormalReading(bytes32 indexed patient, address indexed device, uint256 recordId, uint8 reason);
    event EmrOpened(bytes32 indexed patient, address indexed hospital, bytes32 contentHash, uint64 version);
    event EmrTransferred(bytes32 indexed patient, address indexed from, address indexed to, uint64 version);
    event EmrUpdated(bytes32 indexed patient, address indexed custodian, bytes32 contentHash, uint64 version);

    // ---------------------------------------------------------------------
    // Modifiers
    // ---------------------------------------------------------------------

    modifier onlyAdmin() {
        require(msg.sender == admin, "MedicalRecords: caller is not admin");
        _;
    }

    modifier onlyAdminOrHospital() {
        require(msg.sender == admin || isHospital[msg.sender], "MedicalRecords: caller is not admin or hospital");
        _;
    }

    modifier onlyReader(bytes32 patient) {
        require(canRead(patient, msg.sender), "MedicalRecords: caller not authorized to read");
        _;
    }

    constructor() {
        admin = msg.sender;
    }

    // ---------------------------------------------------------------------
    // Roles
    // ---------------------------------------------------------------------

    /// @notice Register a hospital. Admin only.
    function addHospital(address hospital, string calldata name) external onlyAdmin {
        require(hospital != address(0), "MedicalRecords: zero address");
        require(!isHospital[hospital], "MedicalRecords: hospital already registered");
        isHospital[hospital] = true;
        hospitalName[hospital] = name;
        emit HospitalAdded(hospital, name);
    }

    /// @notice Register a doctor. A hospital caller becomes the doctor's hospital;
    ///         a doctor registered by the admin (who is not a hospital) has no hospital.
    function registerDoctor(address doctor) external onlyAdminOrHospital {
        require(doctor != address(0), "MedicalRecords: zero address");
        require(!isDoctor[doctor], "MedicalRecords: doctor already registered");
        address hospital = isHospital[msg.sender] ? msg.sender : address(0);
        isDoctor[doctor] = true;
        doctorHospital[doctor] = hospital;
        emit DoctorRegistered(doctor, hospital, msg.sender);
    }

    /// @notice Register (or re-register after revokeDevice) a device wallet bound to one patient.
    ///         The device's last accepted sequence number is preserved across re-registration.
    function registerDevice(address device, bytes32 patient) external onlyAdminOrHospital {
        require(device != address(0), "MedicalRecords: zero address");
        require(patient != bytes32(0), "MedicalRecords: zero patient id");
        Device storage d = devices[device];
        require(!d.active, "MedicalRecords: device already registered");
        d.patient = patient;
        d.active = true;
        emit DeviceRegistered(device, patient, msg.sender);
    }

    /// @notice Stop a device from writing (e.g. lost or compromised ESP32).
    function revokeDevice(address device) external onlyAdminOrHospital {
        Device storage d = devices[device];
        require(d.active, "MedicalRecords: device not registered");
        d.active = false;
        emit DeviceRevoked(device, d.patient, msg.sender);
    }

    /// @notice Bind a patient id to the patient's wallet. Once only.
    function registerPatient(bytes32 patient, address wallet) external onlyAdminOrHospital {
        require(patient != bytes32(0), "MedicalRecords: zero patient id");
        require(wallet != address(0), "MedicalRecords: zero address");
        require(patientWallet[patient] == address(0), "MedicalRecords: patient already registered");
        patientWallet[patient] = wallet;
        emit PatientRegistered(patient, wallet, msg.sender);
    }

    /// @notice Grant read access. For a doctor it is necessary but not sufficient
    ///         (consent or custody is also needed); for any other address it grants
    ///         read access to every patient's records.
    function authorizeUser(address user) external onlyAdminOrHospital {
        require(user != address(0), "MedicalRecords: zero address");
        require(!isAuthorized[user], "MedicalRecords: user already authorized");
        isAuthorized[user] = true;
        emit UserAuthorized(user, msg.sender);
    }

    function revokeUser(address user) external onlyAdminOrHospital {
        require(isAuthorized[user], "MedicalRecords: user not authorized");
        isAuthorized[user] = false;
        emit UserRevoked(user, msg.sender);
    }

    // ---------------------------------------------------------------------
    // Consent (called by the patient's registered wallet)
    // ---------------------------------------------------------------------

    function grantConsent(bytes32 patient, address doctor) external {
        require(
            patientWallet[patient] != address(0) && msg.sender == patientWallet[patient],
            "MedicalRecords: caller is not the patient"
        );
        require(isDoctor[doctor], "MedicalRecords: not a registered doctor");
        require(!hasConsent[patient][doctor], "MedicalRecords: consent already granted");
        hasConsent[patient][doctor] = true;
        emit ConsentGranted(patient, doctor);
    }

    function revokeConsent(bytes32 patient, address doctor) external {
        require(
            patientWallet[patient] != address(0) && msg.sender == patientWallet[patient],
            "MedicalRecords: caller is not the patient"
        );
        require(hasConsent[patient][doctor], "MedicalRecords: consent not granted");
        hasConsent[patient][doctor] = false;
        emit ConsentRevoked(patient, doctor);
    }

    // ---------------------------------------------------------------------
    // Device records
    // ---------------------------------------------------------------------

    /// @notice Append a reading. Only an active device, only for its bound patient,
    ///         and only with a sequence strictly greater than the device's previous one
    ///         (so a retried transaction can never write twice).
    /// @return recordId zero-based index of the record in the patient's list.
    function addMedicalRecord(
        bytes32 patient,
        uint16 heartRate,
        uint16 spo2,
        uint16 systolic,
        uint16 diastolic,
        int16 temperatureCentiC,
        uint64 deviceTimestamp,
        uint64 sequence
    ) external returns (uint256 recordId) {
        Device storage d = devices[msg.sender];
        require(d.active, "MedicalRecords: caller is not a registered device");
        require(d.patient == patient, "MedicalRecords: device not bound to this patient");
        require(sequence > d.lastSequence, "MedicalRecords: duplicate or stale sequence");
        d.lastSequence = sequence;

        Record[] storage list = _records[patient];
        recordId = list.length;
        list.push(
            Record({
                heartRate: heartRate,
                spo2: spo2,
                systolic: systolic,
                diastolic: diastolic,
                temperatureCentiC: temperatureCentiC,
                deviceTimestamp: deviceTimestamp,
                sequence: sequence,
                device: msg.sender,
                blockTimestamp: uint64(block.timestamp)
            })
        );
        emit RecordAdded(patient, msg.sender, recordId, sequence, deviceTimestamp);

        uint8 reason = abnormalReason(heartRate, spo2, systolic, temperatureCentiC);
        if (reason != 0) {
            emit AbnormalReading(patient, msg.sender, recordId, reason);
        }
    }

    /// @notice Bitmask of abnormal conditions for a reading; 0 = normal.
    function abnormalReason(
        uint16 heartRate,
        uint16 spo2,
        uint16 systolic,
        int16 temperatureCentiC
    ) public pure returns (uint8 reason) {
        if (heartRate < HEART_RATE_LOW) reason |= REASON_HEART_RATE_LOW;
        if (heartRate > HEART_RATE_HIGH) reason |= REASON_HEART_RATE_HIGH;
        if (spo2 < SPO2_LOW) reason |= REASON_SPO2_LOW;
        if (systolic > SYSTOLIC_HIGH) reason |= REASON_SYSTOLIC_HIGH;
        if (temperatureCentiC > TEMPERATURE_HIGH_CENTI_C) reason |= REASON_TEMPERATURE_HIGH;
    }

    /// @notice Page through a patient's records in insertion order.
    ///         offset >= count returns an empty array; limit is clipped to what remains.
    function getMedicalRecords(
        bytes32 patient,
        uint256 offset,
        uint256 limit
    ) external view onlyReader(patient) returns (Record[] memory page) {
        Record[] storage list = _records[patient];
        uint256 len = list.length;
        if (offset >= len) {
            return new Record[](0);
        }
        uint256 remaining = len - offset;
        if (limit > remaining) {
            limit = remaining;
        }
        page = new Record[](limit);
        for (uint256 i = 0; i < limit; ++i) {
            page[i] = list[offset + i];
        }
    }

    function medicalRecordCount(bytes32 patient) external view onlyReader(patient) returns (uint256) {
        return _records[patient].length;
    }

    /// @notice Whether `reader` may read `patient`'s records:
    ///         admin; the patient's own wallet; an authorized doctor who has the patient's
    ///         consent or whose hospital is the current custodian of the patient's EMR;
    ///         any other authorized address (global reader).
    function canRead(bytes32 patient, address reader) public view returns (bool) {
        if (reader == admin) return true;
        if (reader != address(0) && reader == patientWallet[patient]) return true;
        if (!isAuthorized[reader]) return false;
        if (!isDoctor[reader]) return true;
        if (hasConsent[patient][reader]) return true;
        address hospital = doctorHospital[reader];
        return hospital != address(0) && _emrs[patient].custodian == hospital;
    }

    // ---------------------------------------------------------------------
    // EMR custody
    // ---------------------------------------------------------------------

    /// @notice Create the EMR entry for a patient; `hospital` becomes custodian, version 1.
    ///         The admin may open for any hospital; a hospital only for itself.
    function openEmr(bytes32 patient, bytes32 contentHash, address hospital) external onlyAdminOrHospital {
        require(patient != bytes32(0), "MedicalRecords: zero patient id");
        require(isHospital[hospital], "MedicalRecords: not a registered hospital");
        require(msg.sender == admin || msg.sender == hospital, "MedicalRecords: hospital may only open for itself");
        require(contentHash != bytes32(0), "MedicalRecords: zero content hash");
        Emr storage e = _emrs[patient];
        require(e.version == 0, "MedicalRecords: EMR already exists");
        e.contentHash = contentHash;
        e.custodian = hospital;
        e.version = 1;
        emit EmrOpened(patient, hospital, contentHash, 1);
    }

    /// @notice Current EMR state; all zero (version 0) if none was opened. Readable by anyone.
    function queryEmr(bytes32 patient) external view returns (bytes32 contentHash, address custodian, uint64 version) {
        Emr storage e = _emrs[patient];
        return (e.contentHash, e.custodian, e.version);
    }

    /// @notice Move custody to another registered hospital. Current custodian only.
    function transferEmr(bytes32 patient, address toHospital) external {
        Emr storage e = _emrs[patient];
        require(e.version != 0, "MedicalRecords: EMR does not exist");
        require(msg.sender == e.custodian, "MedicalRecords: caller is not the custodian");
        require(isHospital[toHospital], "MedicalRecords: not a registered hospital");
        require(toHospital != msg.sender, "MedicalRecords: already the custodian");
        e.custodian = toHospital;
        emit EmrTransferred(patient, msg.sender, toHospital, e.version);
    }

    /// @notice Record a new version of the off-chain EMR document. Current custodian only.
    function updateEmr(bytes32 patient, bytes32 newContentHash) external {
        Emr storage e = _emrs[patient];
        require(e.version != 0, "MedicalRecords: EMR does not exist");
        require(msg.sender == e.custodian, "MedicalRecords: caller is not the custodian");
        require(newContentHash != bytes32(0), "MedicalRecords: zero content hash");
        uint64 version = e.version + 1;
        e.contentHash = newContentHash;
        e.version = version;
        emit EmrUpdated(patient, msg.sender, newContentHash, version);
    }
}
