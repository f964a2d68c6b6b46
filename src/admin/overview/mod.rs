//! `/admin`: the links to every admin page, and the last twelve weeks at a glance — questions and
//! how soon they were answered, urgent comments and how soon staff first saw them, spam caught
//! and comments hidden — as charts drawn on the server, tables, and a CSV file of the same figures.

mod chart;
mod figures;
mod store;

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;

use self::{
    chart::{Chart, Series},
    figures::{Week, duration_text, week_label},
};
use crate::{
    accounts::guard::{Admin, StaffChrome},
    error::Result,
};

/// A table of figures, one row per week, for screen readers and anyone who wants the numbers.
pub struct Table {
    pub caption: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<(String, Vec<String>)>,
}

/// One part of the page: a heading, a sentence saying what is counted, a chart and its table.
pub struct Section {
    pub heading: String,
    pub note: String,
    pub chart: Chart,
    pub table: Table,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    chrome: StaffChrome,
    sections: Vec<Section>,
}

pub async fn show(Admin(page): Admin) -> Result<Response> {
    let weeks = figures::load(&page.db, Utc::now(), page.config.answer_target).await?;
    let view = OverviewPage {
        chrome: page.chrome().await?,
        sections: sections(&weeks, page.config.answer_target.num_hours()),
    };
    Ok(page.render(StatusCode::OK, &view))
}

/// The same figures as a CSV file.
pub async fn csv(Admin(page): Admin) -> Result<Response> {
    let now = Utc::now();
    let weeks = figures::load(&page.db, now, page.config.answer_target).await?;
    let disposition = format!(
        "attachment; filename=\"carethread-overview-{}.csv\"",
        now.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        figures::csv(&weeks),
    )
        .into_response())
}

fn time_or_none(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "none".to_owned(), duration_text)
}

fn rows(weeks: &[Week], cells: impl Fn(&Week) -> Vec<String>) -> Vec<(String, Vec<String>)> {
    weeks.iter().map(|w| (week_label(w.start), cells(w))).collect()
}

fn hours(v: f64) -> String {
    format!("{v} h")
}

fn minutes(v: f64) -> String {
    format!("{v} min")
}

/// The page's sections, in the order an admin reads them.
fn sections(weeks: &[Week], target_hours: i64) -> Vec<Section> {
    let starts: Vec<_> = weeks.iter().map(|w| w.start).collect();
    let values = |f: fn(&Week) -> Option<f64>| weeks.iter().map(f).collect::<Vec<_>>();
    let as_hours = |s: Option<f64>| s.map(|s| s / 3600.0);
    let as_minutes = |s: Option<f64>| s.map(|s| s / 60.0);
    vec![
        Section {
            heading: "Questions".into(),
            note: "A question is a guest's top-level comment that was published.".into(),
            chart: chart::bars(
                "questions",
                "Questions per week".into(),
                &starts,
                vec![Series {
                    name: "Questions",
                    values: values(|w| Some(w.questions as f64)),
                }],
                None,
                true,
                |v| format!("{v}"),
            ),
            table: Table {
                caption: "Questions per week".into(),
                headers: vec!["Questions", "Answered", "Not answered"],
                rows: rows(weeks, |w| {
                    vec![
                        w.questions.to_string(),
                        w.answered.to_string(),
                        (w.questions - w.answered).to_string(),
                    ]
                }),
            },
        },
        Section {
            heading: "Time to first answer".into(),
            note: "From the question being posted to the first published staff reply under it. \
                   Questions not answered yet are not in these times."
                .into(),
            chart: chart::bars(
                "answer-time",
                "Hours to first answer: median and 90th percentile".into(),
                &starts,
                vec![
                    Series {
                        name: "Median",
                        values: weeks.iter().map(|w| as_hours(w.median_answer)).collect(),
                    },
                    Series {
                        name: "90th percentile",
                        values: weeks.iter().map(|w| as_hours(w.p90_answer)).collect(),
                    },
                ],
                None,
                false,
                hours,
            ),
            table: Table {
                caption: "Time to first answer per week".into(),
                headers: vec!["Answered", "Median", "90th percentile"],
                rows: rows(weeks, |w| {
                    vec![
                        w.answered.to_string(),
                        time_or_none(w.median_answer),
                        time_or_none(w.p90_answer),
                    ]
                }),
            },
        },
        Section {
            heading: format!("Answered within {target_hours} hours"),
            note: format!(
                "The share of questions answered within the target of {target_hours} hours. \
                 It counts questions that were answered, or that have waited longer than that; \
                 a question marked as needing no reply counts only if it was answered."
            ),
            chart: chart::bars(
                "within-target",
                format!("Share of questions answered within {target_hours} hours"),
                &starts,
                vec![Series {
                    name: "Share within target",
                    values: weeks
                        .iter()
                        .map(|w| w.share_within_target().map(|p| p as f64))
                        .collect(),
                }],
                Some(100.0),
                false,
                |v| format!("{v}%"),
            ),
            table: Table {
                caption: format!("Questions answered within {target_hours} hours per week"),
                headers: vec!["Within target", "Counted", "Share"],
                rows: rows(weeks, |w| {
                    vec![
                        w.within_target.to_string(),
                        w.counted.to_string(),
                        w.share_within_target()
                            .map_or_else(|| "none".to_owned(), |p| format!("{p}%")),
                    ]
                }),
            },
        },
        Section {
            heading: "Urgent comments".into(),
            note: "An urgent comment is a guest's comment that mentions a warning sign. \
                   It is first seen when a member of staff first acts on it (approves, hides, \
                   edits, replies to or releases it from spam, as the audit log records); \
                   only opening it is not recorded."
                .into(),
            chart: chart::bars(
                "urgent-seen",
                "Minutes until urgent comments were first seen: median and 90th percentile".into(),
                &starts,
                vec![
                    Series {
                        name: "Median",
                        values: weeks.iter().map(|w| as_minutes(w.median_seen)).collect(),
                    },
                    Series {
                        name: "90th percentile",
                        values: weeks.iter().map(|w| as_minutes(w.p90_seen)).collect(),
                    },
                ],
                None,
                false,
                minutes,
            ),
            table: Table {
                caption: "Urgent comments per week and time until first seen".into(),
                headers: vec!["Urgent", "Seen", "Median", "90th percentile"],
                rows: rows(weeks, |w| {
                    vec![
                        w.urgent.to_string(),
                        w.urgent_seen.to_string(),
                        time_or_none(w.median_seen),
                        time_or_none(w.p90_seen),
                    ]
                }),
            },
        },
        Section {
            heading: "Spam and hidden comments".into(),
            note: "Spam caught: comments the spam checks set aside that nobody released. \
                   Hidden: comments a moderator hid, spam not counted again."
                .into(),
            chart: chart::bars(
                "cleanup",
                "Spam caught and comments hidden per week".into(),
                &starts,
                vec![
                    Series {
                        name: "Spam caught",
                        values: values(|w| Some(w.spam as f64)),
                    },
                    Series {
                        name: "Hidden",
                        values: values(|w| Some(w.hidden as f64)),
                    },
                ],
                None,
                true,
                |v| format!("{v}"),
            ),
            table: Table {
                caption: "Spam caught and comments hidden per week".into(),
                headers: vec!["Spam caught", "Hidden"],
                rows: rows(weeks, |w| vec![w.spam.to_string(), w.hidden.to_string()]),
            },
        },
    ]
}
