//! Mail, through a real SMTP conversation over TCP: confirmation first, reply mails only once a
//! reply is published and only to confirmed addresses, no comment text in any mail, one-click
//! stopping, batching, urgent alerts, invitations, the private status link, and privacy.

use carethread::{
    accounts::Role,
    comments::CommentStatus::Published,
    config::Config,
    mail::{self, transport::Transport},
};
use reqwest::{StatusCode, header};

use crate::helpers::{SmtpSink, TestApp, location, new_client};

/// Words that must never reach a mail.
const QUESTION: &str = "Private words about my own loss, quill-marker";
const ANSWER: &str = "A midwife's careful answer, lantern-marker.";

struct Site {
    app: TestApp,
    sink: SmtpSink,
}

async fn site(configure: impl FnOnce(&mut Config)) -> Site {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(|c| {
        c.mail.smtp_url = Some(url.into());
        c.mail.batch = chrono::Duration::zero();
        c.public_url = "https://comments.example.org".into();
        configure(c);
    })
    .await;
    app.add_article("a", "After a loss").await;
    Site { app, sink }
}

impl Site {
    /// One round of the mail worker, as every `serve` process runs it.
    async fn send_mail(&self) {
        let config = self.config();
        let transport = Transport::new(&config.mail).expect("transport");
        let from = config.mail.from.parse().expect("from");
        mail::worker::round(&self.context().await, &transport, &from, false)
            .await
            .expect("a mail round");
    }

    fn config(&self) -> Config {
        let mut config = Config::for_tests();
        config.mail.smtp_url = Some(self.sink.url().into());
        config.mail.batch = chrono::Duration::zero();
        config.public_url = "https://comments.example.org".into();
        config
    }

    /// What the worker of a `serve` process has, with the key the application signs mail links
    /// with (derived from the site secret).
    async fn context(&self) -> mail::Context {
        let secret = carethread::db::site_secret(&self.app.db)
            .await
            .expect("site secret");
        let state = carethread::AppState::new(self.app.db.clone(), self.config(), &secret).expect("state");
        mail::Context {
            db: self.app.db.clone(),
            config: std::sync::Arc::new(self.config()),
            key: std::sync::Arc::clone(&state.mail_key),
        }
    }

