//! The saved-replies pages.

use askama::Template;

use super::{Problems, SavedReplyForm, store::SavedReply};
use crate::{accounts::guard::StaffChrome, web::page::age};

pub struct SavedReplyItem {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// "Last changed by Bea, 2 days ago".
    pub changed: String,
}

impl From<SavedReply> for SavedReplyItem {
    fn from(row: SavedReply) -> Self {
        let when = age(row.updated_at);
        Self {
            id: row.id,
            title: row.title,
            body: row.body,
            changed: match row.updated_by_name {
                Some(name) => format!("Last changed by {name}, {when}"),
                None => format!("Last changed {when}"),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "saved_replies/list.html")]
pub struct SavedRepliesPage {
    pub chrome: StaffChrome,
    pub items: Vec<SavedReplyItem>,
    /// The add form, with what was typed when it needs fixing.
    pub form: SavedReplyForm,
    pub problems: Problems,
}

#[derive(Template)]
#[template(path = "saved_replies/edit.html")]
pub struct EditSavedReplyPage {
    pub chrome: StaffChrome,
    pub id: i64,
    pub form: SavedReplyForm,
    pub problems: Problems,
}
