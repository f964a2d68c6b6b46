//! Site settings: the words readers see that an admin may change in the browser (Admin →
//! Settings): the organisation's name, the notice, how replies are signed, the badge, the
//! disclaimer and the safety messages.
//!
//! Flags and `CARETHREAD_*` variables give the starting values (`Config`); a value saved in the
//! browser overrides its variable. Every process keeps the settings in memory ([`Live`]) with the
//! version they were read at; the version is read with every article (`articles::store`), so a
//! process reads the settings again only when they have changed, and no page view asks for them.
//! A change also moves every article's `comments_version`, which empties the thread caches,
//! changes the pages' ETags and queues a purge of shared caches, as any other change does.

pub mod routes;
pub mod service;
pub mod store;

use std::sync::{Arc, RwLock};

use crate::{config::Config, safety::triage::Category};

/// A setting an admin may change: its name (in forms and the database), its label, and the
/// rules for its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Organisation,
    Notice,
    StaffLabel,
    VerifiedBadge,
    Disclaimer,
    SafetyMessage,
    Safety(Category),
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::Organisation,
        Field::Notice,
        Field::StaffLabel,
        Field::VerifiedBadge,
        Field::Disclaimer,
        Field::SafetyMessage,
        Field::Safety(Category::Emergency999),
        Field::Safety(Category::UrgentCare),
        Field::Safety(Category::MentalHealth),
        Field::Safety(Category::DomesticAbuse),
    ];

    /// The field's name in the form and in `site_settings`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Organisation => "organisation",
            Field::Notice => "notice",
            Field::StaffLabel => "staff_label",
            Field::VerifiedBadge => "verified_badge",
            Field::Disclaimer => "disclaimer",
            Field::SafetyMessage => "safety_message",
            Field::Safety(Category::Emergency999) => "safety_999",
            Field::Safety(Category::UrgentCare) => "safety_urgent_care",
            Field::Safety(Category::MentalHealth) => "safety_mental_health",
            Field::Safety(Category::DomesticAbuse) => "safety_domestic_abuse",
        }
    }

    pub fn parse(name: &str) -> Option<Field> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The field's label on the page, also used in its error messages and the audit log.
    pub fn label(self) -> &'static str {
        match self {
            Field::Organisation => "Organisation name",
            Field::Notice => "Notice above each thread",
            Field::StaffLabel => "How midwives' replies are signed",
            Field::VerifiedBadge => "Badge beside midwives' replies",
            Field::Disclaimer => "Disclaimer after each midwife's reply",
            Field::SafetyMessage => "General safety message",
            Field::Safety(Category::Emergency999) => "Safety message: an emergency (999)",
            Field::Safety(Category::UrgentCare) => "Safety message: help needed today",
            Field::Safety(Category::MentalHealth) => "Safety message: thoughts of suicide or self-harm",
            Field::Safety(Category::DomesticAbuse) => "Safety message: domestic abuse",
        }
    }

    /// A line under the label saying what the setting does.
    pub fn hint(self) -> &'static str {
        match self {
            Field::Organisation => "Used in the notice and in how replies are signed.",
            Field::Notice => {
                "Shown above every thread. {organisation} is replaced by the organisation's name."
            }
            Field::StaffLabel => "Shown as the author of a midwife's reply, e.g. Midwife @{organisation}.",
            Field::VerifiedBadge => "The badge beside a midwife's reply, e.g. Verified midwife.",
            Field::Disclaimer => {
                "Shown after every new reply. Replies already published keep the disclaimer they were published with."
            }
            Field::SafetyMessage => {
                "Shown after posting a comment with a warning sign that has no category. Lines starting with \"- \" become a list."
            }
            Field::Safety(_) => {
                "Shown at once to a reader whose comment mentions such a warning sign. Start with why it is shown. Lines starting with \"- \" become a list."
            }
        }
    }

    /// Where the starting value comes from, said on the page while it is still in use.
    pub fn source(self) -> &'static str {
        match self {
            Field::Organisation => "Now set by CARETHREAD_ORGANISATION on the server.",
            Field::Notice => "Now set by CARETHREAD_NOTICE on the server.",
            Field::StaffLabel => "Now set by CARETHREAD_STAFF_LABEL on the server.",
            Field::VerifiedBadge => "Now set by CARETHREAD_VERIFIED_BADGE on the server.",
            Field::Disclaimer => "Now set by CARETHREAD_DISCLAIMER on the server.",
            Field::SafetyMessage => "Now set by CARETHREAD_SAFETY_MESSAGE on the server.",
            Field::Safety(_) => "Now the built-in message.",
        }
    }

    /// One line (a name or label), not a text of several lines.
    pub fn is_line(self) -> bool {
        matches!(
            self,
            Field::Organisation | Field::StaffLabel | Field::VerifiedBadge
        )
    }

    /// The longest value accepted, in characters.
    pub fn max_chars(self) -> usize {
        if self.is_line() { 100 } else { 2000 }
    }

    /// `value` as it would be stored, or what is wrong with it (naming the field by its label).
    pub fn check(self, value: &str) -> Result<String, String> {
        let value = if self.is_line() {
            crate::text::normalise_line(value)
        } else {
            crate::text::normalise(value)
        };
        let value = value.trim();
        let count = value.chars().count();
        if value.is_empty() {
            return Err(format!("Enter the {}", lower_first(self.label())));
        }
        if count > self.max_chars() {
            return Err(format!(
                "{} must be {} characters or fewer (it has {count})",
                self.label(),
                self.max_chars()
            ));
        }
        Ok(value.to_owned())
    }
}

fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The settings as they are now: the starting values with any changes made in the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteText {
    pub organisation: String,
    /// As written, with `{organisation}` (see [`SiteText::notice`]).
    pub notice: String,
    /// As written, with `{organisation}` (see [`SiteText::staff_label`]).
    pub staff_label: String,
    pub verified_badge: String,
    pub disclaimer: String,
    /// The disclaimer's version, when it was saved in the browser.
    pub disclaimer_version: Option<i64>,
    pub safety_message: String,
    /// Each category's message, in [`Category::ALL`]'s order.
    pub category_messages: [String; 4],
    /// The version of `site_settings_version` these were read at (0: none read yet).
    pub version: i64,
}

impl SiteText {
    /// The starting values, from flags and variables.
    pub fn starting(config: &Config) -> Self {
        Self {
            organisation: config.organisation.clone(),
            notice: config.notice.clone(),
            staff_label: config.staff_label.clone(),
            verified_badge: config.verified_badge.clone(),
            disclaimer: config.disclaimer.clone(),
            disclaimer_version: None,
            safety_message: config.safety_message.clone(),
            category_messages: Category::ALL.map(|c| c.message().to_owned()),
            version: 0,
        }
    }

    /// The notice with the organisation's name in it.
    pub fn notice(&self) -> String {
        self.notice.replace("{organisation}", &self.organisation)
    }

    /// How staff replies are signed, with the organisation's name in it.
    pub fn staff_label(&self) -> String {
        self.staff_label.replace("{organisation}", &self.organisation)
    }

    /// The help shown for an urgent comment: its category's message, or the general one.
    pub fn safety_message(&self, category: Option<Category>) -> &str {
        match category.and_then(|c| Category::ALL.iter().position(|x| *x == c)) {
            Some(i) => &self.category_messages[i],
            None => &self.safety_message,
        }
    }

    /// The value of `field`, as written.
    pub fn value(&self, field: Field) -> &str {
        match field {
            Field::Organisation => &self.organisation,
            Field::Notice => &self.notice,
            Field::StaffLabel => &self.staff_label,
            Field::VerifiedBadge => &self.verified_badge,
            Field::Disclaimer => &self.disclaimer,
            Field::SafetyMessage => &self.safety_message,
            Field::Safety(c) => self.safety_message(Some(c)),
        }
    }

