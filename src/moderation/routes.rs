//! The dashboard: `/moderation`, a comment's page, and the four decisions.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::CsrfToken;
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    Tab, markdown, parse_reason, parse_reply,
    store::{self, ExistingReply, NewStaffReply, QueueRow},
};
use crate::web::form::StrictForm;
use crate::{
    accounts::{
        Staff,
        auth::{CurrentStaff, safe_next, set_flash},
    },
    articles,
    audit::{self, Action, Target},
    comments::{AuthorKind, CommentStatus, text::PlainText, text::Segment},
    error::{AppError, Result},
    safety::personal,
    web::{
        AppState,
        page::render,
        staff::{StaffChrome, age},
    },
};

const PER_PAGE: i64 = 50;
const ARTICLE_PICKER_MAX: i64 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/moderation", get(show_queue))
        .route("/moderation/comments/{id}", get(show_comment))
        .route("/moderation/comments/{id}/approve", post(approve))
        .route("/moderation/comments/{id}/hide", post(hide))
        .route("/moderation/comments/{id}/unhide", post(unhide))
        .route("/moderation/comments/{id}/reply", post(reply))
        .route("/moderation/comments/{id}/not-spam", post(not_spam))
        .route("/moderation/comments/{id}/edit", post(edit))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    status: Option<String>,
    article: Option<String>,
    page: Option<String>,
}

/// A comment on the dashboard.
pub struct ItemView {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    pub is_staff: bool,
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: PlainText,
    pub body_html: Option<String>,
    pub status: &'static str,
    pub can_hide: bool,
    pub can_approve: bool,
    pub can_unhide: bool,
    pub can_mark_not_spam: bool,
    pub can_edit: bool,
    pub hidden_reason: Option<String>,
    pub urgent_signs: Vec<String>,
    pub spam_reason: Option<String>,
    pub reports: Option<String>,
    /// Kinds of personal data found in a guest's text, for the moderator to check.
    pub personal_data: Vec<&'static str>,
    /// The text as typed, for the edit form.
    pub raw_body: String,
    pub age: String,
    pub created_iso: String,
    pub in_reply_to: Option<(String, String)>,
    pub moderated: Option<String>,
    pub published_replies: i64,
}

impl From<QueueRow> for ItemView {
    fn from(row: QueueRow) -> Self {
        let excerpt = |body: &str| {
            let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.chars().count() > 160 {
                format!("{}…", flat.chars().take(160).collect::<String>())
            } else {
                flat
            }
        };
        let is_staff = row.author_kind == AuthorKind::Staff;
        let found = if is_staff {
            Vec::new()
        } else {
            personal::find(&row.body)
        };
        let marks: Vec<_> = found.iter().map(|f| (f.range.clone(), f.kind.label())).collect();
        let mut personal_data: Vec<&'static str> = found.iter().map(|f| f.kind.label()).collect();
        personal_data.dedup();
        Self {
            id: row.id,
            article_slug: row.article_slug,
            article_title: row.article_title,
            is_staff,
            author_name: row.author_name,
            author_email: row.author_email,
            body: PlainText::marked(&row.body, &marks),
            raw_body: row.body,
            personal_data,
            urgent_signs: row.urgent_signs,
            spam_reason: row.spam_reason,
            reports: (row.report_count > 0).then(|| {
                let n = row.report_count;
                let times = if n == 1 {
                    "once".to_owned()
                } else {
                    format!("{n} times")
                };
                format!("Reported {times}: {}", row.report_reasons.unwrap_or_default())
            }),
            can_mark_not_spam: row.status == CommentStatus::Spam,
            can_edit: !is_staff && row.status != CommentStatus::Hidden,
            body_html: row.body_html,
            status: match row.status {
                CommentStatus::Pending => "Waiting",
                CommentStatus::Published => "Published",
                CommentStatus::Hidden => "Hidden",
                CommentStatus::Spam => "Spam",
            },
            can_approve: row.status == CommentStatus::Pending,
            can_hide: row.status != CommentStatus::Hidden,
            can_unhide: row.status == CommentStatus::Hidden,
            hidden_reason: row.hidden_reason,
            age: age(row.created_at),
            created_iso: row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            in_reply_to: row
                .parent_author_name
                .zip(row.parent_body.as_deref().map(excerpt)),
            moderated: row
                .moderated_by_name
                .zip(row.moderated_at)
                .map(|(name, at)| format!("{name}, {}", age(at))),
            published_replies: row.published_replies,
        }
    }
}

