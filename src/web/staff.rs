//! What every staff page shows around its content: who is signed in, the navigation, the sign-out
//! form and any message carried over from the previous action.

use axum_csrf::CsrfToken;
use tower_sessions::Session;

use crate::{
    accounts::{Staff, auth::take_flash, routes::form_token},
    error::Result,
};

pub struct StaffChrome {
    pub name: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub can_moderate: bool,
    pub can_reply: bool,
    pub awaiting_verification: bool,
    /// The form token for every form on the page.
    pub token: String,
    pub flash: Option<String>,
}

impl StaffChrome {
    pub async fn new(staff: &Staff, csrf: &CsrfToken, session: &Session) -> Result<Self> {
        Ok(Self {
            name: staff.display_name.clone(),
            role: staff.role.label(),
            is_admin: staff.is_admin(),
            can_moderate: staff.can_moderate(),
            can_reply: staff.can_reply(),
            awaiting_verification: staff.awaiting_verification(),
            token: form_token(csrf)?,
            flash: take_flash(session).await,
        })
    }
}

/// "5 minutes ago", for queues where the age matters more than the date.
pub fn age(at: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (chrono::Utc::now() - at).num_seconds().max(0);
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        0..60 => "just now".into(),
        60..3600 => plural(secs / 60, "minute"),
        3600..86400 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(Utc::now()), "just now");
        assert_eq!(age(Utc::now() - Duration::minutes(1)), "1 minute ago");
        assert_eq!(age(Utc::now() - Duration::minutes(5)), "5 minutes ago");
        assert_eq!(age(Utc::now() - Duration::hours(3)), "3 hours ago");
        assert_eq!(age(Utc::now() - Duration::days(2)), "2 days ago");
    }
}
