//! A small streaming walk over an XML export: element paths, attributes and text, with clear
//! messages for files that are not XML, are cut short or are not UTF-8.

use std::io::{BufReader, Read};

use anyhow::{Context, bail};
use quick_xml::{Reader, events::Event};

/// What the walk reports to a reader.
pub enum Step<'a> {
    /// An element opened (or an empty one), with its attributes.
    Open {
        name: &'a str,
        attributes: &'a [(String, String)],
    },
    /// An element closed, with the text directly inside it.
    Close { name: &'a str, text: String },
}

/// Walks `input`, calling `visit` for every element; `root` is the name the document must start
/// with (`rss`, `disqus`).
pub fn walk(
    input: impl Read,
    root: &str,
    what: &str,
    mut visit: impl FnMut(Step<'_>, u64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut reader = Reader::from_reader(BufReader::with_capacity(1 << 16, input));
    let mut buf = Vec::with_capacity(1 << 12);
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut seen_root = false;
    let mut attributes: Vec<(String, String)> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|error| {
            let text = error.to_string();
            if text.to_ascii_lowercase().contains("utf") {
                anyhow::anyhow!(
                    "the file is not UTF-8 near byte {position} ({text}); only UTF-8 exports can be read"
                )
            } else {
                anyhow::anyhow!("this is not a valid {what} export: {text} (near byte {position})")
            }
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.name().as_ref().to_owned();
                if !seen_root {
                    if name != root {
                        bail!("this is not a {what} export: it starts with <{name}>, not <{root}>");
                    }
                    seen_root = true;
                }
                attributes.clear();
                for attribute in e.attributes().with_checks(false) {
                    let attribute = attribute.map_err(|error| {
                        anyhow::anyhow!("a malformed attribute near byte {position}: {error}")
                    })?;
                    let key = attribute.key.as_ref().to_owned();
                    let value = super::html::decode_entities(&attribute.value);
                    attributes.push((key, value));
                }
                visit(
                    Step::Open {
                        name: &name,
                        attributes: &attributes,
                    },
                    position,
                )?;
                if empty {
                    visit(
                        Step::Close {
                            name: &name,
                            text: String::new(),
                        },
                        position,
                    )?;
                } else {
                    stack.push((name, String::new()));
                }
            }
            Event::End(_) => {
                let (name, text) = stack.pop().context("a closing tag without an opening one")?;
                visit(Step::Close { name: &name, text }, position)?;
            }
            Event::Text(ref e) => {
                let text = e.as_ref();
                if let Some((_, inside)) = stack.last_mut() {
                    inside.push_str(text);
                } else if !text.trim().is_empty() {
                    bail!("this is not a {what} export: it has text outside its elements");
                }
            }
            Event::CData(ref e) => {
                let text = e.as_ref();
                if let Some((_, inside)) = stack.last_mut() {
                    inside.push_str(text);
                }
            }
            Event::GeneralRef(ref e) => {
                let decoded = match e.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = e.as_ref();
                        super::html::decode_entities(&format!("&{name};"))
                    }
                };
                if let Some((_, inside)) = stack.last_mut() {
                    inside.push_str(&decoded);
                }
            }
            Event::Decl(ref e) => {
                if let Some(Ok(encoding)) = e.encoding() {
                    let encoding = encoding.to_ascii_lowercase();
                    if encoding != "utf-8" && encoding != "utf8" {
                        bail!(
                            "this export is encoded as {encoding}; only UTF-8 exports can be read (convert it with iconv first)"
                        );
                    }
                }
            }
            Event::Eof => {
                if !seen_root {
                    bail!("this is not a {what} export: the file has no XML elements");
                }
                if !stack.is_empty() {
                    bail!(
                        "the file ends inside <{}>: it looks cut short (truncated)",
                        stack.last().map_or("", |s| s.0.as_str())
                    );
                }
                return Ok(());
            }
            _ => {}
        }
        buf.clear();
    }
}

pub fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
