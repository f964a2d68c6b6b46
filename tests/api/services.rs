//! The feature services on their own, without HTTP: each owns its rules, its transaction and its
//! audit entry, so each can be checked by calling it against a real database.

use carethread::{
    accounts::{self, Role, Staff, service::Invitee},
    articles,
    comments::{
        CommentForm, CommentStatus,
        submit::{self, Outcome, Submission},
    },
    config::Config,
    moderation::{
        Decision,
        service::{self, Edited, Replied},
    },
};
use sqlx::PgPool;

use crate::helpers::TestDatabase;

struct Site {
    db: PgPool,
    article: articles::Article,
    // Dropped last: the pool closes before the database goes.
    _database: TestDatabase,
}

async fn site() -> Site {
    let database = TestDatabase::create().await;
    let db = database.pool().await;
    let new = articles::NewArticle::parse("a", "A", "https://example.org/a", true).unwrap();
    articles::store::insert(&db, &new).await.unwrap();
    let article = articles::store::find_by_slug(&db, "a").await.unwrap().unwrap();
    Site {
        db,
        article,
        _database: database,
    }
}

async fn staff(db: &PgPool, name: &str, role: Role, verified: bool) -> Staff {
    let email = format!("{}@example.org", name.to_lowercase());
    let account = accounts::store::NewAccount {
        email: &email,
        display_name: name,
        role,
        password_hash: Some("not a real hash"),
        verified,
        verified_by: None,
    };
    let id = accounts::store::insert_account(db, &account)
        .await
        .unwrap()
        .unwrap();
    accounts::store::find_active(db, id).await.unwrap().unwrap()
}

async fn comment(site: &Site, body: &str, status: CommentStatus) -> i64 {
    carethread::comments::store::insert_raw(
        &site.db,
        site.article.id,
        None,
        "Sam",
        body,
        status,
        chrono::Utc::now(),
    )
    .await
    .unwrap()
}

