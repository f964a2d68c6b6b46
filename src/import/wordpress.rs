//! WordPress's export file (WXR): posts (`item`) with their `wp:comment` elements.

use std::{collections::HashMap, io::Read};

use chrono::{NaiveDateTime, TimeZone, Utc};

use super::{
    Record, Sink, SourceArticle, SourceComment, State,
    html::{self, Newlines},
    xml::{self, Step},
};

pub fn read(input: impl Read, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    let mut item: Option<HashMap<String, String>> = None;
    let mut comment: Option<HashMap<String, String>> = None;
    let mut comment_start = 0;
    let mut article_sent = false;
    xml::walk(input, "rss", "WordPress (WXR)", |step, position| {
        match step {
            Step::Open { name: "item", .. } => {
                item = Some(HashMap::new());
                article_sent = false;
            }
            Step::Open {
                name: "wp:comment", ..
            } if item.is_some() => {
                comment = Some(HashMap::new());
                comment_start = position;
            }
            Step::Open { .. } => {}
            Step::Close {
                name: "wp:comment", ..
            } => {
                let (Some(fields), Some(item)) = (comment.take(), item.as_ref()) else {
                    return Ok(());
                };
                if !article_sent {
                    article_sent = true;
                    if let Some(article) = article(item) {
                        sink(Record::Article(article))?;
                    }
                }
                sink(to_record(&fields, item, comment_start))?;
            }
            Step::Close { name: "item", .. } => item = None,
            Step::Close { name, text } => {
                if let Some(fields) = comment.as_mut() {
                    fields.insert(name.to_owned(), text);
                } else if let Some(fields) = item.as_mut() {
                    fields.insert(name.to_owned(), text);
                }
            }
        }
        Ok(())
    })
}

fn article(item: &HashMap<String, String>) -> Option<SourceArticle> {
    Some(SourceArticle {
        thread_key: item.get("wp:post_id")?.trim().to_owned(),
        title: html::to_text(item.get("title").map_or("", String::as_str), Newlines::Collapsed),
        url: item.get("link").map_or("", |s| s.trim()).to_owned(),
        slug: item.get("wp:post_name").map(|s| s.trim().to_owned()),
    })
}

fn to_record(fields: &HashMap<String, String>, item: &HashMap<String, String>, position: u64) -> Record {
    let get = |name: &str| fields.get(name).map_or("", |s| s.trim());
    let id = get("wp:comment_id");
    let where_ = if id.is_empty() {
        format!("the comment at byte {position}")
    } else {
        format!("comment {id} (byte {position})")
    };
    let malformed = |reason: &str| Record::Malformed {
        position: where_.clone(),
        reason: reason.to_owned(),
    };
    if id.is_empty() {
        return malformed("it has no wp:comment_id");
    }
    let Some(post_id) = item.get("wp:post_id").map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return malformed("its post has no wp:post_id");
    };
    match get("wp:comment_type") {
        "" | "comment" => {}
        _ => return Record::NotAComment,
    }
    let state = match get("wp:comment_approved") {
        "1" | "approve" | "approved" => State::Published,
        "0" | "hold" => State::Pending,
        "spam" => State::Spam,
        "trash" | "post-trashed" => State::Deleted,
        other => return malformed(&format!("unknown approval state '{other}'")),
    };
    let Some(created_at) = date(get("wp:comment_date_gmt")).or_else(|| date(get("wp:comment_date"))) else {
        return malformed("it has no valid date");
    };
    let parent = get("wp:comment_parent");
    let user_id = get("wp:comment_user_id");
    Record::Comment(SourceComment {
        source_id: id.to_owned(),
        parent_source_id: (!parent.is_empty() && parent != "0").then(|| parent.to_owned()),
        thread_key: post_id.to_owned(),
        author_name: html::to_text(get("wp:comment_author"), Newlines::Collapsed),
        author_email: Some(get("wp:comment_author_email").to_owned()).filter(|e| !e.is_empty()),
        author_uid: (!user_id.is_empty() && user_id != "0").then(|| user_id.to_owned()),
        created_at,
        state,
        body: html::to_text(get("wp:comment_content"), Newlines::Kept),
    })
}

/// WordPress writes `2024-03-05 14:22:10`; the GMT column is UTC ("0000-00-00 …" when unknown).
fn date(text: &str) -> Option<chrono::DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(Utc.from_utc_datetime(&naive))
}