    /// Posts a comment asking for reply mails; the id of the comment.
    async fn post_asking_for_replies(&self, email: &str) -> i64 {
        let response = self
            .app
            .post_comment(
                "a",
                &[
                    ("name", "Sam"),
                    ("email", email),
                    ("notify", "1"),
                    ("body", QUESTION),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        sqlx::query_scalar("SELECT max(id) FROM comments")
            .fetch_one(&self.app.db)
            .await
            .unwrap()
    }

    async fn midwife_replies(&self, midwife: &crate::helpers::StaffUser, id: i64, body: &str) -> i64 {
        let response = self
            .app
            .post_as(
                &midwife.client,
                &format!("/moderation/comments/{id}/reply"),
                &[("body", body)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        sqlx::query_scalar("SELECT max(id) FROM comments WHERE author_kind = 'staff'")
            .fetch_one(&self.app.db)
            .await
            .unwrap()
    }

    fn mails(&self) -> Vec<String> {
        self.sink.messages()
    }
}

fn link_in(mail: &str, path: &str) -> String {
    let start = mail
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in:\n{mail}"));
    let end = mail[start..]
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .map_or(mail.len(), |n| start + n);
    mail[start..end].to_owned()
}

fn header_in<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[tokio::test]
async fn a_reader_confirms_then_hears_of_a_published_reply_and_stops_in_one_click() {
    let site = site(|_| {}).await;
    let midwife = site.app.staff("Jo", Role::Midwife, true).await;
    let question = site.post_asking_for_replies("sam.reader@example.net").await;

    site.send_mail().await;
    let mails = site.mails();
    assert_eq!(mails.len(), 1, "a confirmation, and nothing else");
    let confirmation = &mails[0];
    assert_eq!(
        header_in(confirmation, "Subject"),
        Some("Please confirm your email for Carethread")
    );
    assert!(header_in(confirmation, "List-Unsubscribe").is_some());
    assert_eq!(
        header_in(confirmation, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );

    // Before the address is confirmed, a published reply sends nothing.
    site.midwife_replies(&midwife, question, ANSWER).await;
    site.send_mail().await;
    assert_eq!(site.mails().len(), 1, "nothing before confirmation");

    // Confirming is a page with a button: opening the link alone changes nothing.
    let confirm = link_in(confirmation, "https://comments.example.org/mail/confirm/")
        .replace("https://comments.example.org", &site.app.address);
    let page = site.app.client.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let confirmed: bool = sqlx::query_scalar("SELECT confirmed_at IS NOT NULL FROM mail_addresses")
        .fetch_one(&site.app.db)
        .await
        .unwrap();
    assert!(!confirmed);
    let done = site.app.client.post(&confirm).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Your email address is confirmed")
    );

    let reply = site.midwife_replies(&midwife, question, "A second answer.").await;
    site.send_mail().await;
    let mails = site.mails();
    assert_eq!(mails.len(), 2);
    let reply_mail = &mails[1];
    assert_eq!(
        header_in(reply_mail, "Subject"),
        Some("You have a reply on Carethread")
    );
    assert!(reply_mail.contains(&format!(
        "https://comments.example.org/articles/a#comment-{reply}"
    )));
    let unsubscribe = header_in(reply_mail, "List-Unsubscribe")
        .expect("a one-click unsubscribe header")
        .trim_matches(['<', '>'])
        .replace("https://comments.example.org", &site.app.address);

    // One click from the mail program: no sign-in, no page.
    let stopped = new_client()
        .post(&unsubscribe)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), StatusCode::OK);
    site.midwife_replies(&midwife, question, "A third answer.").await;
    site.send_mail().await;
    assert_eq!(site.mails().len(), 2, "nothing after stopping");

    for mail in site.mails() {
        assert!(
            !mail.contains("quill-marker") && !mail.contains("lantern-marker"),
            "no comment text:\n{mail}"
        );
    }
}

#[tokio::test]
async fn asking_for_replies_without_an_address_is_a_field_error_with_the_text_kept() {
    let site = site(|_| {}).await;
    let response = site
        .app
        .post_comment("a", &[("name", "Sam"), ("notify", "1"), ("body", QUESTION)])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("To be told about replies, please give your email address"));
    assert!(html.contains(&format!("{QUESTION}</textarea>")));
    assert!(html.contains(r#"name="notify" value="1" checked"#));
    assert_eq!(site.app.comment_count().await, 0);
}

#[tokio::test]
async fn replies_published_close_together_go_in_one_mail_after_the_batch_time() {
    let site = site(|_| {}).await;
    let midwife = site.app.staff("Jo", Role::Midwife, true).await;
    let question = site.post_asking_for_replies("sam.reader@example.net").await;
    sqlx::query("UPDATE mail_addresses SET confirmed_at = now()")
        .execute(&site.app.db)
        .await
        .unwrap();
    let mut config = site.config();
    config.mail.batch = chrono::Duration::minutes(15);
    let first = site.midwife_replies(&midwife, question, "One.").await;
    let second = site.midwife_replies(&midwife, question, "Two.").await;
    let transport = Transport::new(&config.mail).unwrap();
    let from = config.mail.from.parse().unwrap();
    let ctx = mail::Context {
        config: std::sync::Arc::new(config),
        ..site.context().await
    };
    mail::worker::round(&ctx, &transport, &from, false).await.unwrap();
    assert_eq!(
        site.mails().len(),
        1,
        "only the confirmation: the replies wait for the batch"
    );
    sqlx::query("UPDATE reply_notices SET created_at = now() - interval '16 minutes'")
        .execute(&site.app.db)
        .await
        .unwrap();
    mail::worker::round(&ctx, &transport, &from, false).await.unwrap();
    let mails = site.mails();
    assert_eq!(mails.len(), 2, "one mail for both replies");
    assert!(
        mails[1].contains(&format!("#comment-{first}")) && mails[1].contains(&format!("#comment-{second}"))
    );
    assert!(mails[1].contains("There are 2 new replies"));
}

#[tokio::test]
async fn an_urgent_comment_alerts_the_staff_who_want_it_without_its_words() {
    let site = site(|_| {}).await;
    site.app.create_staff("Kim", Role::Moderator, false).await;
    site.app.create_staff("Ada", Role::Admin, true).await;
    site.app.create_staff("Jo", Role::Midwife, true).await;
    let response = site
        .app
        .post_comment(
            "a",
            &[("name", "Sam"), ("body", "I am bleeding heavily, quill-marker.")],
        )
        .await;
    assert!(location(&response).contains("posted=safety"));
    site.send_mail().await;
    let mails = site.mails();
    let recipients: Vec<&str> = mails.iter().filter_map(|m| header_in(m, "To")).collect();
    assert_eq!(
        recipients,
        ["kim@example.org", "ada@example.org"],
        "not the midwife, by default"
    );
    for mail in &mails {
        assert_eq!(
            header_in(mail, "Subject"),
            Some("Urgent comment waiting on Carethread")
        );
        assert!(mail.contains("https://comments.example.org/moderation/comments/"));
        assert!(!mail.contains("quill-marker"));
    }
}

#[tokio::test]
async fn staff_choose_their_alerts_on_their_own_page() {
    let site = site(|_| {}).await;
    let kim = site.app.staff("Kim", Role::Moderator, false).await;
    let page = site
        .app
        .get_as(&kim.client, "/account/alerts")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="urgent" name="urgent" value="1" checked"#));
    let saved = site
        .app
        .post_as(&kim.client, "/account/alerts", &[("digest", "1")])
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    site.app
        .post_comment("a", &[("name", "Sam"), ("body", "I keep fainting.")])
        .await;
    site.send_mail().await;
    assert!(site.mails().is_empty(), "Kim turned urgent alerts off");
}

#[tokio::test]
async fn invitations_are_mailed_when_mail_is_set_up() {
    let site = site(|_| {}).await;
    let admin = site.app.staff("Ada", Role::Admin, true).await;
    let response = site
        .app
        .post_as(
            &admin.client,
            "/admin/accounts/invite",
            &[
                ("name", "Morgan"),
                ("email", "morgan@example.org"),
                ("role", "midwife"),
            ],
        )
        .await;
    let html = response.text().await.unwrap();
    assert!(html.contains("We have emailed the link to Morgan at morgan@example.org"));
    assert!(
        !html.contains("/invitations/"),
        "the link is not shown when it is mailed"
    );
    site.send_mail().await;
    let mails = site.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        header_in(&mails[0], "Subject"),
        Some("Your invitation to Carethread")
    );
    let link = link_in(&mails[0], "https://comments.example.org/invitations/")
        .replace("https://comments.example.org", &site.app.address);
    assert_eq!(
        site.app.client.get(&link).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_private_status_link_tells_the_reader_where_their_comment_stands() {
    let site = site(|_| {}).await;
    let response = site
        .app
        .post_comment("a", &[("name", "Sam"), ("body", QUESTION)])
        .await;
    let to = location(&response);
    let token = to
        .split("status=")
        .nth(1)
        .and_then(|t| t.split(['&', '#']).next())
        .expect("a status link in the thank-you address")
        .to_owned();
    let thanks = site.app.get_html(&to).await;
    assert!(thanks.contains(&format!("https://comments.example.org/status/{token}")));
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT status_token_hash FROM comments WHERE status_token_hash IS NOT NULL")
            .fetch_all(&site.app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 1, "the comment keeps its link's hash");
    assert!(
        stored.iter().all(|h| h != token.as_bytes()),
        "only a hash is kept"
    );

    let status = format!("/status/{token}");
    let page = site.app.get(&status).await;
    assert_eq!(page.headers()[header::CACHE_CONTROL], "private, no-store");
    assert!(page.text().await.unwrap().contains("waiting for a moderator"));
    let id: i64 = sqlx::query_scalar("SELECT id FROM comments")
        .fetch_one(&site.app.db)
        .await
        .unwrap();
    let moderator = site.app.staff("Kim", Role::Moderator, false).await;
    site.app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/approve"),
            &[],
        )
        .await;
    let article: i64 = sqlx::query_scalar("SELECT id FROM articles")
        .fetch_one(&site.app.db)
        .await
        .unwrap();
    site.app
        .add_comment(article, Some(id), "Alex", "Me too, sending love.", Published)
        .await;
    let page = site.app.get_html(&status).await;
    assert!(page.contains("Your comment is published"));
    assert!(page.contains("Me too, sending love."));
    site.app
        .post_as(&moderator.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    assert!(
        site.app
            .get_html(&status)
            .await
            .contains("has not been published")
    );

    sqlx::query("UPDATE comments SET status_link_expires_at = now() - interval '1 second' WHERE status_token_hash IS NOT NULL")
        .execute(&site.app.db)
        .await
        .unwrap();
    let expired = site.app.get(&status).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    assert!(expired.text().await.unwrap().contains("This link has expired"));
}

#[tokio::test]
async fn a_mail_server_that_is_away_gets_every_mail_once_when_it_returns() {
    let site = site(|_| {}).await;
    site.app.create_staff("Kim", Role::Moderator, false).await;
    site.sink.stop();
    site.app
        .post_comment("a", &[("name", "Sam"), ("body", "I keep fainting.")])
        .await;
    site.post_asking_for_replies("sam.reader@example.net").await;
    site.send_mail().await;
    let (queued, attempts): (i64, i64) =
        sqlx::query_as("SELECT count(*), sum(attempts)::int8 FROM outbox WHERE status = 'queued'")
            .fetch_one(&site.app.db)
            .await
            .unwrap();
    assert_eq!((queued, attempts), (2, 2), "both wait to be tried again");
    site.sink.restart().await;
    sqlx::query("UPDATE outbox SET send_after = now()")
        .execute(&site.app.db)
        .await
        .unwrap();
    // Two processes' workers at once: each mail goes once.
    let (a, b) = tokio::join!(site.send_mail(), site.send_mail());
    let _ = (a, b);
    site.send_mail().await;
    assert_eq!(site.mails().len(), 2);
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&site.app.db)
        .await
        .unwrap();
    assert_eq!(sent, 2);
}

#[tokio::test]
async fn a_worker_stopped_mid_round_sends_nothing_twice_after_a_restart() {
    let site = site(|_| {}).await;
    let config = site.config();
    let mut tx = site.app.db.begin().await.unwrap();
    for n in 1..=3 {
        let mail = mail::compose::digest(&config, &format!("staff{n}@example.org"), n, 0, None);
        mail::store::enqueue(&mut tx, &mail, chrono::Utc::now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // The mail server takes the first mail, then hangs on the second: the process is stopped
    // there, as a deploy or a crash would stop it.
    site.sink.hold_after(1);
    let transport = Transport::new(&config.mail).expect("transport");
    let from: lettre::message::Mailbox = config.mail.from.parse().expect("from");
    let ctx = site.context().await;
    let round = tokio::spawn(async move { mail::worker::round(&ctx, &transport, &from, false).await });
    for _ in 0..200 {
        if !site.mails().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(site.mails().len(), 1, "the first mail reached the server");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    round.abort();
    let _ = round.await;
    let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&site.app.db)
        .await
        .unwrap();
    assert_eq!(sent, 1, "the mail the server accepted is marked sent");

    // Restarted, with the mail server answering again: the other two go, the first not again.
    site.sink.take_everything();
    site.send_mail().await;
    let mails = site.mails();
    assert_eq!(mails.len(), 3, "three mails in all, none twice");
    for n in 1..=3 {
        let to = format!("staff{n}@example.org");
        assert_eq!(mails.iter().filter(|m| m.contains(&to)).count(), 1, "{to}");
    }
}

#[tokio::test]
async fn an_address_and_its_subscriptions_are_exported_and_erased() {
    let site = site(|_| {}).await;
    let id = site.post_asking_for_replies("sam.reader@example.net").await;
    let export = carethread::privacy::export(&site.app.db, "Sam.Reader@example.net", None)
        .await
        .unwrap();
    let address = export.mail_address.expect("the address is in the export");
    assert_eq!(address.subscribed_comments, vec![id]);
    carethread::privacy::erase(&site.app.db, "sam.reader@example.net", None)
        .await
        .unwrap();
    let left: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM mail_addresses), (SELECT count(*) FROM subscriptions),
                (SELECT count(*) FROM outbox WHERE recipient IS NOT NULL)",
    )
    .fetch_one(&site.app.db)
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0));
}

#[tokio::test]
async fn failed_mails_are_shown_to_admins_and_can_be_sent_again() {
    let site = site(|_| {}).await;
    let admin = site.app.staff("Ada", Role::Admin, true).await;
    site.sink.stop();
    site.app
        .post_comment("a", &[("name", "Sam"), ("body", "I keep fainting.")])
        .await;
    site.send_mail().await;
    sqlx::query("UPDATE outbox SET status = 'failed'")
        .execute(&site.app.db)
        .await
        .unwrap();
    let page = site
        .app
        .get_as(&admin.client, "/admin/mail?status=failed")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Urgent comment waiting on Carethread"));
    let id: i64 = sqlx::query_scalar("SELECT id FROM outbox")
        .fetch_one(&site.app.db)
        .await
        .unwrap();
    let again = site
        .app
        .post_as(&admin.client, &format!("/admin/mail/{id}/resend"), &[])
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    site.sink.restart().await;
    site.send_mail().await;
    assert_eq!(site.mails().len(), 1);
}

#[tokio::test]
async fn urgent_comments_are_also_posted_to_the_webhook_signed_and_without_their_words() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let kept = Arc::clone(&received);
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = Arc::clone(&kept);
            async move {
                let signature = headers["x-carethread-signature"]
                    .to_str()
                    .unwrap_or("")
                    .to_owned();
                kept.lock().unwrap().push((signature, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });

    let site = site(|_| {}).await;
    let secret = "a shared webhook secret";
    let mut config = site.config();
    config.mail.webhook = Some((url, secret.to_owned().into()));
    site.app
        .post_comment(
            "a",
            &[("name", "Sam"), ("body", "I keep fainting, quill-marker.")],
        )
        .await;
    // The note is queued when the comment is stored, by the application's own settings, which
    // here have no webhook: queue one as a process with the setting would.
    let mut tx = site.app.db.begin().await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM comments")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    mail::urgent_comment(&mut tx, &config, id).await.unwrap();
    tx.commit().await.unwrap();
    let transport = Transport::new(&config.mail).unwrap();
    let from = config.mail.from.parse().unwrap();
    let ctx = mail::Context {
        config: std::sync::Arc::new(config),
        ..site.context().await
    };
    mail::worker::round(&ctx, &transport, &from, false).await.unwrap();

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (signature, body) = &received[0];
    let note: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(note["event"], "urgent_comment");
    assert!(
        note["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/moderation/comments/{id}"))
    );
    assert!(!body.contains("quill-marker"));
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(signature, &format!("sha256={expected}"));
}

#[tokio::test]
async fn without_a_mail_server_mails_are_written_as_files() {
    let folder = tempfile::tempdir().unwrap();
    let site = site(|_| {}).await;
    let mut config = site.config();
    config.mail.smtp_url = None;
    config.mail.folder = folder.path().join("mail");
    site.app.create_staff("Kim", Role::Moderator, false).await;
    site.app
        .post_comment("a", &[("name", "Sam"), ("body", "I keep fainting.")])
        .await;
    let transport = Transport::new(&config.mail).unwrap();
    assert!(transport.describe().contains(".eml files"));
    let from = config.mail.from.parse().unwrap();
    let ctx = mail::Context {
        config: std::sync::Arc::new(config),
        ..site.context().await
    };
    mail::worker::round(&ctx, &transport, &from, false).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(folder.path().join("mail")).unwrap().collect();
    assert_eq!(files.len(), 1);
    let written = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(written.contains("Subject: Urgent comment waiting on Carethread"));
    assert!(site.mails().is_empty(), "nothing went to the mail server");
}
