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

/// A keyed hash of a client address: enough to count and compare, useless to recover the address.
pub fn address_hash(key: &[u8], address: std::net::IpAddr) -> Vec<u8> {
    mac(key, &[b"address", address.to_string().as_bytes()])
        .finalize()
        .into_bytes()
        .to_vec()
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
    let hex: String = signature.iter().take(16).map(|b| format!("{b:02x}")).collect();
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
    let (Some(at), Some(nonce), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Stamp::Invalid;
    };
    let Ok(shown_at) = at.parse::<i64>() else {
        return Stamp::Invalid;
    };
    let expected = stamp_with(key, shown_at, nonce);
    let same = expected.len() == stamp_value.len()
        && expected
            .bytes()
            .zip(stamp_value.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same || shown_at > now + 60 || now - shown_at > 86_400 {
        Stamp::Invalid
    } else if now - shown_at < min_seconds {
        Stamp::TooFast
    } else {
        Stamp::Fine
    }
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

    #[test]
    fn address_hashes_are_stable_per_key_and_hide_the_address() {
        let ip: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(address_hash(b"k", ip), address_hash(b"k", ip));
        assert_ne!(address_hash(b"k", ip), address_hash(b"other", ip));
        assert!(!String::from_utf8_lossy(&address_hash(b"k", ip)).contains("192.0.2.7"));
    }
}
