//! Disqus's XML export: `thread` elements (link, title) and `post` elements (message HTML,
//! author, createdAt, isDeleted, isSpam, and `thread`/`parent` references by `dsq:id`).

use std::{collections::HashMap, io::Read};

use chrono::{DateTime, Utc};

use super::{
    Record, Sink, SourceArticle, SourceComment, State,
    html::{self, Newlines},
    xml::{self, Step},
};

#[derive(Default)]
struct Element {
    id: String,
    position: u64,
    fields: HashMap<String, String>,
}

pub fn read(input: impl Read, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    // Only top-level `thread` and `post` elements (children of <disqus>) are records.
    let mut depth = 0usize;
    let mut current: Option<Element> = None;
    let mut in_author = false;
    xml::walk(input, "disqus", "Disqus", |step, position| {
        match step {
            Step::Open { name, attributes } => {
                depth += 1;
                let id = xml::attribute(attributes, "dsq:id").unwrap_or("").to_owned();
                if depth == 2 && (name == "thread" || name == "post") {
                    current = Some(Element {
                        id,
                        position,
                        fields: HashMap::new(),
                    });
                } else if let Some(element) = current.as_mut() {
                    match name {
                        "author" => in_author = true,
                        // References inside a post: <thread dsq:id="…"/>, <parent dsq:id="…"/>.
                        "thread" | "parent" => {
                            element.fields.insert(format!("{name}@id"), id);
                        }
                        _ => {}
                    }
                }
            }
            Step::Close { name, text } => {
                depth -= 1;
                if depth == 1 && (name == "thread" || name == "post") {
                    if let Some(element) = current.take() {
                        sink(if name == "thread" {
                            thread(&element)
                        } else {
                            post(&element)
                        })?;
                    }
                } else if let Some(element) = current.as_mut() {
                    if name == "author" {
                        in_author = false;
                    } else {
                        let key = if in_author {
                            format!("author.{name}")
                        } else {
                            name.to_owned()
                        };
                        element.fields.entry(key).or_insert(text);
                    }
                }
            }
        }
        Ok(())
    })
}

fn thread(element: &Element) -> Record {
    let get = |name: &str| element.fields.get(name).map_or("", |s| s.trim());
    if element.id.is_empty() {
        return Record::Malformed {
            position: format!("the thread at byte {}", element.position),
            reason: "it has no dsq:id".into(),
        };
    }
    Record::Article(SourceArticle {
        thread_key: element.id.clone(),
        title: html::to_text(get("title"), Newlines::Collapsed),
        url: get("link").to_owned(),
        slug: None,
    })
}

fn post(element: &Element) -> Record {
    let get = |name: &str| element.fields.get(name).map_or("", |s| s.trim());
    let position = if element.id.is_empty() {
        format!("the post at byte {}", element.position)
    } else {
        format!("post {} (byte {})", element.id, element.position)
    };
    let malformed = |reason: &str| Record::Malformed {
        position: position.clone(),
        reason: reason.into(),
    };
    if element.id.is_empty() {
        return malformed("it has no dsq:id");
    }
    let thread = get("thread@id");
    if thread.is_empty() {
        return malformed("it names no thread");
    }
    let Ok(created_at) = DateTime::parse_from_rfc3339(get("createdAt")) else {
        return malformed("it has no valid createdAt date");
    };
    let state = if get("isDeleted") == "true" {
        State::Deleted
    } else if get("isSpam") == "true" {
        State::Spam
    } else {
        State::Published
    };
    let parent = get("parent@id");
    let username = get("author.username");
    Record::Comment(SourceComment {
        source_id: element.id.clone(),
        parent_source_id: (!parent.is_empty()).then(|| parent.to_owned()),
        thread_key: thread.to_owned(),
        author_name: html::to_text(get("author.name"), Newlines::Collapsed),
        author_email: Some(get("author.email").to_owned()).filter(|e| !e.is_empty()),
        author_uid: (!username.is_empty()).then(|| username.to_owned()),
        created_at: created_at.with_timezone(&Utc),
        state,
        body: html::to_text(get("message"), Newlines::Collapsed),
    })
}
