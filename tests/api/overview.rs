//! The admin overview: every figure in its tables and its CSV file, from comments, replies and
//! audit entries made at known times; and only admins see it.

use carethread::{
    accounts::Role,
    comments::CommentStatus::{self, Hidden, Pending, Published, Spam},
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use reqwest::{StatusCode, header};

use crate::helpers::{TestApp, location, position};

/// Monday 00:00 UTC of the week `now` is in.
fn this_monday(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.date_naive();
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    monday.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn label(week: DateTime<Utc>) -> String {
    week.format("%-d %b %Y").to_string()
}

/// The cells of the row for `week` in the table captioned `caption`.
fn table_row(html: &str, caption: &str, week: &str) -> Vec<String> {
    let table = &html[position(html, &format!("<caption>{caption}</caption>"))..];
    let table = &table[..position(table, "</table>")];
    let row = &table[position(table, &format!("<th scope=\"row\">{week}</th>"))..];
    let row = &row[..position(row, "</tr>")];
    row.split("<td>")
        .skip(1)
        .map(|cell| cell.split("</td>").next().unwrap_or("").to_owned())
        .collect()
}

struct Setup {
    app: TestApp,
    article: i64,
    staff: i64,
}

impl Setup {
    async fn comment(&self, parent: Option<i64>, status: CommentStatus, at: DateTime<Utc>) -> i64 {
        self.app
            .add_comment_at(self.article, parent, "Robin", "A comment", status, at)
            .await
    }

    async fn staff_reply(&self, parent: i64, at: DateTime<Utc>) -> i64 {
        let id = self.comment(Some(parent), Published, at).await;
        self.by_staff(
            "UPDATE comments SET author_kind = 'staff', author_user_id = $2, body_html = '<p>An answer</p>',
                    disclaimer = 'General information.' WHERE id = $1",
            id,
        )
        .await;
        id
    }

    /// Runs `sql` with comment `id` as `$1` and the member of staff as `$2`.
    async fn by_staff(&self, sql: &str, id: i64) {
        sqlx::query(sql)
            .bind(id)
            .bind(self.staff)
            .execute(&self.app.db)
            .await
            .unwrap();
    }

    /// Runs `sql` with comment `id` as `$1`.
    async fn on(&self, sql: &str, id: i64) {
        sqlx::query(sql).bind(id).execute(&self.app.db).await.unwrap();
    }

    async fn urgent(&self, id: i64) {
        self.on(
            "UPDATE comments SET urgent = true, urgent_signs = '{heavy bleeding}' WHERE id = $1",
            id,
        )
        .await;
    }

    async fn audit(&self, actor: Option<i64>, action: &str, comment: i64, at: DateTime<Utc>) {
        sqlx::query("INSERT INTO audit_log (actor_id, action, target_type, target_id, at) VALUES ($1, $2, 'comment', $3, $4)")
            .bind(actor)
            .bind(action)
            .bind(comment)
            .bind(at)
            .execute(&self.app.db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn every_figure_in_the_tables_and_the_file_is_true() {
    let app = TestApp::spawn_with(|c| c.answer_target = Duration::hours(2)).await;
    let article = app.add_article("a", "A").await;
    let staff = app.create_staff("Mia", Role::Midwife, true).await;
    let s = Setup { app, article, staff };
    let monday = this_monday(Utc::now());
    let last = monday - Duration::weeks(1);
    let empty = monday - Duration::weeks(2);
    let earlier = monday - Duration::weeks(3);
    let h = Duration::hours;
    let m = Duration::minutes;

    // Last week: six questions. Four answered after 1, 2, 4 and 10 hours (the first staff reply
    // counts, a reader's reply does not), one never answered, one marked as needing no reply.
    let mut questions = Vec::new();
    for (i, answer_after) in [Some(1), Some(2), Some(4), Some(10), None, None]
        .into_iter()
        .enumerate()
    {
        let posted = last + h(i as i64 + 1);
        let question = s.comment(None, Published, posted).await;
        if let Some(hours) = answer_after {
            s.staff_reply(question, posted + h(hours)).await;
        }
        questions.push(question);
    }
    s.staff_reply(questions[1], last + h(22)).await;
    s.comment(Some(questions[2]), Published, last + h(3) + m(30))
        .await;
    s.by_staff(
        "UPDATE comments SET no_reply_needed_at = created_at + interval '1 hour', no_reply_needed_by = $2 WHERE id = $1",
        questions[5],
    )
    .await;
    // Not questions: one waiting for moderation.
    s.comment(None, Pending, last + h(1)).await;

    // Urgent comments: one first acted on after 10 minutes (then hidden), one first answered after
    // 30 minutes, one not seen by staff (an entry without a member of staff does not count).
    let first = s.comment(None, Hidden, last + h(30)).await;
    s.urgent(first).await;
    s.audit(Some(staff), "comment.approved", first, last + h(30) + m(10))
        .await;
    s.audit(Some(staff), "comment.hidden", first, last + h(32)).await;
    let second = s.comment(Some(questions[4]), Pending, last + h(31)).await;
    s.urgent(second).await;
    let reply = s.staff_reply(second, last + h(31) + m(30)).await;
    s.audit(Some(staff), "comment.replied", reply, last + h(31) + m(30))
        .await;
    let unseen = s.comment(None, Pending, last + h(33)).await;
    s.urgent(unseen).await;
    s.audit(None, "comment.edited", unseen, last + h(33) + m(1)).await;

    // Spam: two caught (one since hidden), one released as not spam.
    let caught = s.comment(None, Spam, last + h(40)).await;
    let hidden_spam = s.comment(None, Hidden, last + h(41)).await;
    s.comment(None, Pending, last + h(42)).await;
    for id in [caught, hidden_spam] {
        s.on(
            "UPDATE comments SET spam_reason = 'repeated text' WHERE id = $1",
            id,
        )
        .await;
    }

    // Three weeks ago: one question answered after 90 minutes, one comment hidden.
    let old = s.comment(None, Published, earlier + h(24)).await;
    s.staff_reply(old, earlier + h(25) + m(30)).await;
    s.comment(None, Hidden, earlier + h(26)).await;

    // Thirteen weeks ago: outside the range.
    s.comment(None, Published, monday - Duration::weeks(12) - h(1))
        .await;
    s.comment(None, Spam, monday - Duration::weeks(12) - h(1)).await;

    let admin = s.app.staff("Ada", Role::Admin, true).await;
    let response = s.app.get_as(&admin.client, "/admin").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    for link in [
        "/admin/accounts",
        "/admin/articles",
        "/admin/audit",
        "/admin/overview.csv",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(html.contains("Weeks start on Monday at 00:00 UTC"));
    assert!(html.contains("It is first seen when a member of staff first acts on it"));
    assert_eq!(html.matches("role=\"img\"").count(), 5);
    assert_eq!(html.matches("<tbody>").count(), 5);

    let (l, e, t) = (label(last), label(empty), label(earlier));
    let row = |caption: &str, week: &str| table_row(&html, caption, week);
    assert_eq!(row("Questions per week", &l), ["6", "4", "2"]);
    assert_eq!(row("Questions per week", &e), ["0", "0", "0"]);
    assert_eq!(row("Questions per week", &t), ["1", "1", "0"]);
    assert_eq!(row("Time to first answer per week", &l), ["4", "3.0 h", "8.2 h"]);
    assert_eq!(row("Time to first answer per week", &e), ["0", "none", "none"]);
    assert_eq!(row("Time to first answer per week", &t), ["1", "1.5 h", "1.5 h"]);
    let within = "Questions answered within 2 hours per week";
    assert_eq!(row(within, &l), ["2", "5", "40%"]);
    assert_eq!(row(within, &e), ["0", "0", "none"]);
    assert_eq!(row(within, &t), ["1", "1", "100%"]);
    let urgent = "Urgent comments per week and time until first seen";
    assert_eq!(row(urgent, &l), ["3", "2", "20 min", "28 min"]);
    assert_eq!(row(urgent, &e), ["0", "0", "none", "none"]);
    let cleanup = "Spam caught and comments hidden per week";
    assert_eq!(row(cleanup, &l), ["2", "1"]);
    assert_eq!(row(cleanup, &e), ["0", "0"]);
    assert_eq!(row(cleanup, &t), ["0", "1"]);
    assert_eq!(html.matches(&format!("<th scope=\"row\">{l}</th>")).count(), 5);

    let response = s.app.get_as(&admin.client, "/admin/overview.csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"carethread-overview-"),
        "{disposition}"
    );
    let file = response.text().await.unwrap();
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 13, "a header and twelve weeks:\n{file}");
    assert!(lines[0].starts_with("week_starting_utc,questions,answered,"));
    let day = |w: DateTime<Utc>| w.format("%Y-%m-%d").to_string();
    let first_week: NaiveDate = (monday - Duration::weeks(11)).date_naive();
    assert_eq!(lines[1], format!("{first_week},0,0,,,0,0,,0,0,,,0,0"));
    assert_eq!(
        lines[9],
        format!("{},1,1,1.50,1.50,1,1,100,0,0,,,0,1", day(earlier))
    );
    assert_eq!(lines[10], format!("{},0,0,,,0,0,,0,0,,,0,0", day(empty)));
    assert_eq!(
        lines[11],
        format!("{},6,4,3.00,8.20,2,5,40,3,2,20.00,28.00,2,1", day(last))
    );
    assert_eq!(lines[12], format!("{},0,0,,,0,0,,0,0,,,0,0", day(monday)));
    assert!(!file.contains("Robin") && !file.contains("example.org"));
}

#[tokio::test]
async fn only_admins_see_the_overview_and_its_file() {
    let app = TestApp::spawn().await;
    let moderator = app.staff("Morgan", Role::Moderator, true).await;
    let midwife = app.staff("Mia", Role::Midwife, true).await;
    for path in ["/admin", "/admin/overview.csv"] {
        for (who, client) in [("moderator", &moderator.client), ("midwife", &midwife.client)] {
            let response = app.get_as(client, path).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{who} {path}");
            let body = response.text().await.unwrap();
            assert!(body.contains("This page is for admins."), "{who} {path}");
            assert!(!body.contains("week_starting_utc"), "{who} {path}");
        }
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&response).starts_with("/login"), "{path}");
    }
}
