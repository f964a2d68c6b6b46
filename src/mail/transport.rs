//! Where mail goes: an SMTP server (lettre's SMTP transport, never sendmail and never raw
//! messages), or `.eml` files in a folder when no server is set.

use anyhow::Context as _;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox, MultiPart,
        header::{Header, HeaderName, HeaderValue},
    },
};
use secrecy::ExposeSecret;

use super::store::Queued;
use crate::config::MailConfig;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
}

impl Transport {
    /// `smtp://` means STARTTLS, required; `smtps://` TLS; `smtp://host?tls=none` no encryption
    /// (for a relay on the same host).
    pub fn new(config: &MailConfig) -> anyhow::Result<Self> {
        let Some(url) = &config.smtp_url else {
            std::fs::create_dir_all(&config.folder)
                .with_context(|| format!("could not create the mail folder {}", config.folder.display()))?;
            return Ok(Self::Files(
                AsyncFileTransport::new(&config.folder),
                config.folder.clone(),
            ));
        };
        let url = url.expose_secret();
        let lettre_url = lettre_url(url)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url)
            .context("CARETHREAD_SMTP_URL is not a mail server address (smtp://user:pass@host:587, smtps://… or smtp://host:25?tls=none)")?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Self::Smtp(transport))
    }

    /// Where mail goes, for the log (no password).
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "to the mail server in CARETHREAD_SMTP_URL".into(),
            Self::Files(_, folder) => format!(
                "as .eml files in {} (CARETHREAD_SMTP_URL is not set)",
                folder.display()
            ),
        }
    }

    pub async fn send(&self, from: &Mailbox, mail: &Queued) -> anyhow::Result<()> {
        let message = message(from, mail)?;
        match self {
            Self::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .context("the mail server refused it"),
            Self::Files(files, _) => files
                .send(message)
                .await
                .map(drop)
                .context("could not write the mail file"),
        }
    }
}

/// The URL forms in lettre's terms.
fn lettre_url(url: &str) -> anyhow::Result<String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("smtps://") {
        return Ok(url.to_owned());
    }
    anyhow::ensure!(
        lower.starts_with("smtp://"),
        "CARETHREAD_SMTP_URL must start with smtp:// or smtps://"
    );
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let tls = pairs.iter().find(|(k, _)| k == "tls").map(|(_, v)| v.clone());
    pairs.retain(|(k, _)| k != "tls");
    match tls.as_deref() {
        Some("none") => {}
        None | Some("required") => pairs.push(("tls".into(), "required".into())),
        Some("opportunistic") => pairs.push(("tls".into(), "opportunistic".into())),
        Some(other) => {
            anyhow::bail!("CARETHREAD_SMTP_URL: tls={other} is not one of required, opportunistic, none")
        }
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(pairs);
    let query = query.finish();
    Ok(if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{query}")
    })
}

/// A header whose value is this site's own (a link), checked to hold no line break.
macro_rules! simple_header {
    ($type:ident, $name:literal) => {
        #[derive(Debug, Clone)]
        struct $type(String);

        impl Header for $type {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(value: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(value.to_owned()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.replace(['\r', '\n'], ""))
            }
        }
    };
}

simple_header!(ListUnsubscribe, "List-Unsubscribe");
simple_header!(ListUnsubscribePost, "List-Unsubscribe-Post");

fn message(from: &Mailbox, mail: &Queued) -> anyhow::Result<Message> {
    let to: Mailbox = mail
        .recipient
        .as_deref()
        .context("the address of this mail has been forgotten")?
        .parse()
        .context("not a mail address")?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.replace(['\r', '\n'], " "));
    if let Some(url) = &mail.unsubscribe {
        builder = builder
            .header(ListUnsubscribe(format!("<{url}>")))
            .header(ListUnsubscribePost("List-Unsubscribe=One-Click".into()));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.body_text.clone(),
            mail.body_html.clone(),
        ))
        .context("could not build the mail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_addresses_mean_starttls_unless_told_otherwise() {
        assert_eq!(
            lettre_url("smtp://u:p@mail.example.org:587").unwrap(),
            "smtp://u:p@mail.example.org:587?tls=required"
        );
        assert_eq!(
            lettre_url("smtp://127.0.0.1:2525?tls=none").unwrap(),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            lettre_url("smtps://u:p@mail.example.org").unwrap(),
            "smtps://u:p@mail.example.org"
        );
        assert!(lettre_url("http://mail.example.org").is_err());
        assert!(lettre_url("smtp://mail.example.org?tls=maybe").is_err());
    }
}
