//! Admin → Audit log: every decision and admin action, filtered by who, what and which.

use askama::Template;
use axum::{extract::Query, http::StatusCode, response::Response};

use crate::{
    accounts::{
        guard::{Admin, StaffChrome, StaffPage},
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
    let view = AuditPage {
        chrome: page.chrome().await?,
        rows: entries
            .iter()
            .take(PAGE as usize)
            .map(|e| AuditRow::new(e, tz))
            .collect(),
        actors: actor_choices(&page, filter.actor_id).await?,
        actions: action_choices(filter.action.as_deref()),
        target: query.target.clone().unwrap_or_default(),
        older,
    };
    Ok(page.render(StatusCode::OK, &view))
}

async fn actor_choices(page: &StaffPage, selected: Option<i64>) -> Result<Vec<Choice>> {
    Ok(accounts_store::list_accounts(&page.db)
        .await?
        .into_iter()
        .map(|a| Choice {
            selected: selected == Some(a.id),
            value: a.id.to_string(),
            label: a.display_name,
        })
        .collect())
}

fn action_choices(selected: Option<&str>) -> Vec<Choice> {
    Action::ALL
        .into_iter()
        .map(|a| Choice {
            value: a.as_str().to_owned(),
            label: Action::describe(a.as_str()).to_owned(),
            selected: selected == Some(a.as_str()),
        })
        .collect()
}