    fn value_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Organisation => &mut self.organisation,
            Field::Notice => &mut self.notice,
            Field::StaffLabel => &mut self.staff_label,
            Field::VerifiedBadge => &mut self.verified_badge,
            Field::Disclaimer => &mut self.disclaimer,
            Field::SafetyMessage => &mut self.safety_message,
            Field::Safety(c) => {
                let i = Category::ALL.iter().position(|x| *x == c).unwrap_or(0);
                &mut self.category_messages[i]
            }
        }
    }

    /// These values with `value` for `field`.
    pub fn set(&mut self, field: Field, value: String) {
        *self.value_mut(field) = value;
    }
}

/// The settings this process shows, shared by every request, with the version they were read
/// at. Empty until first read: the starting values apply meanwhile.
#[derive(Debug, Clone, Default)]
pub struct Live(Arc<RwLock<Option<Arc<SiteText>>>>);

impl Live {
    pub fn get(&self) -> Option<Arc<SiteText>> {
        self.0.read().map(|held| held.clone()).unwrap_or_default()
    }

    /// The version held, if any was read.
    pub fn version(&self) -> Option<i64> {
        self.get().map(|text| text.version)
    }

    /// Keeps `text`, unless what is held is newer (two requests read them at once).
    pub fn put(&self, text: SiteText) {
        if let Ok(mut held) = self.0.write()
            && held.as_ref().is_none_or(|h| h.version <= text.version)
        {
            *held = Some(Arc::new(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_trimmed_and_an_empty_or_absurd_one_is_refused_by_its_label() {
        assert_eq!(
            Field::Organisation.check("  Example Trust ").unwrap(),
            "Example Trust"
        );
        assert_eq!(
            Field::Notice.check("  ").unwrap_err(),
            "Enter the notice above each thread"
        );
        let long = "a".repeat(2001);
        assert_eq!(
            Field::Disclaimer.check(&long).unwrap_err(),
            "Disclaimer after each midwife's reply must be 2000 characters or fewer (it has 2001)"
        );
        assert!(Field::VerifiedBadge.check(&"b".repeat(101)).is_err());
    }

    #[test]
    fn names_are_kept_on_one_line_and_messages_keep_their_lines() {
        assert_eq!(
            Field::Organisation.check("Example\nTrust").unwrap(),
            "Example Trust"
        );
        assert_eq!(
            Field::SafetyMessage.check("Please:\r\n- call 999").unwrap(),
            "Please:\n- call 999"
        );
    }

    #[test]
    fn every_field_has_its_own_name() {
        for field in Field::ALL {
            assert_eq!(Field::parse(field.name()), Some(field));
        }
    }

    #[test]
    fn the_notice_and_label_name_the_organisation_and_categories_have_their_messages() {
        let mut text = SiteText::starting(&Config::for_tests());
        text.set(Field::Organisation, "Example Trust".into());
        assert!(text.notice().contains("Example Trust"));
        assert_eq!(text.staff_label(), "Midwife @Example Trust");
        text.set(Field::Safety(Category::MentalHealth), "Talk to us.".into());
        assert_eq!(text.safety_message(Some(Category::MentalHealth)), "Talk to us.");
        assert_eq!(
            text.safety_message(Some(Category::Emergency999)),
            Category::Emergency999.message()
        );
        assert_eq!(text.safety_message(None), text.safety_message);
    }

    #[test]
    fn older_settings_never_replace_newer_ones() {
        let live = Live::default();
        let mut text = SiteText::starting(&Config::for_tests());
        text.version = 3;
        live.put(text.clone());
        text.version = 2;
        text.organisation = "Old".into();
        live.put(text);
        assert_eq!(live.version(), Some(3));
        assert_ne!(live.get().unwrap().organisation, "Old");
    }
}
