//! Reading the pages and responses the application sends: form fields, links, redirects and
//! text as the templates escape it.

use reqwest::header;

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The first link-like path on the page starting with `prefix` (up to the closing quote).
pub fn path_on_page(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)?;
    Some(html[start..].chars().take_while(|c| *c != '"').collect())
}

/// The value of a hidden form field, unescaped.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

/// `s` as the templates write it into a page.
pub fn escaped(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The position of `needle` in `haystack`, failing the test if it is missing.
pub fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("expected to find {needle:?} in the page"))
}

/// The thank-you address after posting, without its private status link (`&status=<token>`),
/// which differs each time; fails the test when the link is missing or not shaped like one.
pub fn without_status_link(location: &str) -> String {
    let start = location
        .find("&status=")
        .unwrap_or_else(|| panic!("no status link in {location:?}"));
    let token_end = location[start + 8..]
        .find(['&', '#'])
        .map_or(location.len(), |n| start + 8 + n);
    let token = &location[start + 8..token_end];
    assert_eq!(token.len(), 43, "a status token of 32 random bytes: {token:?}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    format!("{}{}", &location[..start], &location[token_end..])
}

/// The page's words as a reader sees them: tags taken out, entities as written by the templates
/// turned back into characters.
pub fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text)
}
