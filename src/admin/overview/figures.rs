//! The overview's figures, one [`Week`] per week shown: what the store read, with every week in
//! the range present even when nothing happened in it.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use sqlx::PgPool;

use super::store;

/// How many weeks the overview shows, this one included.
pub const WEEKS: u64 = 12;

/// One week's figures. Times are in seconds; `None` where there is nothing to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// The Monday the week starts on (00:00 UTC).
    pub start: NaiveDate,
    pub questions: i64,
    pub answered: i64,
    pub median_answer: Option<f64>,
    pub p90_answer: Option<f64>,
    pub within_target: i64,
    /// Questions the share counts: answered, or waiting past the target.
    pub counted: i64,
    pub urgent: i64,
    pub urgent_seen: i64,
    pub median_seen: Option<f64>,
    pub p90_seen: Option<f64>,
    pub spam: i64,
    pub hidden: i64,
}

impl Week {
    fn empty(start: NaiveDate) -> Self {
        Self {
            start,
            questions: 0,
            answered: 0,
            median_answer: None,
            p90_answer: None,
            within_target: 0,
            counted: 0,
            urgent: 0,
            urgent_seen: 0,
            median_seen: None,
            p90_seen: None,
            spam: 0,
            hidden: 0,
        }
    }

    /// The share answered within the target, in whole percent; `None` when no question counts.
    pub fn share_within_target(&self) -> Option<i64> {
        (self.counted > 0).then(|| (self.within_target * 100 + self.counted / 2) / self.counted)
    }
}

/// The Mondays of the weeks shown, oldest first, the last being the week `now` is in.
pub fn week_starts(now: DateTime<Utc>) -> Vec<NaiveDate> {
    let today = now.date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    (0..WEEKS)
        .rev()
        .filter_map(|back| monday.checked_sub_days(Days::new(back * 7)))
        .collect()
}

/// The figures for the weeks up to the one `now` is in, with `target` the answer target.
pub async fn load(db: &PgPool, now: DateTime<Utc>, target: chrono::Duration) -> sqlx::Result<Vec<Week>> {
    let starts = week_starts(now);
    let since = starts
        .first()
        .map_or(now, |d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    let target_seconds = target.num_seconds() as f64;
    let questions = store::questions(db, since, now - target, target_seconds).await?;
    let urgent = store::urgent(db, since).await?;
    let cleanup = store::cleanup(db, since).await?;
    Ok(assemble(starts, questions, urgent, cleanup))
}

/// One [`Week`] per start, filled from the rows the store read; weeks without rows stay empty.
fn assemble(
    starts: Vec<NaiveDate>,
    questions: Vec<store::QuestionWeek>,
    urgent: Vec<store::UrgentWeek>,
    cleanup: Vec<store::CleanupWeek>,
) -> Vec<Week> {
    let mut weeks: Vec<Week> = starts.into_iter().map(Week::empty).collect();
    // Each row names its week; one outside the range (the clock moved between reads) is dropped.
    for row in questions {
        if let Some(week) = week_of(&mut weeks, row.week) {
            week.questions = row.questions;
            week.answered = row.answered;
            week.median_answer = row.median_seconds;
            week.p90_answer = row.p90_seconds;
            week.within_target = row.within_target;
            week.counted = row.counted;
        }
    }
    for row in urgent {
        if let Some(week) = week_of(&mut weeks, row.week) {
            week.urgent = row.urgent;
            week.urgent_seen = row.seen;
            week.median_seen = row.median_seconds;
            week.p90_seen = row.p90_seconds;
        }
    }
    for row in cleanup {
        if let Some(week) = week_of(&mut weeks, row.week) {
            week.spam = row.spam;
            week.hidden = row.hidden;
        }
    }
    weeks
}

fn week_of(weeks: &mut [Week], at: DateTime<Utc>) -> Option<&mut Week> {
    let start = at.date_naive();
    weeks.iter_mut().find(|w| w.start == start)
}

/// A time in words short enough for a table cell: minutes under an hour, hours under two days,
/// then days, with one decimal.
pub fn duration_text(seconds: f64) -> String {
    let minutes = seconds / 60.0;
    if minutes < 59.5 {
        format!("{} min", minutes.round() as i64)
    } else if seconds < 48.0 * 3600.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} days", seconds / 86400.0)
    }
}

/// "3 Nov 2026", the week's label in tables and the file.
pub fn week_label(start: NaiveDate) -> String {
    start.format("%-d %b %Y").to_string()
}

/// The figures as CSV: one row per week, counts and times only (nothing about any person).
/// Times are in hours for answers and minutes for urgent comments, two decimals; an empty field
/// means there was nothing to measure.
pub fn csv(weeks: &[Week]) -> String {
    let mut out = String::from(
        "week_starting_utc,questions,answered,median_hours_to_first_answer,p90_hours_to_first_answer,\
         answered_within_target,counted_for_target,share_within_target_percent,urgent,urgent_seen,\
         median_minutes_to_first_seen,p90_minutes_to_first_seen,spam_caught,hidden\n",
    );
    let hours = |s: Option<f64>| s.map_or(String::new(), |s| format!("{:.2}", s / 3600.0));
    let minutes = |s: Option<f64>| s.map_or(String::new(), |s| format!("{:.2}", s / 60.0));
    for w in weeks {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            w.start.format("%Y-%m-%d"),
            w.questions,
            w.answered,
            hours(w.median_answer),
            hours(w.p90_answer),
            w.within_target,
            w.counted,
            w.share_within_target().map_or(String::new(), |p| p.to_string()),
            w.urgent,
            w.urgent_seen,
            minutes(w.median_seen),
            minutes(w.p90_seen),
            w.spam,
            w.hidden,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn weeks_start_on_monday_in_utc_and_end_with_this_one() {
        // Sunday 23:30 UTC is still the week that began on Monday the 23rd.
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 23, 30, 0).unwrap();
        let starts = week_starts(now);
        assert_eq!(starts.len(), 12);
        assert_eq!(starts.last(), NaiveDate::from_ymd_opt(2026, 11, 23).as_ref());
        assert_eq!(starts.first(), NaiveDate::from_ymd_opt(2026, 9, 7).as_ref());
        let monday = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        assert_eq!(
            week_starts(monday).last(),
            NaiveDate::from_ymd_opt(2026, 11, 30).as_ref()
        );
    }

    #[test]
    fn times_read_in_minutes_hours_or_days() {
        assert_eq!(duration_text(20.0 * 60.0), "20 min");
        assert_eq!(duration_text(3.0 * 3600.0), "3.0 h");
        assert_eq!(duration_text(8.2 * 3600.0), "8.2 h");
        assert_eq!(duration_text(72.0 * 3600.0), "3.0 days");
    }

    #[test]
    fn the_share_rounds_to_whole_percent_and_is_blank_with_nothing_to_count() {
        let mut week = Week::empty(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(week.share_within_target(), None);
        week.within_target = 2;
        week.counted = 3;
        assert_eq!(week.share_within_target(), Some(67));
    }

    #[test]
    fn an_empty_week_is_zeros_and_blanks_in_the_file() {
        let week = Week::empty(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        let file = csv(&[week]);
        assert_eq!(file.lines().nth(1), Some("2026-11-23,0,0,,,0,0,,0,0,,,0,0"));
    }
}
