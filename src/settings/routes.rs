//! `/admin/settings`: the site settings page, for admins.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Router,
    extract::FromRef,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_csrf::CsrfConfig;
use sqlx::PgPool;

use super::{
    Field, SiteText,
    service::{self, Saved},
};
use crate::{
    accounts::guard::{Admin, StaffChrome, StaffPage},
    config::Config,
    error::Result,
    web::form::CsrfForm,
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    std::sync::Arc<Config>: FromRef<S>,
{
    Router::new().route("/admin/settings", get(show).post(save))
}

/// The settings in groups, as the page shows them.
const GROUPS: [(&str, &[Field]); 3] = [
    ("Your organisation", &[Field::Organisation, Field::Notice]),
    (
        "Midwives' replies",
        &[Field::StaffLabel, Field::VerifiedBadge, Field::Disclaimer],
    ),
    (
        "Safety messages",
        &[
            Field::SafetyMessage,
            Field::Safety(crate::safety::triage::Category::Emergency999),
            Field::Safety(crate::safety::triage::Category::UrgentCare),
            Field::Safety(crate::safety::triage::Category::MentalHealth),
            Field::Safety(crate::safety::triage::Category::DomesticAbuse),
        ],
    ),
];

/// One setting on the page.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub problem: Option<String>,
    pub line: bool,
    /// Where the value shown now comes from, when it is not from this page.
    pub source: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "settings/edit.html")]
struct SettingsPage {
    chrome: StaffChrome,
    groups: Vec<(&'static str, Vec<FieldView>)>,
    /// Each problem: the field's name (its input's id) and what is wrong.
    problems: Vec<(&'static str, String)>,
    disclaimer_version: Option<i64>,
}

impl SettingsPage {
    /// The page with `value` for each field and `problems` beside theirs.
    fn build(
        chrome: StaffChrome,
        (now, starting): (&SiteText, &SiteText),
        value: impl Fn(Field) -> String,
        problems: &[(Field, String)],
    ) -> Self {
        let groups = GROUPS
            .iter()
            .map(|(legend, fields)| {
                let views = fields
                    .iter()
                    .map(|&field| FieldView {
                        name: field.name(),
                        label: field.label(),
                        hint: field.hint(),
                        value: value(field),
                        problem: problems.iter().find(|(f, _)| *f == field).map(|(_, p)| p.clone()),
                        line: field.is_line(),
                        source: (now.value(field) == starting.value(field)).then(|| field.source()),
                    })
                    .collect();
                (*legend, views)
            })
            .collect();
        Self {
            chrome,
            groups,
            problems: problems.iter().map(|(f, p)| (f.name(), p.clone())).collect(),
            disclaimer_version: now.disclaimer_version,
        }
    }
}

async fn settings_page(
    page: &StaffPage,
    status: StatusCode,
    typed: Option<&HashMap<String, String>>,
    problems: &[(Field, String)],
) -> Result<Response> {
    let now = service::read(&page.db, &page.config).await?;
    let starting = SiteText::starting(&page.config);
    let value = |field: Field| match typed {
        Some(typed) => typed.get(field.name()).cloned().unwrap_or_default(),
        None => now.value(field).to_owned(),
    };
    let view = SettingsPage::build(page.chrome().await?, (&now, &starting), value, problems);
    Ok(page.render(status, &view))
}

pub async fn show(Admin(page): Admin) -> Result<Response> {
    settings_page(&page, StatusCode::OK, None, &[]).await
}

pub async fn save(
    Admin(page): Admin,
    CsrfForm(typed, ..): CsrfForm<HashMap<String, String>>,
) -> Result<Response> {
    match service::save(&page.db, &page.config, page.staff.id, typed).await? {
        Saved::Changed(changed) => {
            page.flash(service::confirmation(&changed)).await;
            Ok(Redirect::to("/admin/settings").into_response())
        }
        Saved::Refused { problems, typed } => {
            settings_page(&page, StatusCode::UNPROCESSABLE_ENTITY, Some(&typed), &problems).await
        }
    }
}
