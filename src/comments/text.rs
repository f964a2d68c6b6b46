//! Guests' comments are plain text. We keep their line breaks, turn bare web addresses into links,
//! and never interpret HTML: the result is a structure the templates escape, not an HTML string.

use linkify::{LinkFinder, LinkKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
    /// Personal data highlighted for moderators, with what kind it is.
    Mark(String, &'static str),
}

/// A paragraph is a list of lines; a line is a list of segments.
pub type Paragraph = Vec<Vec<Segment>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainText {
    pub paragraphs: Vec<Paragraph>,
}

impl PlainText {
    /// For moderators: like [`PlainText::new`], with the given byte ranges marked (they must not
    /// cross a line break).
    pub fn marked(text: &str, marks: &[(std::ops::Range<usize>, &'static str)]) -> Self {
        if marks.is_empty() {
            return Self::new(text);
        }
        let mut finder = LinkFinder::new();
        finder.kinds(&[LinkKind::Url]);
        let mut paragraphs = Vec::new();
        let mut current: Paragraph = Vec::new();
        let mut offset = 0;
        for raw_line in text.split_inclusive('\n') {
            let line_start = offset;
            offset += raw_line.len();
            let line = raw_line.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                if !current.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
                continue;
            }
            let mut segs = Vec::new();
            let mut at = 0;
            for (range, label) in marks {
                if range.start < line_start || range.end > line_start + line.len() {
                    continue;
                }
                let (start, end) = (range.start - line_start, range.end - line_start);
                if start < at {
                    continue;
                }
                segs.extend(segments(&finder, &line[at..start]));
                segs.push(Segment::Mark(line[start..end].to_owned(), label));
                at = end;
            }
            segs.extend(segments(&finder, &line[at..]));
            current.push(segs);
        }
        if !current.is_empty() {
            paragraphs.push(current);
        }
        Self { paragraphs }
    }

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
    if line.is_empty() {
        return Vec::new();
    }
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
    fn marks_highlight_ranges_within_their_line() {
        let text = "call 07700 900123\nthanks";
        let plain = PlainText::marked(text, &[(5..17, "phone number")]);
        assert_eq!(
            plain.paragraphs[0],
            vec![
                vec![
                    text_seg("call "),
                    Segment::Mark("07700 900123".into(), "phone number")
                ],
                vec![text_seg("thanks")]
            ]
        );
    }

    fn text_seg(s: &str) -> Segment {
        Segment::Text(s.into())
    }

    #[test]
    fn html_is_kept_as_text_for_the_template_to_escape() {
        let plain = PlainText::new("<b>hi</b>");
        assert_eq!(plain.paragraphs[0][0], vec![text("<b>hi</b>")]);
    }
}
