//! Articles: the organisation's pages that take comments here.

pub mod memo;
pub mod routes;
pub mod service;
pub mod store;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub url: String,
    pub comments_open: bool,
    pub created_at: DateTime<Utc>,
    /// Moves whenever readers' view of its comments changes (see the thread cache).
    pub comments_version: i64,
    /// The version of the site settings when the article was read (see `crate::settings`).
    pub settings_version: i64,
}

/// An article as listed on the front page.
#[derive(Debug, Clone)]
pub struct ArticleSummary {
    pub slug: String,
    pub title: String,
    pub published_comments: i64,
}

/// A slug as it appears in an address: lower-case letters and digits in words joined by hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let slug = raw.trim();
        let well_formed = !slug.is_empty()
            && slug.len() <= 100
            && slug.split('-').all(|word| {
                !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Ok(Self(slug.to_owned()))
        } else {
            Err(format!(
                "Short name for the address: '{raw}' is not a valid slug. Use lower-case letters and digits joined by single hyphens, e.g. after-a-miscarriage"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Slug {
    /// A short name made from a title: its letters and digits in lower case, words joined by
    /// hyphens, accents dropped where the letter is plain ASCII underneath ("Après" → "apres").
    pub fn suggest(title: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        let plain: String = title
            .nfd()
            .filter(char::is_ascii)
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    ' '
                }
            })
            .collect();
        let words: Vec<&str> = plain.split_whitespace().collect();
        let mut slug = String::new();
        for word in words {
            if slug.len() + word.len() + 1 > 100 {
                break;
            }
            if !slug.is_empty() {
                slug.push('-');
            }
            slug.push_str(word);
        }
        slug
    }
}

/// A new article, checked.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub slug: Slug,
    pub title: String,
    pub url: String,
    pub comments_open: bool,
}

impl NewArticle {
    pub fn parse(slug: &str, title: &str, url: &str, comments_open: bool) -> Result<Self, String> {
        use crate::text::normalise_line;
        // No short name given: one is made from the title.
        let suggested;
        let slug = if slug.trim().is_empty() {
            suggested = Slug::suggest(title);
            Slug::parse(&suggested)?
        } else {
            Slug::parse(slug)?
        };
        // The same normalisation as readers' text: no hidden or reordering characters.
        let title = normalise_line(title);
        let title = title.as_str();
        if title.is_empty() || title.chars().count() > 200 {
            return Err("Title: it must be between 1 and 200 characters.".into());
        }
        let url = normalise_line(url);
        let url = url.as_str();
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://"))
            || url.contains(char::is_whitespace)
        {
            return Err(format!(
                "Address of the article on your website: '{url}' is not a web address. It must start with https:// or http://"
            ));
        }
        Ok(Self {
            slug,
            title: title.to_owned(),
            url: url.to_owned(),
            comments_open,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        assert!(Slug::parse("after-a-miscarriage").is_ok());
        assert!(Slug::parse("week-12").is_ok());
        for bad in [
            "",
            "After",
            "two--hyphens",
            "-leading",
            "trailing-",
            "space here",
            "ünïcode",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_short_name_is_made_from_the_title_when_none_is_given() {
        assert_eq!(Slug::suggest("After a miscarriage"), "after-a-miscarriage");
        assert_eq!(
            Slug::suggest("Après la perte — 12 semaines"),
            "apres-la-perte-12-semaines"
        );
        let article =
            NewArticle::parse(" ", "Week 12: what to expect", "https://example.org/a", true).unwrap();
        assert_eq!(article.slug.as_str(), "week-12-what-to-expect");
    }

    #[test]
    fn article_addresses_must_be_web_addresses() {
        assert!(NewArticle::parse("a", "A", "https://example.org/a", true).is_ok());
        assert!(NewArticle::parse("a", "A", "javascript:alert(1)", true).is_err());
        assert!(NewArticle::parse("a", "  ", "https://example.org/a", true).is_err());
    }

    #[test]
    fn titles_and_addresses_lose_hidden_and_reordering_characters() {
        let article = NewArticle::parse(
            "a",
            "After\u{200B} a \u{202E}loss\u{0}",
            "https://example.org/\u{200B}a\u{202E}",
            true,
        )
        .unwrap();
        assert_eq!(article.title, "After a loss");
        assert_eq!(article.url, "https://example.org/a");
    }
}
