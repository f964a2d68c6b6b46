//! What each mail says: short, kind, and never the words of a comment or a reply (inboxes are
//! shared and previews show on lock screens). One structure per mail gives both the plain text
//! and the HTML alternative, from the same askama templates.

use askama::Template;

use super::{Mail, confirm_url, stop_url};
use crate::config::Config;

/// A paragraph of a mail: words, or a link with what it does.
pub enum Block {
    Text(String),
    Link(String, String),
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextPart<'a> {
    body: &'a [Block],
    footer: &'a [Block],
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    body: &'a [Block],
    footer: &'a [Block],
}

/// No line breaks in anything that may reach a header.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn mail(
    kind: &'static str,
    to: &str,
    subject: String,
    body: &[Block],
    footer: &[Block],
    unsubscribe: Option<String>,
) -> Mail {
    let subject = one_line(&subject);
    let text = TextPart { body, footer }.render().unwrap_or_default();
    let html = HtmlPart {
        subject: &subject,
        body,
        footer,
    }
    .render()
    .unwrap_or_default();
    Mail {
        kind,
        to: one_line(to),
        subject,
        // Plain CR-free text: lettre turns line ends into CRLF itself.
        text: text.replace('\r', ""),
        html: html.replace('\r', ""),
        unsubscribe: unsubscribe.map(|u| one_line(&u)),
    }
}

/// The first mail to a reader's address: only a link that confirms.
pub fn confirmation(config: &Config, key: &[u8], address_id: i64, to: &str) -> Mail {
    let site = &config.mail.site_name;
    let stop = stop_url(config, key, address_id, None);
    let body = [
        Block::Text(format!(
            "Someone asked {site} to email this address when there is a reply to their comment. If it was you, please confirm:"
        )),
        Block::Link(
            "Confirm my email address".into(),
            confirm_url(config, key, address_id),
        ),
        Block::Text(
            "If it was not you, you need do nothing: we will not send anything else to this address.".into(),
        ),
    ];
    let footer = [Block::Link("Never email this address".into(), stop.clone())];
    mail(
        "confirm",
        to,
        format!("Please confirm your email for {site}"),
        &body,
        &footer,
        Some(stop),
    )
}

/// One published reply, for the reply mail.
pub struct ReplyLink {
    pub comment_id: i64,
    pub reply_id: i64,
    pub article_slug: String,
    pub article_title: String,
}

/// Replies to a reader's comments: where to read them, and how to stop.
pub fn replies(config: &Config, key: &[u8], address_id: i64, to: &str, links: &[ReplyLink]) -> Mail {
    let site = &config.mail.site_name;
    let mut body = vec![Block::Text(if links.len() == 1 {
        format!("There is a new reply to your comment on {site}.")
    } else {
        format!(
            "There are {} new replies to your comments on {site}.",
            links.len()
        )
    })];
    for link in links {
        let url = format!(
            "{}/articles/{}#comment-{}",
            config.public_url, link.article_slug, link.reply_id
        );
        body.push(Block::Link(
            format!("Read the reply on \u{201c}{}\u{201d}", link.article_title),
            url,
        ));
    }
    let mut footer = vec![Block::Text(
        "You asked to be told about replies. You can stop at any time:".into(),
    )];
    let mut comments: Vec<i64> = links.iter().map(|l| l.comment_id).collect();
    comments.dedup();
    for comment in comments {
        footer.push(Block::Link(
            "Stop mails about this comment".into(),
            stop_url(config, key, address_id, Some(comment)),
        ));
    }
    let stop_all = stop_url(config, key, address_id, None);
    footer.push(Block::Link(
        "Stop all mails to this address".into(),
        stop_all.clone(),
    ));
    mail(
        "reply",
        to,
        format!("You have a reply on {site}"),
        &body,
        &footer,
        Some(stop_all),
    )
}

/// To a member of staff: an urgent comment waits. No text of it.
pub fn urgent_alert(config: &Config, to: &str, comment_id: i64) -> Mail {
    let site = &config.mail.site_name;
    let body = [
        Block::Text(
            "A reader's comment mentions a warning sign and is waiting in the moderation queue.".into(),
        ),
        Block::Link(
            "Open it in the queue".into(),
            format!("{}/moderation/comments/{comment_id}", config.public_url),
        ),
    ];
    let footer = [Block::Link(
        "Change your alerts".into(),
        format!("{}/account/alerts", config.public_url),
    )];
    mail(
        "urgent",
        to,
        format!("Urgent comment waiting on {site}"),
        &body,
        &footer,
        None,
    )
}

/// An invitation or a password-reset link, to the person it is for.
pub fn account_link(config: &Config, to: &str, invitation: bool, link: &str, hours: i64) -> Mail {
    let site = &config.mail.site_name;
    let (kind, subject, lead, action) = if invitation {
        (
            "invitation",
            format!("Your invitation to {site}"),
            format!("You have been invited to help answer readers' comments on {site}."),
            "Choose your password",
        )
    } else {
        (
            "reset",
            format!("Choose a new password for {site}"),
            format!("An admin made a link for you to choose a new password for {site}."),
            "Choose a new password",
        )
    };
    let body = [
        Block::Text(lead),
        Block::Link(action.into(), link.to_owned()),
        Block::Text(format!(
            "The link works once, for {hours} hours. If you did not expect this mail, you can ignore it."
        )),
    ];
    mail(kind, to, subject, &body, &[], None)
}

/// To a member of staff who asked for it: how the queue stands.
pub fn digest(config: &Config, to: &str, waiting: i64, urgent: i64, oldest: Option<String>) -> Mail {
    let site = &config.mail.site_name;
    let mut body = vec![Block::Text(match waiting {
        0 => "No comments are waiting for moderation.".to_owned(),
        1 => "1 comment is waiting for moderation.".to_owned(),
        n => format!("{n} comments are waiting for moderation."),
    })];
    if urgent > 0 {
        body.push(Block::Text(format!("{urgent} of them mention a warning sign.")));
    }
    if let Some(oldest) = oldest {
        body.push(Block::Text(format!("The oldest has waited {oldest}.")));
    }
    body.push(Block::Link(
        "Open the queue".into(),
        format!("{}/moderation", config.public_url),
    ));
    let footer = [Block::Link(
        "Change your mails".into(),
        format!("{}/account/alerts", config.public_url),
    )];
    mail(
        "digest",
        to,
        format!("Comments waiting on {site}"),
        &body,
        &footer,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_carry_links_not_comment_text_and_no_line_breaks_in_headers() {
        let config = Config::for_tests();
        let mail = replies(
            &config,
            b"key",
            3,
            "sam@example.org\r\nBcc: x@example.org",
            &[ReplyLink {
                comment_id: 5,
                reply_id: 9,
                article_slug: "after-a-loss".into(),
                article_title: "After a loss".into(),
            }],
        );
        assert_eq!(mail.subject, "You have a reply on Carethread");
        assert!(!mail.to.contains('\n') && !mail.to.contains('\r'));
        assert!(mail.text.contains("/articles/after-a-loss#comment-9"));
        assert!(mail.html.contains("/articles/after-a-loss#comment-9"));
        assert!(mail.text.contains("Stop all mails to this address"));
        assert!(mail.unsubscribe.is_some_and(|u| u.contains("/mail/stop/3/")));
    }
}
