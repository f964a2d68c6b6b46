//! Text is normalised before it is checked or stored, whoever sent it (a reader, a member of
//! staff, the command line): Unicode NFC, Unix line endings, and no control characters or
//! bidirectional overrides (which can make text read differently from how it is stored). Limits
//! apply to the normalised text.

use unicode_normalization::UnicodeNormalization;

/// The longest name a person may give (a guest's, or a member of staff's), in characters.
pub const NAME_MAX_CHARS: usize = 80;

/// Characters that reorder text on screen: embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Zero-width characters that can hide words from filters.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Multi-line text: keeps line breaks and tabs.
pub fn normalise(text: &str) -> String {
    // Most text is already clean and composed: checking that is much cheaper than rebuilding it.
    if text.chars().all(kept) {
        if text.is_ascii()
            || unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
        {
            return text.to_owned();
        }
        return text.nfc().collect();
    }
    rebuilt(text)
}

/// The text made again character by character: line endings, removals, then composition.
/// Remove first, then compose: removing a character can bring a letter and its accent together.
fn rebuilt(text: &str) -> String {
    let clean: String = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| kept(*c))
        .collect();
    clean.nfc().collect()
}

/// Whether a character stays as it is (a carriage return does not: it becomes a line break).
fn kept(c: char) -> bool {
    (!c.is_control() || c == '\n' || c == '\t') && !is_bidi_control(c) && !is_invisible(c)
}

/// One line: line breaks and tabs become spaces, runs of spaces become one.
pub fn normalise_line(text: &str) -> String {
    normalise(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_comes_back_as_it_was_and_the_rest_as_the_long_way_makes_it() {
        for text in [
            "plain words",
            "café and naïve, 한국어, مرحبا, 👋🏽",
            "cafe\u{301}",
            "a\r\nb\rc",
            "x\u{202E}y\u{200B}z",
            "e\u{200B}\u{301}",
        ] {
            assert_eq!(normalise(text), rebuilt(text), "{text:?}");
        }
    }

    #[test]
    fn text_is_composed_to_nfc() {
        // "é" as e + combining acute becomes the single character.
        assert_eq!(normalise("cafe\u{301}"), "café");
        assert_eq!(normalise("cafe\u{301}").chars().count(), 4);
    }

    #[test]
    fn normalising_twice_changes_nothing_more() {
        let once = normalise("e\u{202E}\u{301}x\r\n");
        assert_eq!(once, "éx\n");
        assert_eq!(normalise(&once), once);
    }

    #[test]
    fn bidirectional_overrides_and_controls_are_removed() {
        assert_eq!(normalise("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(normalise("a\u{0}b\u{7}c\u{1b}[31m"), "abc[31m");
        assert_eq!(normalise("zero\u{200B}width"), "zerowidth");
    }

    #[test]
    fn line_breaks_survive_in_text_but_not_in_a_line() {
        assert_eq!(normalise("one\r\ntwo\rthree"), "one\ntwo\nthree");
        assert_eq!(normalise_line("  Sam \n\t Lee "), "Sam Lee");
    }
}
