//! Time arguments as people type them: `2h`, `7d`, `30m`, or an RFC 3339 date.

use chrono::{DateTime, NaiveDate, Utc};

/// Parses `T` of `--since T` / `--until T`: a duration back from `now` or an absolute time.
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    let span = humantime::parse_duration(text).map_err(|_| {
        format!(
            "cannot read the time '{text}': use a duration back from now such as 30m, 2h or 7d, \
             or a date such as 2026-11-27 or 2026-11-27T10:00:00Z"
        )
    })?;
    let span = chrono::Duration::from_std(span)
        .map_err(|_| format!("the duration '{text}' is too long"))?;
    Ok(now - span)
}

/// "<1ms", "12ms", "3.2s", "41s", "2m 05s", "1h 04m": short enough for a table column.
/// Durations are kept in whole milliseconds, so 0 means under one (not "took no time").
pub fn format_duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms == 0 {
        "<1ms".to_string()
    } else if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 10_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 60_000 {
        format!("{}s", ms / 1000)
    } else if ms < 3_600_000 {
        format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h {:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn durations_count_back_from_now() {
        assert_eq!(
            parse_time("2h", now()).unwrap().to_rfc3339(),
            "2026-11-27T10:00:00+00:00"
        );
        assert_eq!(
            parse_time("7d", now()).unwrap().to_rfc3339(),
            "2026-11-20T12:00:00+00:00"
        );
    }

    #[test]
    fn dates_are_absolute() {
        assert_eq!(
            parse_time("2026-11-01", now()).unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-11-01T08:30:00+01:00", now())
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T07:30:00+00:00"
        );
    }

    #[test]
    fn nonsense_says_what_to_type() {
        let err = parse_time("yesterday-ish", now()).unwrap_err();
        assert!(err.contains("2h"), "{err}");
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration_ms(0), "<1ms");
        assert_eq!(format_duration_ms(12), "12ms");
        assert_eq!(format_duration_ms(3_200), "3.2s");
        assert_eq!(format_duration_ms(125_000), "2m 05s");
    }
}
