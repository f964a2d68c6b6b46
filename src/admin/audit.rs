//! Admin → Audit log: every decision and admin action, filtered by who, what and which.

use askama::Template;
use axum::{extract::Query, http::StatusCode, response::Response};

use crate::{
    accounts::{
        guard::{Admin, StaffChrome},
        store as accounts_store,
    },
    audit::{
        Action, store,
        view::{AuditQuery, AuditRow, PAGE, older_href},
    },
    error::Result,
};

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: StaffChrome,
    rows: Vec<AuditRow>,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    target: String,
    older: Option<String>,
}

pub async fn show(Admin(page): Admin, Query(query): Query<AuditQuery>) -> Result<Response> {
    let filter = query.filter();
    let entries = store::list(&page.db, &filter, query.before(), PAGE + 1).await?;
    let older = (entries.len() as i64 > PAGE)
        .then(|| {
            entries
                .get(PAGE as usize - 1)
                .map(|last| older_href(last, &filter, query.target()))
        })
        .flatten();
    let tz = page.config.timezone;
    let rows = entries
        .iter()
        .take(PAGE as usize)
        .map(|e| AuditRow::new(e, tz))
        .collect();
    let actors = accounts_store::list_accounts(&page.db)
        .await?
        .into_iter()
        .map(|a| Choice {
            selected: filter.actor_id == Some(a.id),
            value: a.id.to_string(),
            label: a.display_name,
        })
        .collect();
    let actions = Action::ALL
        .into_iter()
        .map(|a| Choice {
            value: a.as_str().to_owned(),
            label: Action::describe(a.as_str()).to_owned(),
            selected: filter.action.as_deref() == Some(a.as_str()),
        })
        .collect();
    let target = query.target.clone().unwrap_or_default();
    let view = AuditPage {
        chrome: page.chrome().await?,
        rows,
        actors,
        actions,
        target,
        older,
    };
    Ok(page.render(StatusCode::OK, &view))
}
