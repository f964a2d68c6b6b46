//! Untrusted HTML from another system turned into plain text. Nothing of the markup is kept:
//! paragraphs and line breaks become blank lines and newlines, a link becomes "text (url)" when
//! its text is not the address itself, entities are decoded, and the contents of `script` and
//! `style` are dropped entirely.

/// How line breaks in the source text itself are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newlines {
    /// WordPress and Drupal store what the commenter typed: a newline is a line break and a blank
    /// line a paragraph (their "autop" filters add the tags only when showing it).
    Kept,
    /// Disqus stores rendered HTML: a newline is only whitespace.
    Collapsed,
}

pub fn to_text(html: &str, newlines: Newlines) -> String {
    let mut out = String::with_capacity(html.len());
    let mut link: Option<(String, usize)> = None;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt], newlines);
        let after = &rest[lt + 1..];
        let Some(tag) = read_tag(after) else {
            // A lone '<' that starts no tag is text ("a < b").
            push_text(&mut out, "<", newlines);
            rest = after;
            continue;
        };
        rest = &after[tag.length..];
        match tag.name.as_str() {
            "script" | "style" | "iframe" | "object" | "template" | "noscript" if !tag.closing => {
                rest = skip_past_closing(rest, &tag.name);
            }
            "br" => out.push('\n'),
            "p" | "div" | "blockquote" | "li" | "ul" | "ol" | "pre" | "table" | "tr" | "h1" | "h2" | "h3"
            | "h4" | "h5" | "h6" | "hr" | "section" | "article" => paragraph(&mut out),
            "a" if !tag.closing => link = tag.href.map(|href| (href, out.len())),
            "a" => {
                if let Some((href, start)) = link.take() {
                    let text = out[start..].trim().to_owned();
                    if is_shown_address(&href) && text != href && !text.is_empty() {
                        out.push_str(" (");
                        out.push_str(&href);
                        out.push(')');
                    } else if text.is_empty() && is_shown_address(&href) {
                        out.push_str(&href);
                    }
                }
            }
            _ => {}
        }
    }
    push_text(&mut out, rest, newlines);
    tidy(&out)
}

/// Only web and mail addresses are worth showing; `javascript:` and the like are dropped.
fn is_shown_address(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mailto:")
}

fn paragraph(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        if out.ends_with('\n') {
            out.push('\n');
        } else {
            out.push_str("\n\n");
        }
    }
}

fn push_text(out: &mut String, text: &str, newlines: Newlines) {
    let decoded = decode_entities(text);
    match newlines {
        Newlines::Kept => out.push_str(&decoded),
        Newlines::Collapsed => {
            for c in decoded.chars() {
                if c.is_whitespace() && c != '\u{a0}' {
                    if !out.is_empty() && !out.ends_with([' ', '\n']) {
                        out.push(' ');
                    }
                } else {
                    out.push(c);
                }
            }
        }
    }
}

struct Tag {
    name: String,
    closing: bool,
    href: Option<String>,
    /// Bytes after the '<', up to and including the '>'.
    length: usize,
}

fn read_tag(s: &str) -> Option<Tag> {
    if let Some(comment) = s.strip_prefix("!--") {
        let end = comment.find("-->").map_or(s.len(), |i| i + 3 + 3);
        return Some(Tag {
            name: "!--".into(),
            closing: false,
            href: None,
            length: end,
        });
    }
    let (closing, body) = match s.strip_prefix('/') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let first = body.chars().next()?;
    if !first.is_ascii_alphabetic() && first != '!' && first != '?' {
        return None;
    }
    // Find the closing '>' outside quotes.
    let mut quote: Option<char> = None;
    let mut end = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let end = end.unwrap_or(s.len().saturating_sub(1));
    let inside = &s[..end.min(s.len())];
    let name: String = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '!' || *c == '?')
        .collect::<String>()
        .to_ascii_lowercase();
    let href = (name == "a" && !closing)
        .then(|| attribute(inside, "href"))
        .flatten();
    Some(Tag {
        name,
        closing,
        href,
        length: (end + 1).min(s.len()),
    })
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(decode_entities(value).trim().to_owned());
    }
    None
}

fn skip_past_closing<'a>(rest: &'a str, name: &str) -> &'a str {
    let lower = rest.to_ascii_lowercase();
    let closing = format!("</{name}");
    match lower.find(&closing) {
        Some(i) => match rest[i..].find('>') {
            Some(j) => &rest[i + j + 1..],
            None => "",
        },
        None => "",
    }
}

/// Decodes character references: numeric ones and the named ones comments use.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&i| i <= 10);
        let decoded = end.and_then(|i| entity(&after[..i]).map(|c| (c, i)));
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &after[i + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "pound" => '£',
        "euro" => '€',
        "copy" => '©',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "iacute" => 'í',
        "oacute" => 'ó',
        "uacute" => 'ú',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        "deg" => '°',
        "times" => '×',
        "frac12" => '½',
        _ => return None,
    })
}

/// Normalised text with trimmed lines and at most one blank line between paragraphs.
fn tidy(text: &str) -> String {
    let text = crate::text::normalise(text);
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_matches([' ', '\t']);
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_breaks_and_links_are_kept_as_text() {
        let html =
            "<p>First &amp; <b>bold</b>.</p><p>Second<br>line <a href=\"https://nhs.example/a\">here</a></p>";
        assert_eq!(
            to_text(html, Newlines::Collapsed),
            "First & bold.\n\nSecond\nline here (https://nhs.example/a)"
        );
    }

    #[test]
    fn scripts_styles_and_unsafe_links_are_dropped() {
        let html = "Hi<script>alert('x')</script><style>p{}</style> <a href=\"javascript:alert(1)\">you</a> &lt;3 &#x1F600;";
        assert_eq!(to_text(html, Newlines::Collapsed), "Hi you <3 😀");
    }

    #[test]
    fn typed_newlines_are_kept_when_the_source_stores_typed_text() {
        assert_eq!(
            to_text("One\n\n\n\nTwo\nthree", Newlines::Kept),
            "One\n\nTwo\nthree"
        );
        assert_eq!(
            to_text(
                "<a href=\"https://x.example\">https://x.example</a>",
                Newlines::Kept
            ),
            "https://x.example"
        );
    }
}
