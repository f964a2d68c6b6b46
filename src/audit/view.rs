//! The audit log as admins read it: filters from the query string, rows in words, and the link
//! to older entries.

use chrono_tz::Tz;
use serde::Deserialize;

use super::{
    Action,
    store::{Entry, Filter},
};

/// Entries shown per page.
pub const PAGE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub before: Option<String>,
}

impl AuditQuery {
    /// The filter it asks for; anything that does not parse is left out.
    pub fn filter(&self) -> Filter {
        // "comment:12", "account:3", "article:5", or just a kind.
        let target = self.target();
        let (target_type, target_id) = match target.split_once(':') {
            Some((kind, id)) => (Some(kind.to_owned()), id.trim().parse::<i64>().ok()),
            None if !target.is_empty() => (Some(target.to_owned()), None),
            None => (None, None),
        };
        Filter {
            actor_id: self.actor.as_deref().and_then(|a| a.parse::<i64>().ok()),
            action: self
                .action
                .clone()
                .filter(|a| Action::ALL.iter().any(|x| x.as_str() == a)),
            target_type,
            target_id,
        }
    }

    pub fn before(&self) -> Option<i64> {
        self.before.as_deref().and_then(|b| b.parse::<i64>().ok())
    }

    pub fn target(&self) -> &str {
        self.target.as_deref().unwrap_or_default().trim()
    }
}

pub struct AuditRow {
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub target_href: Option<String>,
    pub reason: Option<String>,
    /// A correction: the text before and after.
    pub change: Option<(String, String)>,
    pub at: String,
    pub at_iso: String,
}

impl AuditRow {
    pub fn new(e: &Entry, tz: Tz) -> Self {
        Self {
            actor: e.actor_name.clone().unwrap_or_else(|| "The command line".into()),
            action: Action::describe(&e.action),
            target: match (e.target_type.as_str(), e.target_id) {
                ("settings", Some(version)) => format!("settings, version {version}"),
                ("disclaimer", Some(version)) => format!("disclaimer, version {version}"),
                (kind, Some(id)) => format!("{kind} {id}"),
                (kind, None) => kind.to_owned(),
            },
            target_href: match (e.target_type.as_str(), e.target_id) {
                ("comment", Some(id)) => Some(format!("/moderation/comments/{id}")),
                ("settings" | "disclaimer", Some(_)) => Some("/admin/settings".to_owned()),
                _ => None,
            },
            reason: e.reason.clone(),
            change: e.text_before.clone().zip(e.text_after.clone()),
            at: e.at.with_timezone(&tz).format("%d %b %Y - %H:%M").to_string(),
            at_iso: e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// The link to the entries before `last`, with the same filters (escaped as a query string).
pub fn older_href(last: &Entry, filter: &Filter, target: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("before", &last.id.to_string());
    if let Some(actor) = filter.actor_id {
        query.append_pair("actor", &actor.to_string());
    }
    if let Some(action) = &filter.action {
        query.append_pair("action", action);
    }
    if !target.is_empty() {
        query.append_pair("target", target);
    }
    format!("/admin/audit?{}", query.finish())
}
