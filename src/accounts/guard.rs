//! Who may open a staff page, as types. A handler for admins takes [`Admin`], one that changes the
//! queue takes [`Moderator`], one that publishes a reply takes [`ActingMidwife`]; any signed-in
//! member of staff is [`AnyStaff`]. Each is an extractor that answers as the site always has:
//! a visitor who is not signed in goes to the sign-in page, a signed-in one without the role gets
//! the 403 page. A handler that forgets its guard has no [`StaffPage`] to render with, so it does
//! not compile.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use axum_csrf::{CsrfConfig, CsrfToken};
use sqlx::PgPool;
use tower_sessions::Session;

use super::{
    Staff,
    auth::{AuthSession, CurrentStaff, set_flash, take_flash},
};
use crate::{
    config::Config,
    error::{AppError, Result},
    web::{
        client::{Client, ClientKeys},
        form::new_token,
        page::render,
    },
};

/// What every staff page is made with: who is signed in, their session (for messages carried
/// across a redirect), the form token, and the database and settings.
pub struct StaffPage {
    pub staff: Staff,
    pub session: Session,
    pub csrf: CsrfToken,
    pub db: PgPool,
    pub config: Arc<Config>,
}

impl StaffPage {
    /// The page's frame: who is signed in, the navigation, the sign-out form and any message.
    pub async fn chrome(&self) -> Result<StaffChrome> {
        Ok(StaffChrome {
            name: self.staff.display_name.clone(),
            role: self.staff.role.label(),
            is_admin: self.staff.is_admin(),
            can_moderate: self.staff.can_moderate(),
            can_reply: self.staff.can_reply(),
            can_keep_replies: self.staff.can_keep_saved_replies(),
            awaiting_verification: self.staff.awaiting_verification(),
            token: new_token(&self.csrf)?,
            flash: take_flash(&self.session).await,
        })
    }

    /// Renders `page` with `status`, with the form-token cookie its forms need.
    pub fn render(&self, status: StatusCode, page: &impl Template) -> Response {
        (self.csrf.clone(), render(status, page)).into_response()
    }

    /// Keeps `message` for the next page, after a redirect.
    pub async fn flash(&self, message: impl Into<String>) {
        set_flash(&self.session, message).await;
    }
}

impl<S> FromRequestParts<S> for StaffPage
where
    S: Send + Sync,
    CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentStaff(staff) = CurrentStaff::from_request_parts(parts, state).await?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let csrf = CsrfToken::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            staff,
            session,
            csrf,
            db: PgPool::from_ref(state),
            config: Arc::<Config>::from_ref(state),
        })
    }
}

/// A visitor to the sign-in and one-time-link pages: not (yet) signed in, with their session and
/// who they are.
pub struct Visitor {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub auth: AuthSession,
    pub client: Client,
}

impl<S> FromRequestParts<S> for Visitor
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
    ClientKeys: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            db: PgPool::from_ref(state),
            config: Arc::<Config>::from_ref(state),
            auth: AuthSession::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?,
            client: Client::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?,
        })
    }
}

/// What every staff page shows around its content.
pub struct StaffChrome {
    pub name: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub can_moderate: bool,
    pub can_reply: bool,
    /// May add, edit and delete saved replies.
    pub can_keep_replies: bool,
    pub awaiting_verification: bool,
    /// The form token for every form on the page.
    pub token: String,
    pub flash: Option<String>,
}

/// Declares a guard: a [`StaffPage`] whose member of staff passes `$allowed`, or `$refusal`.
macro_rules! guard {
    ($(#[$doc:meta])* $name:ident, $allowed:expr, $refusal:expr) => {
        $(#[$doc])*
        pub struct $name(pub StaffPage);

        impl<S> FromRequestParts<S> for $name
        where
            S: Send + Sync,
            CsrfConfig: FromRef<S>,
            PgPool: FromRef<S>,
            Arc<Config>: FromRef<S>,
        {
            type Rejection = Response;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
                let page = StaffPage::from_request_parts(parts, state).await?;
                let allowed: fn(&Staff) -> bool = $allowed;
                let refusal: fn(&Staff) -> &'static str = $refusal;
                if allowed(&page.staff) {
                    Ok(Self(page))
                } else {
                    Err(AppError::Forbidden(refusal(&page.staff)).into_response())
                }
            }
        }
    };
}

guard!(
    /// Any signed-in member of staff.
    AnyStaff,
    |_| true,
    |_| "This page is for staff."
);

guard!(
    /// Admins only; everyone else is refused before anything is read or changed.
    Admin,
    Staff::is_admin,
    |_| "This page is for admins."
);

guard!(
    /// Staff who may approve, hide and unhide: everyone but a midwife not yet verified.
    Moderator,
    Staff::can_moderate,
    |_| "Your account is awaiting verification by an admin. Until then you can read the queue but not change it."
);

guard!(
    /// Staff who may publish a reply under the midwife label.
    ActingMidwife,
    Staff::can_reply,
    |staff| if staff.awaiting_verification() {
        "Your account is awaiting verification by an admin. Replies can be published once it is verified."
    } else {
        "Only verified midwives can publish replies."
    }
);

guard!(
    /// Staff who keep the saved replies: verified midwives and admins.
    ReplyKeeper,
    Staff::can_keep_saved_replies,
    |staff| if staff.awaiting_verification() {
        "Your account is awaiting verification by an admin. Saved replies can be changed once it is verified."
    } else {
        "Saved replies are kept by verified midwives and admins."
    }
);
