//! Guests' comments are plain text. We keep their line breaks, turn bare web addresses into links,
//! and never interpret HTML: the result is a structure the templates escape, not an HTML string.

use linkify::{LinkFinder, LinkKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// A paragraph is a list of lines; a line is a list of segments.
pub type Paragraph = Vec<Vec<Segment>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainText {
    pub paragraphs: Vec<Paragraph>,
}

impl PlainText {
    pub fn new(text: &str) -> Self {
        let mut finder = LinkFinder::new();
        finder.kinds(&[LinkKind::Url]);
        let mut paragraphs = Vec::new();
        let mut current: Paragraph = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                if !current.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
                continue;
            }
            current.push(segments(&finder, line));
        }
        if !current.is_empty() {
            paragraphs.push(current);
        }
        Self { paragraphs }
    }
}

fn segments(finder: &LinkFinder, line: &str) -> Vec<Segment> {
    finder
        .spans(line)
        .map(|span| {
            let text = span.as_str().to_owned();
            let lower = text.to_ascii_lowercase();
            let is_web_link = span.kind() == Some(&LinkKind::Url)
                && (lower.starts_with("https://") || lower.starts_with("http://"));
            if is_web_link {
                Segment::Link(text)
            } else {
                Segment::Text(text)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Segment {
        Segment::Text(s.into())
    }

    #[test]
    fn line_breaks_are_kept_and_blank_lines_start_paragraphs() {
        let plain = PlainText::new("first line\nsecond line\n\nnew paragraph");
        assert_eq!(
            plain.paragraphs,
            vec![
                vec![vec![text("first line")], vec![text("second line")]],
                vec![vec![text("new paragraph")]]
            ]
        );
    }

    #[test]
    fn bare_web_addresses_become_links() {
        let plain = PlainText::new("see https://example.org/help. thanks");
        assert_eq!(
            plain.paragraphs[0][0],
            vec![
                text("see "),
                Segment::Link("https://example.org/help".into()),
                text(". thanks")
            ]
        );
    }

    #[test]
    fn other_schemes_stay_text() {
        let plain = PlainText::new("javascript://%0aalert(1) and ftp://example.org/x");
        assert!(
            plain.paragraphs[0][0]
                .iter()
                .all(|s| matches!(s, Segment::Text(_)))
        );
    }

    #[test]
    fn html_is_kept_as_text_for_the_template_to_escape() {
        let plain = PlainText::new("<b>hi</b>");
        assert_eq!(plain.paragraphs[0][0], vec![text("<b>hi</b>")]);
    }
}
