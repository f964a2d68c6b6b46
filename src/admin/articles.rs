//! Admin → Articles: the list, adding, editing, opening and closing.

use askama::Template;
use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    accounts::guard::{Admin, StaffChrome, StaffPage},
    articles::{
        service,
        store::{self, ArticleCounts},
    },
    error::Result,
    web::form::CsrfForm,
};

#[derive(Default)]
pub struct ArticleFormView {
    pub slug: String,
    pub title: String,
    pub url: String,
    pub problem: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ArticlesPage {
    chrome: StaffChrome,
    articles: Vec<ArticleCounts>,
    add: ArticleFormView,
    /// An edit that needs fixing: which article, and what was typed.
    edit: Option<ArticleFormView>,
    /// Where the site is, for each article's full public address.
    public_url: String,
}

impl ArticlesPage {
    fn edit_for(&self, slug: &str) -> Option<&ArticleFormView> {
        self.edit.as_ref().filter(|e| e.slug == slug)
    }

    /// The code a charity pastes into its page to show this article's comments there.
    fn snippet(&self, slug: &str) -> String {
        let site = &self.public_url;
        format!(
            "<div id=\"carethread\" data-carethread-article=\"{slug}\"></div>\n\
             <script src=\"{site}/embed.js\" async></script>\n\
             <noscript><a href=\"{site}/articles/{slug}\">Read and add comments</a></noscript>"
        )
    }
}

async fn articles_page(
    page: &StaffPage,
    status: StatusCode,
    add: ArticleFormView,
    edit: Option<ArticleFormView>,
) -> Result<Response> {
    let view = ArticlesPage {
        chrome: page.chrome().await?,
        articles: store::list_all(&page.db).await?,
        add,
        edit,
        public_url: page.config.public_url.clone(),
    };
    Ok(page.render(status, &view))
}

pub async fn show(Admin(page): Admin) -> Result<Response> {
    articles_page(&page, StatusCode::OK, ArticleFormView::default(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArticleForm {
    slug: String,
    title: String,
    url: String,
}

/// Back to the articles page with what happened.
async fn done(page: &StaffPage, message: String) -> Result<Response> {
    page.flash(message).await;
    Ok(Redirect::to("/admin/articles").into_response())
}

pub async fn add(Admin(page): Admin, CsrfForm(form, ..): CsrfForm<ArticleForm>) -> Result<Response> {
    match service::add(&page.db, page.staff.id, &form.slug, &form.title, &form.url).await? {
        Ok(title) => {
            done(
                &page,
                format!("Added \u{201c}{title}\u{201d}. It is open for comments."),
            )
            .await
        }
        Err(problem) => {
            let again = ArticleFormView {
                slug: form.slug,
                title: form.title,
                url: form.url,
                problem: Some(problem),
            };
            articles_page(&page, StatusCode::UNPROCESSABLE_ENTITY, again, None).await
        }
    }
}

pub async fn edit(
    Admin(page): Admin,
    Path(slug): Path<String>,
    CsrfForm(form, ..): CsrfForm<ArticleForm>,
) -> Result<Response> {
    match service::edit(&page.db, page.staff.id, &slug, &form.title, &form.url).await? {
        Ok(title) => done(&page, format!("Saved \u{201c}{title}\u{201d}.")).await,
        Err(problem) => {
            let again = ArticleFormView {
                slug,
                title: form.title,
                url: form.url,
                problem: Some(problem),
            };
            articles_page(
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
                ArticleFormView::default(),
                Some(again),
            )
            .await
        }
    }
}

pub async fn close(
    Admin(page): Admin,
    Path(slug): Path<String>,
    _: CsrfForm<ArticleForm>,
) -> Result<Response> {
    let message = service::set_open(&page.db, page.staff.id, &slug, false).await?;
    done(&page, message.to_owned()).await
}

pub async fn open(
    Admin(page): Admin,
    Path(slug): Path<String>,
    _: CsrfForm<ArticleForm>,
) -> Result<Response> {
    let message = service::set_open(&page.db, page.staff.id, &slug, true).await?;
    done(&page, message.to_owned()).await
}
