//! Where a reader is sent: each warning sign belongs to a category, and each category has its own
//! message. Categories are ordered by urgency, the most urgent first.

use serde::Serialize;

/// The help a warning sign calls for, most urgent first (`Ord` follows that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Call 999 or go to A&E now: heavy bleeding with faintness, collapse, someone unconscious,
    /// chest pain or struggling to breathe, a plan to end one's life or not being able to stay safe,
    /// someone hurting or threatening the reader now.
    Emergency999,
    /// NHS 111, the early pregnancy unit or the maternity unit today: heavy bleeding, large clots,
    /// signs of ectopic pregnancy or of infection, severe pain.
    UrgentCare,
    /// Samaritans and the GP: thoughts of suicide or self-harm without immediate danger.
    MentalHealth,
    /// The National Domestic Abuse Helpline, and 999 in danger.
    DomesticAbuse,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Emergency999,
        Category::UrgentCare,
        Category::MentalHealth,
        Category::DomesticAbuse,
    ];

    /// A stable name for addresses, lists and JSON: `999`, `urgent-care`, `mental-health`,
    /// `domestic-abuse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Emergency999 => "999",
            Category::UrgentCare => "urgent-care",
            Category::MentalHealth => "mental-health",
            Category::DomesticAbuse => "domestic-abuse",
        }
    }

    /// The category named by [`Category::as_str`], if it is one.
    pub fn parse(slug: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == slug)
    }

    /// One sentence saying why the message is shown; [`Category::message`] begins with it.
    pub fn why(self) -> &'static str {
        match self {
            Category::Emergency999 => {
                "We are showing you this because your comment mentions something that can be an emergency."
            }
            Category::UrgentCare => {
                "We are showing you this because your comment mentions a sign that a doctor or midwife should check today."
            }
            Category::MentalHealth => {
                "We are showing you this because your comment mentions thoughts of suicide or of hurting yourself."
            }
            Category::DomesticAbuse => {
                "We are showing you this because your comment mentions being hurt, threatened or afraid of someone."
            }
        }
    }

    /// What the reader sees after posting: lead lines, then `- ` list items, in the same format
    /// as the configurable general safety message.
    pub fn message(self) -> &'static str {
        match self {
            Category::Emergency999 => concat!(
                "We are showing you this because your comment mentions something that can be an emergency. If we have misread it, we are sorry.\n",
                "Please don't wait for a reply here:\n",
                "- Call 999 now, or go to A&E. If someone is with you, ask them to stay with you.\n",
                "- If your comment is about thoughts of ending your life, please call 999 too. Samaritans are also there day and night on 116 123 (free).\n",
                "- If someone is hurting or threatening you now, call 999. If you can't speak, stay on the line and press 55 when asked.",
            ),
            Category::UrgentCare => concat!(
                "We are showing you this because your comment mentions a sign that a doctor or midwife should check today. If we have misread it, we are sorry.\n",
                "Please don't wait for a reply here:\n",
                "- Call NHS 111, or your early pregnancy unit (EPU) or maternity unit, today.\n",
                "- Call 999 or go to A&E if you feel faint, the bleeding gets heavier, the pain becomes severe, or you have chest pain or trouble breathing.",
            ),
            Category::MentalHealth => concat!(
                "We are showing you this because your comment mentions thoughts of suicide or of hurting yourself. If we have misread it, we are sorry.\n",
                "You are not alone, and you don't have to wait for a reply here:\n",
                "- Samaritans are there day and night: call 116 123 (free) to talk to someone now.\n",
                "- Please tell your GP how you are feeling; you can ask for an urgent appointment.\n",
                "- If you might act on these thoughts or cannot keep yourself safe, call 999 or go to A&E.",
            ),
            Category::DomesticAbuse => concat!(
                "We are showing you this because your comment mentions being hurt, threatened or afraid of someone. If we have misread it, we are sorry.\n",
                "You deserve to be safe, and help is there:\n",
                "- The National Domestic Abuse Helpline is free and open day and night: 0808 2000 247.\n",
                "- If you are in danger now, call 999. If you can't speak, stay on the line and press 55 when asked.\n",
                "- You can also talk to your midwife or GP in confidence.",
            ),
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The help a reader is shown for an urgent comment: its category's own message, or the
/// configured general one for signs without a category (a custom list's).
pub fn message_for(category: Option<Category>, general: &str) -> &str {
    match category {
        Some(category) => category.message(),
        None => general,
    }
}
