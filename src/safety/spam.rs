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
/// stored. A random part makes every shown form different, so a submission can be recognised
/// when it arrives twice (see [`submission_key`]).
pub fn stamp(key: &[u8], shown_at: i64) -> String {
    stamp_with(key, shown_at, &format!("{:016x}", rand::random::<u64>()))
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

/// Names one submission of one shown form: its stamp, what it replies to and its text. Sending
/// the same form twice gives the same key; a different comment from the same page does not.
pub fn submission_key(stamp_value: &str, parent: &str, body: &str) -> Vec<u8> {
    use sha2::Digest;
    let mut hash = Sha256::new();
    for part in [stamp_value, parent, body] {
        hash.update(part.as_bytes());
        hash.update(b"\x1f");
    }
    hash.finalize().to_vec()
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
    fn every_shown_form_has_its_own_stamp_and_key() {
        let key = b"key";
        let (a, b) = (stamp(key, 1000), stamp(key, 1000));
        assert_ne!(a, b);
        assert_eq!(submission_key(&a, "", "hello"), submission_key(&a, "", "hello"));
        assert_ne!(submission_key(&a, "", "hello"), submission_key(&b, "", "hello"));
        assert_ne!(
            submission_key(&a, "", "hello"),
            submission_key(&a, "", "hello again")
        );
        assert_ne!(submission_key(&a, "", "hello"), submission_key(&a, "7", "hello"));
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
