//! Admin → Articles: the list, adding, editing, opening and closing.

use askama::Template;
use axum::{
    extract::{Path, Query},
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
    /// The article just added, whose address and code are shown first, ready to copy.
    added: Option<ArticleCounts>,
}

impl ArticlesPage {
    fn edit_for(&self, slug: &str) -> Option<&ArticleFormView> {
        self.edit.as_ref().filter(|e| e.slug == slug)
    }

    /// The code a charity pastes into its page to show this article's comments there.
    fn snippet(&self, slug: &str) -> String {
        crate::comments::embed::snippet(&self.public_url, slug)
    }
}

/// `?added=slug`: the article just added.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddedQuery {
    added: Option<String>,
}

async fn articles_page(
    page: &StaffPage,
    status: StatusCode,
    (add, edit): (ArticleFormView, Option<ArticleFormView>),
    added: Option<&str>,
) -> Result<Response> {
    let articles = store::list_all(&page.db).await?;
    let added = added.and_then(|slug| articles.iter().find(|a| a.slug == slug).cloned());
    let view = ArticlesPage {
        chrome: page.chrome().await?,
        articles,
        add,
        edit,
        public_url: page.config.public_url.clone(),
        added,
    };
    Ok(page.render(status, &view))
}

pub async fn show(Admin(page): Admin, Query(query): Query<AddedQuery>) -> Result<Response> {
    let forms = (ArticleFormView::default(), None);
    articles_page(&page, StatusCode::OK, forms, query.added.as_deref()).await
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
        Ok(slug) => {
            // The page shows the new article's address and code first, ready to copy.
            page.flash("Added the article. It is open for comments.").await;
            Ok(Redirect::to(&format!("/admin/articles?added={slug}#added")).into_response())
        }
        Err(problem) => {
            let again = ArticleFormView {
                slug: form.slug,
                title: form.title,
                url: form.url,
                problem: Some(problem),
            };
            articles_page(&page, StatusCode::UNPROCESSABLE_ENTITY, (again, None), None).await
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
            let forms = (ArticleFormView::default(), Some(again));
            articles_page(&page, StatusCode::UNPROCESSABLE_ENTITY, forms, None).await
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
