//! Personal data in guests' comments: phone numbers, email addresses, UK postcodes and NHS
//! numbers. Found for moderators to see (and redact) before a comment is published.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Phone,
    Email,
    Postcode,
    NhsNumber,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Phone => "phone number",
            Kind::Email => "email address",
            Kind::Postcode => "postcode",
            Kind::NhsNumber => "NHS number",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub range: Range<usize>,
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+\b").expect("regex"));
// UK numbers: +44 or 0, then 9–10 more digits in groups separated by spaces, dots or dashes.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+44[ .\-]?(?:\(0\)[ .\-]?)?|\b0)(?:\d[ .\-]?){8,9}\d\b").expect("regex")
});
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2}\b")
        .expect("regex")
});
// Ten digits, usually written 3-3-4; confirmed with the NHS number check digit.
static NHS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{3}[ \-]?\d{3}[ \-]?\d{4}\b").expect("regex"));

/// Whether ten digits carry a valid NHS number check digit (modulus 11).
pub fn is_nhs_number(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().enumerate().map(|(i, n)| n * (10 - i as u32)).sum();
    let check = 11 - (sum % 11);
    match check {
        11 => d[9] == 0,
        10 => false,
        c => d[9] == c,
    }
}

/// Everything found, in text order, without overlaps (an NHS number is not also a phone number).
pub fn find(text: &str) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut add = |kind: Kind, range: Range<usize>| {
        if !found
            .iter()
            .any(|f| f.range.start < range.end && range.start < f.range.end)
        {
            found.push(Found { kind, range });
        }
    };
    for m in EMAIL.find_iter(text) {
        add(Kind::Email, m.range());
    }
    for m in NHS.find_iter(text) {
        if is_nhs_number(m.as_str()) {
            add(Kind::NhsNumber, m.range());
        }
    }
    for m in PHONE.find_iter(text) {
        add(Kind::Phone, m.range());
    }
    for m in POSTCODE.find_iter(text) {
        add(Kind::Postcode, m.range());
    }
    found.sort_by_key(|f| f.range.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        find(text)
            .into_iter()
            .map(|f| (f.kind, text[f.range].to_owned()))
            .collect()
    }

    #[test]
    fn phone_numbers_are_found_in_common_forms() {
        for phone in [
            "07700 900123",
            "07700900123",
            "+44 7700 900123",
            "020 7946 0018",
            "+44 (0)20 7946 0018",
        ] {
            let text = format!("call me on {phone} please");
            assert_eq!(kinds(&text), vec![(Kind::Phone, phone.to_owned())], "{phone}");
        }
    }

    #[test]
    fn emails_and_postcodes_are_found() {
        assert_eq!(
            kinds("write to sam.lee@example.org"),
            vec![(Kind::Email, "sam.lee@example.org".into())]
        );
        assert_eq!(
            kinds("I live in SW1A 1AA now"),
            vec![(Kind::Postcode, "SW1A 1AA".into())]
        );
        assert_eq!(kinds("near m1 1ae"), vec![(Kind::Postcode, "m1 1ae".into())]);
    }

    #[test]
    fn nhs_numbers_need_a_valid_check_digit() {
        // 943 476 5919 is the NHS's published example of a valid number.
        assert_eq!(
            kinds("my number is 943 476 5919"),
            vec![(Kind::NhsNumber, "943 476 5919".into())]
        );
        assert!(is_nhs_number("9434765919"));
        assert!(!is_nhs_number("9434765918"));
    }

    #[test]
    fn ordinary_numbers_and_words_are_left_alone() {
        assert!(find("I was 12 weeks along, it was 2023, we waited 3 hours").is_empty());
        assert!(find("Thank you, this helped").is_empty());
    }
}