impl ItemView {
    /// What this member of staff may see of it: a midwife account that no admin has verified yet
    /// sees no guest's email address (that role is not vetted until then).
    fn seen_by(mut self, staff: &Staff) -> Self {
        if !staff.can_moderate() {
            self.author_email = None;
        }
        self
    }
}

pub struct TabLink {
    pub label: &'static str,
    pub href: String,
    pub count: String,
    pub current: bool,
}

pub struct ArticleOption {
    pub slug: String,
    pub title: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "moderation/queue.html")]
struct QueuePage {
    chrome: StaffChrome,
    /// "2 urgent comments are waiting; the oldest for 3 hours."
    urgent: Option<String>,
    tab: Tab,
    tabs: Vec<TabLink>,
    /// Pick the article from a list (or type its slug, on sites with many articles).
    picker: bool,
    article_filter: String,
    articles: Vec<ArticleOption>,
    items: Vec<ItemView>,
    back: String,
    next_page: Option<String>,
    previous_page: Option<String>,
}

async fn show_queue(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Query(query): Query<QueueQuery>,
) -> Result<Response> {
    let tab = Tab::parse(query.status.as_deref());
    // A picker for a site's articles; past a couple of hundred, a box for the slug instead.
    let all_articles = articles::store::list_titles(&state.db, ARTICLE_PICKER_MAX).await?;
    let picker = all_articles.len() as i64 <= ARTICLE_PICKER_MAX;
    let found = match query.article.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => articles::store::find_by_slug(&state.db, slug).await?,
        None => None,
    };
    let article = found.as_ref().map(|a| a.slug.clone());
    let article_id = found.as_ref().map(|a| a.id);
    let page = crate::web::page::page_number(query.page.as_deref());
    let counts = store::counts(&state.db, article_id).await?;
    let rows = store::queue(
        &state.db,
        tab.status(),
        article_id,
        PER_PAGE + 1,
        (page - 1) * PER_PAGE,
    )
    .await?;
    let has_more = rows.len() as i64 > PER_PAGE;
    let items: Vec<ItemView> = rows
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|row| ItemView::from(row).seen_by(&staff))
        .collect();

    let href = |tab: Tab, page: i64| {
        let mut href = format!("/moderation?status={}", tab.as_str());
        if let Some(slug) = &article {
            href.push_str("&article=");
            href.push_str(slug);
        }
        if page > 1 {
            href.push_str(&format!("&page={page}"));
        }
        href
    };
    let tabs = Tab::ALL
        .into_iter()
        .map(|t| TabLink {
            label: t.label(),
            href: href(t, 1),
            count: match match t {
                Tab::Pending => counts.pending,
                Tab::Published => counts.published,
                Tab::Hidden => counts.hidden,
                Tab::Spam => counts.spam,
            } {
                n if n >= store::COUNT_CAP => format!("{n}+"),
                n => n.to_string(),
            },
            current: t == tab,
        })
        .collect();
    let urgent = counts.oldest_urgent.map(|oldest| {
        let waited = age(oldest).trim_end_matches(" ago").to_owned();
        match counts.urgent {
            1 => format!("1 urgent comment is waiting, for {waited}."),
            n => format!("{n} urgent comments are waiting; the oldest for {waited}."),
        }
    });
    let page_view = QueuePage {
        urgent,
        chrome: StaffChrome::new(&staff, &csrf, &session).await?,
        tab,
        tabs,
        picker,
        article_filter: article.clone().unwrap_or_default(),
        articles: all_articles
            .into_iter()
            .map(|(slug, title)| ArticleOption {
                selected: article.as_deref() == Some(slug.as_str()),
                slug,
                title,
            })
            .collect(),
        back: href(tab, page),
        next_page: has_more.then(|| href(tab, page + 1)),
        previous_page: (page > 1).then(|| href(tab, page - 1)),
        items,
    };
    Ok((csrf, render(StatusCode::OK, &page_view)).into_response())
}

#[derive(Template)]
#[template(path = "moderation/comment.html")]
struct CommentPage {
    chrome: StaffChrome,
    item: ItemView,
    /// An edit that needs fixing, with its text.
    edit_body: Option<String>,
    edit_problem: Option<&'static str>,
    replies: Vec<ReplyView>,
    reply_body: String,
    problem: Option<&'static str>,
    back: String,
}

pub struct ReplyView {
    pub is_staff: bool,
    pub author_name: String,
    pub body: PlainText,
    pub age: String,
}

