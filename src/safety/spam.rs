//! Spam signals that need no database: links, banned phrases, the honeypot and the form stamp.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// More links than this makes a comment likely spam.
pub const MAX_LINKS: usize = 2;

pub fn link_count(text: &str) -> usize {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let bare_domains = text.matches("www.").count();
    finder.links(text).count().max(bare_domains)
}

/// The first banned phrase in `text`, compared without case.
pub fn banned_phrase<'a>(text: &str, banned: &'a [String]) -> Option<&'a str> {
    let lower = text.to_lowercase();
    banned
        .iter()
        .map(String::as_str)
        .find(|p| !p.trim().is_empty() && lower.contains(&p.trim().to_lowercase()))
}

/// Why a comment looks like spam, from its text alone.
pub fn text_reason(text: &str, banned: &[String]) -> Option<String> {
    if link_count(text) > MAX_LINKS {
        return Some(format!("more than {MAX_LINKS} links"));
    }
    banned_phrase(text, banned).map(|p| format!("banned phrase \u{201c}{p}\u{201d}"))
}

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
        mac.update(b"\x1f");
    }
    mac
}

/// A signed note of when the form was shown, for the `form_stamp` hidden field. Nothing is
/// stored. A random part makes every such form different; the JSON API hands these out.
pub fn stamp(key: &[u8], shown_at: i64) -> String {
    stamp_with(key, shown_at, &format!("{:016x}", rand::random::<u64>()))
}

/// The form stamp shared by every reader shown a thread within one window of `window` seconds:
/// the window's start, signed. A page carrying it is the same for everyone, so a shared cache may
/// keep it. It says when the window began, never later than the page was shown, so the timing
/// check on it can only be lenient (by up to the window and the cache's age), never harsh.
pub fn window_stamp(key: &[u8], now: i64, window: i64) -> String {
    let window = window.max(1);
    stamp_with(key, now - now.rem_euclid(window), &format!("w{window}"))
}

fn stamp_with(key: &[u8], shown_at: i64, nonce: &str) -> String {
    let signature = mac(key, &[b"form", shown_at.to_string().as_bytes(), nonce.as_bytes()])
        .finalize()
        .into_bytes();
    let hex: String = signature
        .iter()
        .take(SIGNATURE_BYTES)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{shown_at}.{nonce}.{hex}")
}

#[derive(Debug, PartialEq, Eq)]
pub enum Stamp {
    Fine,
    TooFast,
    /// Missing, forged or more than a day old.
    Invalid,
}

pub fn check_stamp(key: &[u8], stamp_value: &str, now: i64, min_seconds: i64) -> Stamp {
    let mut parts = stamp_value.splitn(3, '.');
    let (Some(at), Some(nonce), Some(signature)) = (parts.next(), parts.next(), parts.next()) else {
        return Stamp::Invalid;
    };
    let (Ok(shown_at), Some(signature)) = (at.parse::<i64>(), from_hex(signature)) else {
        return Stamp::Invalid;
    };
    // Checked in constant time by the MAC itself.
    let signed = signature.len() == SIGNATURE_BYTES
        && mac(key, &[b"form", shown_at.to_string().as_bytes(), nonce.as_bytes()])
            .verify_truncated_left(&signature)
            .is_ok();
    if !signed || shown_at > now + 60 || now - shown_at > 86_400 {
        Stamp::Invalid
    } else if now - shown_at < min_seconds {
        Stamp::TooFast
    } else {
        Stamp::Fine
    }
}

/// The signature's length: the first half of an HMAC-SHA256.
const SIGNATURE_BYTES: usize = 16;

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2)
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// Where a form was sent and by whom: the stamp (shared by every reader in a window, on every
/// article), the poster's address (as a keyed hash), the article and the comment it replies to.
pub struct FormUse<'a> {
    pub stamp: &'a str,
    pub client_hash: &'a [u8],
    pub article_id: i64,
    pub parent: &'a str,
}

