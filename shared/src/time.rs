//! The one rule for times, in the TUI and every subcommand: local time (the zone from `TZ`
//! or the system's), named in the header of what shows it; or UTC with `--utc` or
//! `[tui] time = "utc"`. The date is shown when it is not today (in that zone); lists may
//! add relative times ("3m ago").

use chrono::{DateTime, Utc};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::sync::OnceLock;

static RULE: OnceLock<TimeRule> = OnceLock::new();

#[derive(Debug, Clone)]
pub struct TimeRule {
    zone: TimeZone,
}

/// Chooses the zone once: `--utc`, else `[tui] time` ("local" or "utc"), else local.
pub fn init(utc_flag: bool, configured: Option<&str>) -> Result<(), String> {
    let utc = utc_flag
        || match configured.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            None | Some("local") => false,
            Some("utc") => true,
            Some(other) => {
                return Err(format!(
                    "unknown [tui] time '{other}' in bolt.toml: use local or utc"
                ));
            }
        };
    let _ = RULE.set(TimeRule::new(utc));
    Ok(())
}

/// The rule chosen by [`init`]; local time if it was never called.
pub fn rule() -> &'static TimeRule {
    RULE.get_or_init(|| TimeRule::new(false))
}

impl TimeRule {
    pub fn new(utc: bool) -> TimeRule {
        TimeRule {
            zone: if utc {
                TimeZone::UTC
            } else {
                TimeZone::system()
            },
        }
    }

    /// In a given zone (tests).
    #[cfg(test)]
    pub fn in_zone(name: &str) -> TimeRule {
        TimeRule {
            zone: TimeZone::get(name).expect("a zone of the tz database"),
        }
    }

    fn zoned(&self, at: DateTime<Utc>) -> jiff::Zoned {
        let stamp =
            Timestamp::from_microsecond(at.timestamp_micros()).unwrap_or(Timestamp::UNIX_EPOCH);
        stamp.to_zoned(self.zone.clone())
    }

    /// The zone's name for headers: its abbreviation now ("CET", "UTC").
    pub fn zone_label(&self) -> String {
        self.zone_label_at(Utc::now())
    }

    /// The abbreviation in force at `at` (CET in winter, CEST in summer).
    pub fn zone_label_at(&self, at: DateTime<Utc>) -> String {
        self.zoned(at).strftime("%Z").to_string()
    }

    /// A time in a column whose header names the zone: "14:03:07" today, "2026-12-03
    /// 14:03:07" on another day.
    pub fn when(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let zoned = self.zoned(at);
        if zoned.date() == self.zoned(now).date() {
            zoned.strftime("%H:%M:%S").to_string()
        } else {
            zoned.strftime("%Y-%m-%d %H:%M:%S").to_string()
        }
    }

    /// The same to the minute, for narrow columns: "14:03" or "2026-12-03 14:03".
    pub fn when_short(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let zoned = self.zoned(at);
        if zoned.date() == self.zoned(now).date() {
            zoned.strftime("%H:%M").to_string()
        } else {
            zoned.strftime("%Y-%m-%d %H:%M").to_string()
        }
    }

    /// A compact form for the TUI's columns: "14:03:07" today, "Dec 03 14:03" otherwise.
    pub fn when_compact(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let zoned = self.zoned(at);
        if zoned.date() == self.zoned(now).date() {
            zoned.strftime("%H:%M:%S").to_string()
        } else {
            zoned.strftime("%b %d %H:%M").to_string()
        }
    }

    /// A time standing alone, with its date and zone: "2026-12-03 14:03:07 CET".
    pub fn stamp(&self, at: DateTime<Utc>) -> String {
        self.zoned(at).strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
    }

    /// `at` in this zone, by a strftime pattern ("%H:%M"), where a header or the screen
    /// names the zone.
    pub fn format(&self, at: DateTime<Utc>, pattern: &str) -> String {
        self.zoned(at).strftime(pattern).to_string()
    }

    /// The header label of a time column: "RECEIVED CET", or the zone alone ("CEST",
    /// "+0530") when both don't fit `width`.
    pub fn column_label(&self, name: &str, width: usize) -> String {
        let zone = self.zone_label();
        let label = format!("{name} {zone}");
        if label.chars().count() <= width {
            label
        } else {
            zone
        }
    }

    /// The time of day with milliseconds, for log lines under a header naming the zone.
    pub fn time_of_day_ms(&self, at: DateTime<Utc>) -> String {
        self.zoned(at).strftime("%H:%M:%S%.3f").to_string()
    }
}

/// "just now", "42s ago", "3m ago", "5h ago", "2d ago"; "in 3m" for times ahead.
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    let (amount, ahead) = (secs.unsigned_abs(), secs < 0);
    let span = match amount {
        0..=4 => return "just now".to_string(),
        5..=59 => format!("{amount}s"),
        60..=3599 => format!("{}m", amount / 60),
        3600..=172_799 => format!("{}h", amount / 3600),
        _ => format!("{}d", amount / 86_400),
    };
    if ahead {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 7)
            .single()
            .expect("a valid time")
    }

    #[test]
    fn local_times_name_their_zone_and_show_the_date_when_not_today() {
        let berlin = TimeRule::in_zone("Europe/Berlin");
        let now = utc(2026, 12, 4, 12, 0);
        assert_eq!(berlin.when(utc(2026, 12, 4, 9, 30), now), "10:30:07");
        assert_eq!(
            berlin.when(utc(2026, 12, 3, 9, 30), now),
            "2026-12-03 10:30:07"
        );
        // 23:30 UTC is already tomorrow in Berlin: not today any more.
        assert_eq!(
            berlin.when(utc(2026, 12, 4, 23, 30), now),
            "2026-12-05 00:30:07"
        );
        assert_eq!(berlin.zone_label_at(now), "CET");
        assert_eq!(berlin.zone_label_at(utc(2026, 7, 1, 0, 0)), "CEST");
        assert_eq!(
            berlin.stamp(utc(2026, 7, 1, 0, 0)),
            "2026-07-01 02:00:07 CEST"
        );
        let rule = TimeRule::new(true);
        assert_eq!(rule.zone_label_at(now), "UTC");
        assert_eq!(rule.when(utc(2026, 12, 4, 9, 30), now), "09:30:07");
        assert_eq!(
            rule.when_compact(utc(2026, 12, 1, 9, 30), now),
            "Dec 01 09:30"
        );
    }

    #[test]
    fn relative_times_read_like_speech() {
        let now = utc(2026, 12, 4, 12, 0);
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now - chrono::Duration::seconds(42), now), "42s ago");
        assert_eq!(ago(now - chrono::Duration::minutes(3), now), "3m ago");
        assert_eq!(ago(now - chrono::Duration::hours(5), now), "5h ago");
        assert_eq!(ago(now - chrono::Duration::days(3), now), "3d ago");
        assert_eq!(ago(now + chrono::Duration::minutes(15), now), "in 15m");
    }

    #[test]
    fn unknown_settings_are_refused_in_words() {
        let err = init(false, Some("martian")).unwrap_err();
        assert!(err.contains("use local or utc"), "{err}");
    }
}
