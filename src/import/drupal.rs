//! Drupal's comments, as a CSV made by the query in the README (Drupal 7 and 8+ give the same
//! columns): cid, pid, entity_id, name, mail, created (Unix time), status (1 published,
//! 0 unapproved), body, body_format, uid. Pages come from `--article-map`.

use std::io::Read;

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};

use super::{
    Record, Sink, SourceComment, State,
    html::{self, Newlines},
};

const COLUMNS: [&str; 10] = [
    "cid",
    "pid",
    "entity_id",
    "name",
    "mail",
    "created",
    "status",
    "body",
    "body_format",
    "uid",
];

pub fn read(input: impl Read, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|error| anyhow::anyhow!("this is not a Drupal comments CSV: {error}"))?
        .clone();
    let mut index = [0usize; 10];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(column) || (column == "entity_id" && h.trim() == "nid"))
            .with_context(|| {
                format!(
                    "this is not a Drupal comments CSV: the first line has no '{column}' column (expected: {})",
                    COLUMNS.join(", ")
                )
            })?;
    }
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let get = |column: usize| record.get(index[column]).unwrap_or("").trim();
                sink(to_record(&get, line))?;
            }
            Err(error) => match error.kind() {
                csv::ErrorKind::Utf8 { pos, .. } => bail!(
                    "the file is not UTF-8 at line {}; only UTF-8 exports can be read",
                    pos.as_ref().map_or(0, |p| p.line())
                ),
                csv::ErrorKind::UnequalLengths { pos, .. } => sink(Record::Malformed {
                    position: format!("line {}", pos.as_ref().map_or(0, |p| p.line())),
                    reason: "the line has the wrong number of columns".into(),
                })?,
                _ => bail!("this is not a valid Drupal comments CSV: {error}"),
            },
        }
    }
}

fn to_record<'a>(get: &dyn Fn(usize) -> &'a str, line: u64) -> Record {
    let cid = get(0);
    let position = format!("line {line} (cid {cid})");
    let malformed = |reason: &str| Record::Malformed {
        position: position.clone(),
        reason: reason.into(),
    };
    if cid.is_empty() || cid.parse::<u64>().is_err() {
        return malformed("the cid is not a number");
    }
    let Some(created_at) = get(5)
        .parse::<i64>()
        .ok()
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
    else {
        return malformed("'created' is not a Unix time");
    };
    let state = match get(6) {
        "1" => State::Published,
        "0" => State::Pending,
        "spam" => State::Spam,
        other => return malformed(&format!("unknown status '{other}'")),
    };
    let body = match get(8) {
        // Plain text is shown as typed in Drupal: any tags in it were never markup.
        "plain_text" => get(7).to_owned(),
        _ => html::to_text(get(7), Newlines::Kept),
    };
    let pid = get(1);
    let uid = get(9);
    Record::Comment(SourceComment {
        source_id: cid.to_owned(),
        parent_source_id: (!pid.is_empty() && pid != "0").then(|| pid.to_owned()),
        thread_key: get(2).to_owned(),
        author_name: get(3).to_owned(),
        author_email: Some(get(4).to_owned()).filter(|e| !e.is_empty()),
        author_uid: (!uid.is_empty() && uid != "0").then(|| uid.to_owned()),
        created_at,
        state,
        body,
    })
}