impl FormUse<'_> {
    /// Names one submission: this use with its text. The same reader sending the same form twice
    /// gives the same key; another comment, or another reader sending the same words with the
    /// same (shared) form, does not.
    pub fn submission_key(&self, body: &str) -> Vec<u8> {
        self.digest(b"submission", body)
    }

    /// Names this use whatever was written. It stores at most `CARETHREAD_COMMENTS_PER_FORM`
    /// comments; more with the same key are a replay and go to the spam tab.
    pub fn form_key(&self) -> Vec<u8> {
        self.digest(b"form", "")
    }

    fn digest(&self, purpose: &[u8], body: &str) -> Vec<u8> {
        use sha2::Digest;
        let article = self.article_id.to_be_bytes();
        let parts: [&[u8]; 6] = [
            purpose,
            self.stamp.as_bytes(),
            self.client_hash,
            &article,
            self.parent.as_bytes(),
            body.as_bytes(),
        ];
        let mut hash = Sha256::new();
        for part in parts {
            hash.update(part.len().to_be_bytes());
            hash.update(part);
        }
        hash.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_links_are_too_many() {
        assert!(text_reason("see https://a.example and https://b.example", &[]).is_none());
        assert!(text_reason("https://a.example https://b.example https://c.example", &[]).is_some());
        assert!(text_reason("www.a.example www.b.example www.c.example", &[]).is_some());
    }

    #[test]
    fn banned_phrases_match_without_case() {
        let banned = vec!["cheap pills".to_owned()];
        assert_eq!(
            text_reason("Buy CHEAP Pills now", &banned).as_deref(),
            Some("banned phrase \u{201c}cheap pills\u{201d}")
        );
        assert!(text_reason("I took some pills", &banned).is_none());
    }

    #[test]
    fn every_stamp_from_the_api_is_its_own() {
        let key = b"key";
        assert_ne!(stamp(key, 1000), stamp(key, 1000));
    }

    #[test]
    fn every_reader_in_a_window_gets_the_same_stamp_and_the_next_window_another() {
        let key = b"key";
        let first = window_stamp(key, 1000, 10);
        assert_eq!(first, window_stamp(key, 1009, 10));
        assert_ne!(first, window_stamp(key, 1010, 10));
        assert!(first.starts_with("1000."), "{first}");
        assert_eq!(check_stamp(key, &first, 1009, 3), Stamp::Fine);
        assert_eq!(check_stamp(key, &first, 1002, 3), Stamp::TooFast);
    }

    #[test]
    fn submissions_are_told_apart_by_poster_article_parent_and_words() {
        let stamp = window_stamp(b"key", 1000, 10);
        let used = |client_hash: &'static [u8], article_id, parent| FormUse {
            stamp: &stamp,
            client_hash,
            article_id,
            parent,
        };
        let key = |client, article, parent, body| used(client, article, parent).submission_key(body);
        assert_eq!(key(b"a", 1, "", "hello"), key(b"a", 1, "", "hello"));
        assert_ne!(
            key(b"a", 1, "", "hello"),
            key(b"b", 1, "", "hello"),
            "two readers"
        );
        assert_ne!(
            key(b"a", 1, "", "hello"),
            key(b"a", 2, "", "hello"),
            "two articles"
        );
        assert_ne!(key(b"a", 1, "", "hello"), key(b"a", 1, "", "hello again"));
        assert_ne!(key(b"a", 1, "", "hello"), key(b"a", 1, "7", "hello"));
        assert_eq!(used(b"a", 1, "").form_key(), used(b"a", 1, "").form_key());
        assert_ne!(used(b"a", 1, "").form_key(), used(b"b", 1, "").form_key());
        assert_ne!(used(b"a", 1, "").form_key(), used(b"a", 2, "").form_key());
        assert_ne!(used(b"a", 1, "").form_key(), used(b"a", 1, "7").form_key());
        assert_ne!(used(b"a", 1, "").form_key(), used(b"a", 1, "").submission_key(""));
    }

    #[test]
    fn stamps_check_time_and_signature() {
        let key = b"secret";
        let s = stamp(key, 1000);
        assert_eq!(check_stamp(key, &s, 1010, 3), Stamp::Fine);
        assert_eq!(check_stamp(key, &s, 1001, 3), Stamp::TooFast);
        assert_eq!(check_stamp(key, &s, 1000 + 90_000, 3), Stamp::Invalid);
        assert_eq!(check_stamp(b"other", &s, 1010, 3), Stamp::Invalid);
        assert_eq!(check_stamp(key, "1000.00", 1010, 3), Stamp::Invalid);
        assert_eq!(check_stamp(key, "1000.00.00", 1010, 3), Stamp::Invalid);
        // The random part is signed too.
        let (head, tail) = s.split_at(5);
        let changed = format!(
            "{head}{}{}",
            if tail.starts_with('0') { '1' } else { '0' },
            &tail[1..]
        );
        assert_eq!(check_stamp(key, &changed, 1010, 3), Stamp::Invalid);
        assert_eq!(check_stamp(key, "", 1010, 3), Stamp::Invalid);
    }
}