impl From<ExistingReply> for ReplyView {
    fn from(r: ExistingReply) -> Self {
        Self {
            is_staff: r.author_kind == AuthorKind::Staff,
            author_name: r.author_name,
            body: PlainText::new(&r.body),
            age: age(r.created_at),
        }
    }
}

async fn comment_page(
    state: &AppState,
    staff: &Staff,
    session: &Session,
    csrf: &CsrfToken,
    id: i64,
    reply_body: String,
    problem: Option<&'static str>,
) -> Result<CommentPage> {
    let row = store::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let replies = store::replies_to(&state.db, id)
        .await?
        .into_iter()
        .map(ReplyView::from)
        .collect();
    Ok(CommentPage {
        chrome: StaffChrome::new(staff, csrf, session).await?,
        back: format!("/moderation/comments/{id}"),
        item: ItemView::from(row).seen_by(staff),
        edit_body: None,
        edit_problem: None,
        replies,
        reply_body,
        problem,
    })
}

async fn show_comment(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
) -> Result<Response> {
    let page = comment_page(&state, &staff, &session, &csrf, id, String::new(), None).await?;
    Ok((csrf, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    authenticity_token: String,
    reason: String,
    back: String,
    body: String,
}

const STALE_FORM: &str = "For your safety we could not accept that form, and nothing was changed. Please go back, reload the page and try again.";

fn check(staff: &Staff, csrf: &CsrfToken, form: &DecisionForm) -> Result<()> {
    if !staff.can_moderate() {
        return Err(AppError::Forbidden(
            "Your account is awaiting verification by an admin. Until then you can read the queue but not change it.",
        ));
    }
    if csrf.verify(&form.authenticity_token).is_err() {
        return Err(AppError::Forbidden(STALE_FORM));
    }
    Ok(())
}

/// Tells a member of staff that someone else got there first, and who.
async fn already_done(state: &AppState, id: i64) -> Result<String> {
    let status = store::status_of(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let last = audit::store::latest_for_comment(&state.db, id).await?;
    let state_word = match status {
        CommentStatus::Pending => "waiting for moderation",
        CommentStatus::Published => "published",
        CommentStatus::Hidden => "hidden",
        CommentStatus::Spam => "in the spam tab",
    };
    Ok(match last {
        Some(entry) => format!(
            "Nothing was changed: this comment is already {state_word} ({} {} {}).",
            entry.actor_name.as_deref().unwrap_or("someone"),
            audit::Action::describe(&entry.action).replace(" a comment", " it"),
            age(entry.at)
        ),
        None => format!("Nothing was changed: this comment is already {state_word}."),
    })
}

async fn decide(
    state: AppState,
    staff: Staff,
    session: Session,
    csrf: CsrfToken,
    id: i64,
    form: DecisionForm,
    action: Action,
) -> Result<Response> {
    check(&staff, &csrf, &form)?;
    let back = safe_next(Some(&form.back));
    let reason = match action {
        Action::CommentHidden => match parse_reason(&form.reason) {
            Ok(reason) => reason,
            Err(problem) => {
                set_flash(&session, problem).await;
                return Ok(Redirect::to(&back).into_response());
            }
        },
        _ => None,
    };
    let mut tx = state.db.begin().await?;
    let changed = match action {
        Action::CommentApproved => store::approve(&mut tx, id, staff.id).await?,
        Action::CommentHidden => store::hide(&mut tx, id, staff.id, reason.as_deref()).await?,
        Action::CommentNotSpam => store::not_spam(&mut tx, id, staff.id).await?,
        _ => store::unhide(&mut tx, id, staff.id).await?,
    };
    let message = if changed {
        audit::record(
            &mut tx,
            Some(staff.id),
            action,
            Target::Comment(id),
            reason.as_deref(),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            comment.id = id,
            user.id = staff.id,
            action = action.as_str(),
            "moderation decision"
        );
        match action {
            Action::CommentApproved => "Approved. The comment is now published.".to_owned(),
            Action::CommentHidden => "Hidden. Readers no longer see this comment or its replies.".to_owned(),
            Action::CommentNotSpam => "Moved to the waiting queue.".to_owned(),
            _ => "Unhidden. The comment and its replies are published again.".to_owned(),
        }
    } else {
        drop(tx);
        already_done(&state, id).await?
    };
    set_flash(&session, message).await;
    Ok(Redirect::to(&back).into_response())
}

async fn approve(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<DecisionForm>,
) -> Result<Response> {
    decide(state, staff, session, csrf, id, form, Action::CommentApproved).await
}

async fn hide(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<DecisionForm>,
) -> Result<Response> {
    decide(state, staff, session, csrf, id, form, Action::CommentHidden).await
}

async fn unhide(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<DecisionForm>,
) -> Result<Response> {
    decide(state, staff, session, csrf, id, form, Action::CommentUnhidden).await
}

async fn not_spam(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<DecisionForm>,
) -> Result<Response> {
    decide(state, staff, session, csrf, id, form, Action::CommentNotSpam).await
}

/// Replaces a guest's words, to take out personal details before approving. The audit log
/// records that it was edited, not what was removed.
async fn edit(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<DecisionForm>,
) -> Result<Response> {
    check(&staff, &csrf, &form)?;
    let Ok(body) = crate::comments::parse_body(&form.body) else {
        let problem = "The comment must keep between 1 and 5000 characters. Your edit is still here.";
        let page = comment_page(&state, &staff, &session, &csrf, id, String::new(), None).await?;
        let page = CommentPage {
            edit_body: Some(form.body.clone()),
            edit_problem: Some(problem),
            ..page
        };
        return Ok((csrf, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response());
    };
    let mut tx = state.db.begin().await?;
    if !store::edit_guest_text(&mut tx, id, staff.id, &body).await? {
        return Err(AppError::Forbidden("Staff replies are not edited here."));
    }
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentEdited,
        Target::Comment(id),
        None,
    )
    .await?;
    tx.commit().await?;
    set_flash(&session, "Saved your edit.").await;
    Ok(Redirect::to(&format!("/moderation/comments/{id}")).into_response())
}

/// Publishes a staff reply under comment `id`, approving it first if it was waiting.
async fn reply(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    session: Session,
    csrf: CsrfToken,
    Path(id): Path<i64>,
    StrictForm(form): StrictForm<DecisionForm>,
) -> Result<Response> {
    if !staff.can_reply() {
        return Err(AppError::Forbidden(if staff.awaiting_verification() {
            "Your account is awaiting verification by an admin. Replies can be published once it is verified."
        } else {
            "Only verified midwives can publish replies."
        }));
    }
    // From here on, a problem shows the reply again with its text: no reply is ever lost.
    let again = |problem: &'static str, status: StatusCode| {
        let (state, staff, session, csrf, body) = (&state, &staff, &session, &csrf, form.body.clone());
        async move {
            let page = comment_page(state, staff, session, csrf, id, body, Some(problem)).await?;
            Ok::<_, AppError>((csrf.clone(), render(status, &page)).into_response())
        }
    };
    if csrf.verify(&form.authenticity_token).is_err() {
        return again(
            "For your safety we could not accept the form this time. Your reply is still here: please press \u{201c}Publish reply\u{201d} again.",
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let body = match parse_reply(&form.body) {
        Ok(body) => body,
        Err(problem) => return again(problem, StatusCode::UNPROCESSABLE_ENTITY).await,
    };

    let mut tx = state.db.begin().await?;
    let parent = store::lock_parent(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if parent.status == CommentStatus::Hidden {
        drop(tx);
        return again(
            "This comment has been hidden, so readers would not see a reply under it. Your reply is still here.",
            StatusCode::CONFLICT,
        )
        .await;
    }
    if parent.status == CommentStatus::Spam {
        drop(tx);
        return again(
            "This comment is in the spam tab. If it is a real reader's, mark it as not spam first. Your reply is still here.",
            StatusCode::CONFLICT,
        )
        .await;
    }
    if parent.status == CommentStatus::Pending {
        store::approve(&mut tx, id, staff.id).await?;
        audit::record(
            &mut tx,
            Some(staff.id),
            Action::CommentApproved,
            Target::Comment(id),
            None,
        )
        .await?;
    }
    let html = markdown::render(&body);
    let reply_id = store::insert_staff_reply(
        &mut tx,
        &NewStaffReply {
            article_id: parent.article_id,
            parent_id: id,
            author_user_id: staff.id,
            author_name: &staff.display_name,
            body: &body,
            body_html: &html,
            disclaimer: &state.config.disclaimer,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentReplied,
        Target::Comment(reply_id),
        None,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        comment.id = id,
        reply.id = reply_id,
        user.id = staff.id,
        "staff reply published"
    );
    let approved = if parent.status == CommentStatus::Pending {
        " The comment it answers is approved too."
    } else {
        ""
    };
    set_flash(&session, format!("Your reply is published.{approved}")).await;
    Ok(Redirect::to(&safe_next(Some(&form.back))).into_response())
}
