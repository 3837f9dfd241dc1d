//! The local alarm thresholds a device is provisioned with (`alarms` in
//! its config file; the firmware's `medchain/alarm.hpp` evaluates them on
//! the device, with no network): a reading below a `_low` or above a
//! `_high` value raises the device's alarm. The defaults are issue 15's:
//! heart rate < 40 or > 130 /min, SpO2 < 90 %, systolic > 180 mmHg,
//! temperature > 39.0 °C.

use serde::{Deserialize, Serialize};

/// Thresholds; the firmware reads each field as optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceAlarms {
    /// Alarm below this heart rate (/min).
    pub heart_rate_low: u16,
    /// Alarm above this heart rate (/min).
    pub heart_rate_high: u16,
    /// Alarm below this oxygen saturation (%).
    pub spo2_low: u16,
    /// Alarm above this systolic pressure (mmHg); a reading without blood
    /// pressure (0) raises nothing.
    pub systolic_high: u16,
    /// Alarm above this temperature (°C).
    pub temperature_high_c: f64,
}

impl Default for DeviceAlarms {
    fn default() -> Self {
        DeviceAlarms {
            heart_rate_low: 40,
            heart_rate_high: 130,
            spo2_low: 90,
            systolic_high: 180,
            temperature_high_c: 39.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_issues_and_every_field_is_one_the_firmware_reads() {
        let v = serde_json::to_value(DeviceAlarms::default()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"heart_rate_low": 40, "heart_rate_high": 130, "spo2_low": 90,
                               "systolic_high": 180, "temperature_high_c": 39.0})
        );
        let parser = include_str!("../firmware/core/src/device_config.cpp");
        for f in v.as_object().unwrap().keys() {
            assert!(
                parser.contains(&format!("\"{f}\"")),
                "the firmware does not read alarms.{f}"
            );
        }
        let partial: DeviceAlarms = serde_json::from_str(r#"{"spo2_low": 92}"#).unwrap();
        assert_eq!((partial.spo2_low, partial.heart_rate_high), (92, 130));
    }
}
