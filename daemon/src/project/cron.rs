//! Cron schedules with standard 5-field crontab semantics (croner), described in words.

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

#[derive(Debug, Clone)]
pub struct CronSchedule {
    pub expression: String,
    cron: Cron,
}

/// Parses a 5-field crontab expression (minute hour day-of-month month day-of-week).
pub fn parse_cron(expression: &str) -> Result<CronSchedule, String> {
    let fields = expression.split_whitespace().count();
    if fields != 5 && !expression.trim_start().starts_with('@') {
        return Err(format!(
            "'{expression}' has {fields} field{}; a cron schedule has 5: minute hour day-of-month month day-of-week (e.g. '0 2 * * *' for 02:00 every day)",
            if fields == 1 { "" } else { "s" }
        ));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .build()
        .parse(expression)
        .map_err(|err| format!("'{expression}' is not a valid cron schedule: {err}"))?;
    Ok(CronSchedule {
        expression: expression.to_string(),
        cron,
    })
}

impl CronSchedule {
    /// The schedule in words, e.g. "At 02:00 every day".
    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    /// The first matching minute strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }

    /// Whether the schedule fires in the minute starting at `minute`.
    pub fn matches(&self, minute: DateTime<Utc>) -> bool {
        self.cron.is_time_matching(&minute).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crontab_semantics() {
        let daily = parse_cron("0 2 * * *").unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            daily.next_after(at).unwrap().to_rfc3339(),
            "2026-11-28T02:00:00+00:00"
        );
        // 0 and 7 are both Sunday; 2026-11-29 is a Sunday.
        let sunday = parse_cron("0 0 * * 0").unwrap();
        assert_eq!(
            sunday.next_after(at).unwrap().to_rfc3339(),
            "2026-11-29T00:00:00+00:00"
        );
        let sunday7 = parse_cron("0 0 * * 7").unwrap();
        assert_eq!(
            sunday7.next_after(at).unwrap().to_rfc3339(),
            "2026-11-29T00:00:00+00:00"
        );
    }

    #[test]
    fn bad_schedules_say_why() {
        assert!(parse_cron("0 0 * *").unwrap_err().contains("5"));
        assert!(parse_cron("0 0 0 * * *").unwrap_err().contains("6 fields"));
        assert!(parse_cron("61 * * * *").is_err());
    }

    #[test]
    fn described_in_words() {
        let text = parse_cron("0 2 * * *").unwrap().describe();
        assert!(
            text.contains("02:00") || text.to_lowercase().contains("2"),
            "{text}"
        );
    }
}