async fn status(db: &PgPool, id: i64) -> String {
    sqlx::query_scalar("SELECT status::text FROM comments WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn audit_count(db: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_decision_applies_exactly_where_its_table_says() {
    let site = site().await;
    let moderator = staff(&site.db, "Kim", Role::Moderator, false).await;
    let statuses = [
        CommentStatus::Pending,
        CommentStatus::Published,
        CommentStatus::Hidden,
        CommentStatus::Spam,
    ];
    for decision in Decision::ALL {
        for from in statuses {
            let id = comment(&site, "Words.", from).await;
            let message = service::decide(&site.db, &moderator, id, decision, "")
                .await
                .unwrap();
            let expected = if decision.applies_to(from) {
                decision.leads_to()
            } else {
                from
            };
            let now = status(&site.db, id).await;
            assert_eq!(
                now,
                format!("{expected:?}").to_lowercase(),
                "{decision:?} from {from:?}"
            );
            if decision.applies_to(from) {
                assert_eq!(message, decision.done());
            } else {
                assert!(message.starts_with("Nothing was changed"), "{message}");
            }
        }
    }
}

#[tokio::test]
async fn a_decision_is_audited_once_and_a_second_one_says_who_came_first() {
    let site = site().await;
    let kim = staff(&site.db, "Kim", Role::Moderator, false).await;
    let lee = staff(&site.db, "Lee", Role::Moderator, false).await;
    let id = comment(&site, "Words.", CommentStatus::Pending).await;
    service::decide(&site.db, &kim, id, Decision::Approve, "")
        .await
        .unwrap();
    let second = service::decide(&site.db, &lee, id, Decision::Approve, "")
        .await
        .unwrap();
    assert!(second.contains("Kim approved it"), "{second}");
    assert_eq!(audit_count(&site.db, "comment.approved").await, 1);
}

#[tokio::test]
async fn a_hide_reason_that_is_too_long_changes_nothing() {
    let site = site().await;
    let kim = staff(&site.db, "Kim", Role::Moderator, false).await;
    let id = comment(&site, "Words.", CommentStatus::Published).await;
    let message = service::decide(&site.db, &kim, id, Decision::Hide, &"a".repeat(501))
        .await
        .unwrap();
    assert!(message.contains("under 500 characters"));
    assert_eq!(status(&site.db, id).await, "published");
}

#[tokio::test]
async fn edits_apply_to_guests_words_not_to_hidden_comments() {
    let site = site().await;
    let kim = staff(&site.db, "Kim", Role::Moderator, false).await;
    let id = comment(&site, "Call me on 07700 900123.", CommentStatus::Pending).await;
    let edited = service::edit(&site.db, &kim, id, "Call me.").await.unwrap();
    assert_eq!(edited, Edited::Saved);
    assert!(matches!(
        service::edit(&site.db, &kim, id, "  ").await.unwrap(),
        Edited::Invalid(_)
    ));
    service::decide(&site.db, &kim, id, Decision::Hide, "")
        .await
        .unwrap();
    assert!(matches!(
        service::edit(&site.db, &kim, id, "Other words.").await.unwrap(),
        Edited::NotEditable(_)
    ));
    assert_eq!(audit_count(&site.db, "comment.edited").await, 1);
}

#[tokio::test]
async fn a_reply_approves_a_waiting_question_and_is_refused_under_spam() {
    let site = site().await;
    let config = Config::for_tests();
    let jo = staff(&site.db, "Jo", Role::Midwife, true).await;
    let question = comment(&site, "A question.", CommentStatus::Pending).await;
    let replied = service::reply(&site.db, &config, &jo, question, "An answer.")
        .await
        .unwrap();
    assert!(matches!(replied, Replied::Published { approved: true, .. }));
    assert_eq!(status(&site.db, question).await, "published");

    let spam = comment(&site, "Buy now.", CommentStatus::Spam).await;
    let refused = service::reply(&site.db, &config, &jo, spam, "An answer.")
        .await
        .unwrap();
    assert!(matches!(refused, Replied::Refused { conflict: true, .. }));
    assert_eq!(audit_count(&site.db, "comment.replied").await, 1);
}

#[tokio::test]
async fn invitations_check_what_was_typed_and_refuse_a_second_account() {
    let site = site().await;
    let ada = staff(&site.db, "Ada", Role::Admin, true).await;
    let bad = Invitee {
        email: "not an email",
        name: "Morgan",
        role: "midwife",
    };
    assert!(
        accounts::service::invite((&site.db, &Config::for_tests()), &ada, &bad)
            .await
            .unwrap()
            .is_err()
    );
    let good = Invitee {
        email: "morgan@example.org",
        name: "Morgan",
        role: "midwife",
    };
    let link = accounts::service::invite((&site.db, &Config::for_tests()), &ada, &good)
        .await
        .unwrap()
        .unwrap();
    assert!(link.path.starts_with("/invitations/"));
    assert_eq!(link.hours, 72);
    assert!(
        accounts::service::invite((&site.db, &Config::for_tests()), &ada, &good)
            .await
            .unwrap()
            .is_err()
    );
    assert_eq!(audit_count(&site.db, "account.invited").await, 1);
}

#[tokio::test]
async fn the_only_admin_keeps_the_role_and_nobody_disables_themselves() {
    let site = site().await;
    let ada = staff(&site.db, "Ada", Role::Admin, true).await;
    let message = accounts::service::change_role(&site.db, &ada, ada.id, "moderator")
        .await
        .unwrap();
    assert!(message.contains("only admin"), "{message}");
    let message = accounts::service::set_disabled(&site.db, &ada, ada.id, true)
        .await
        .unwrap();
    assert!(message.contains("cannot disable your own"), "{message}");
    let kim = staff(&site.db, "Kim", Role::Moderator, false).await;
    let message = accounts::service::set_disabled(&site.db, &ada, kim.id, true)
        .await
        .unwrap();
    assert!(message.contains("disabled and signed out"), "{message}");
    assert!(
        accounts::store::find_active(&site.db, kim.id)
            .await
            .unwrap()
            .is_none()
    );
}

fn form(body: &str, stamp: String) -> CommentForm {
    CommentForm {
        name: "Sam".into(),
        body: body.into(),
        form_stamp: stamp,
        ..Default::default()
    }
}

#[tokio::test]
async fn posting_stores_once_per_form_and_keeps_to_the_address_limit() {
    let site = site().await;
    let mut config = Config::for_tests();
    config.min_form_seconds = 0;
    config.rate_per_address = 2;
    let key = b"a stamp key for these tests";
    let now = chrono::Utc::now();
    let stamp = || carethread::safety::spam::stamp(key, now.timestamp());
    let post = |form: CommentForm| {
        let (db, config, article) = (&site.db, &config, &site.article);
        async move {
            let submission = Submission {
                form: &form,
                client_hash: b"one reader",
                now,
            };
            submit::submit(db, config, (key, key), article, &submission)
                .await
                .unwrap()
        }
    };
    let first = form("My question.", stamp());
    assert!(matches!(
        post(first.clone()).await,
        Outcome::Stored { urgent: false, .. }
    ));
    assert_eq!(
        post(first).await,
        Outcome::Repeat {
            urgent: false,
            category: None
        }
    );
    assert!(matches!(post(form("  ", stamp())).await, Outcome::Invalid(_)));
    assert!(matches!(
        post(form("I am bleeding heavily.", stamp())).await,
        Outcome::Stored { urgent: true, .. }
    ));
    assert_eq!(
        post(form("A third thought.", stamp())).await,
        Outcome::AddressLimited
    );
}
