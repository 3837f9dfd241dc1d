//! Wall-clock time as UTC calendar fields, for the access log and
//! certificate validity (no time-zone database needed).

use std::time::{Duration, SystemTime};

/// A UTC date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Seconds into the day.
    pub secs: u32,
    /// Milliseconds into the second.
    pub millis: u32,
}

impl Utc {
    /// `t` in UTC (times before 1970 read as 1970).
    pub fn of(t: SystemTime) -> Utc {
        let d = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let days = (d.as_secs() / 86_400) as i64;
        // Howard Hinnant's days-to-civil.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Utc {
            year,
            month,
            day,
            secs: (d.as_secs() % 86_400) as u32,
            millis: d.subsec_millis(),
        }
    }

    /// Now.
    pub fn now() -> Utc {
        Utc::of(SystemTime::now())
    }

    /// RFC 3339 with milliseconds: `2026-12-05T07:30:00.123Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year,
            self.month,
            self.day,
            self.secs / 3600,
            self.secs / 60 % 60,
            self.secs % 60,
            self.millis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        let at = |s: u64| Utc::of(SystemTime::UNIX_EPOCH + Duration::from_millis(s)).rfc3339();
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(1_796_456_400_123), "2026-12-05T07:40:00.123Z");
        assert_eq!(at(4_102_444_799_000), "2099-12-31T23:59:59.000Z");
    }
}
