//! Staff replies may use a small Markdown subset: paragraphs, lists, emphasis and links.
//! Raw HTML is dropped before rendering and the result is always sanitised, so what reaches a page
//! is only those elements, whatever was typed.

use std::{collections::HashSet, sync::LazyLock};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(["p", "br", "ul", "ol", "li", "em", "strong", "a"]))
        .tag_attributes([("a", HashSet::from(["href"]))].into())
        // Links carry their address and nothing else (no `title` popping up over a reply).
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["https", "http", "mailto", "tel"]))
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true);
    builder
});

/// Renders a staff reply to safe HTML.
pub fn render(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::empty()).filter_map(|event| match event {
        // No raw HTML, images, code or headings: keep their text only.
        Event::Html(_) | Event::InlineHtml(_) => None,
        Event::Code(text) => Some(Event::Text(text)),
        Event::Start(Tag::Heading { .. }) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::Heading(_)) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            id,
            ..
        }) => Some(Event::Start(Tag::Link {
            link_type,
            dest_url,
            title: "".into(),
            id,
        })),
        other => Some(other),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    SANITISER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_emphasis_and_links_are_kept() {
        let html = render("Hello **there**, *you*.\n\n- one\n- two\n\n[NHS](https://www.nhs.uk/)");
        assert!(html.contains("<strong>there</strong>"));
        assert!(html.contains("<em>you</em>"));
        assert!(html.contains("<ul>\n<li>one</li>"));
        assert!(html.contains(r#"<a href="https://www.nhs.uk/" rel="nofollow noopener noreferrer">NHS</a>"#));
    }

    #[test]
    fn raw_html_and_scripts_never_survive() {
        let html =
            render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\nok <b onclick=x>b</b>");
        assert!(!html.contains("<script"));
        assert!(!html.contains("onerror"));
        assert!(!html.contains("onclick"));
        assert!(html.contains("ok"));
    }

    #[test]
    fn links_keep_only_their_address() {
        let html = render("[NHS](https://www.nhs.uk/ \"Open me\") and <https://www.nhs.uk/>");
        assert!(!html.contains("title"), "{html}");
        assert!(html.contains(r#"<a href="https://www.nhs.uk/" rel="nofollow noopener noreferrer">NHS</a>"#));
    }

    #[test]
    fn javascript_links_are_removed() {
        let html = render("[click](javascript:alert(1))");
        assert!(!html.contains("javascript:"));
        assert!(html.contains("click"));
    }

    #[test]
    fn headings_become_paragraphs_and_images_their_text() {
        let html = render("# Big\n\n![alt text](https://example.org/x.png)");
        assert!(!html.contains("<h1"));
        assert!(!html.contains("<img"));
        assert!(html.contains("<p>Big</p>"));
    }
}
