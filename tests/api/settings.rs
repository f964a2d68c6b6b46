//! Admin → Settings: who may change them, what a bad value does, how soon readers see a change
//! (in this process, another one, and shared caches), disclaimer versions, the audit log; the
//! first-run hint on the home page; and what an admin is given after adding an article.

use carethread::{
    AppState,
    accounts::Role,
    comments::CommentStatus::Published,
    config::Config,
    settings::{Field, SiteText},
};
use reqwest::{StatusCode, header};

use crate::helpers::{TestApp, escaped, location, new_client, reader_at};

/// Every field of the settings form as a fresh install has it, with `changes` made.
fn settings_form(changes: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let starting = SiteText::starting(&Config::for_tests());
    Field::ALL
        .iter()
        .map(|&field| {
            let value = changes
                .iter()
                .find(|(name, _)| *name == field.name())
                .map_or_else(|| starting.value(field).to_owned(), |(_, v)| (*v).to_owned());
            (field.name(), value)
        })
        .collect()
}

async fn save_settings(
    app: &TestApp,
    client: &reqwest::Client,
    changes: &[(&str, &str)],
) -> reqwest::Response {
    let form = settings_form(changes);
    let fields: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
    app.post_as(client, "/admin/settings", &fields).await
}

/// A page as a reader without cookies sees it, from the process at `address`.
async fn read_page(address: &str, path: &str) -> String {
    reqwest::get(format!("{address}{path}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn reply(app: &TestApp, client: &reqwest::Client, id: i64, body: &str) {
    let path = format!("/moderation/comments/{id}/reply");
    let response = app.post_as(client, &path, &[("body", body)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the reply is published");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn only_admins_may_see_or_change_the_settings() {
    let app = TestApp::spawn().await;
    let anonymous = new_client();
    let response = app.get_as(&anonymous, "/admin/settings").await;
    assert!(location(&response).starts_with("/login"), "sent to sign in");

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    for staff in [&moderator, &midwife] {
        assert_eq!(
            app.get_as(&staff.client, "/admin/settings").await.status(),
            StatusCode::FORBIDDEN
        );
        let refused = save_settings(&app, &staff.client, &[("notice", "Changed by someone else.")]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let nav = app
            .get_as(&staff.client, "/moderation")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !nav.contains("href=\"/admin/settings\""),
            "no link for those who may not"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM site_settings").await, 0);

    let admin = app.staff("Ada", Role::Admin, true).await;
    let page = app
        .get_as(&admin.client, "/moderation")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<a href=\"/admin/settings\">Settings</a>"),
        "admins have it in the navigation"
    );
    let page = app.get_as(&admin.client, "/admin/settings").await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    for field in Field::ALL {
        assert!(page.contains(&format!(
            "<label for=\"{}\">{}</label>",
            field.name(),
            escaped(field.label())
        )));
    }
}

#[tokio::test]
async fn a_settings_form_without_a_valid_token_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let form = settings_form(&[("notice", "A forged notice.")]);
    let mut fields: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let without = admin
        .client
        .post(format!("{}/admin/settings", app.address))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    fields.push(("authenticity_token", "not-a-token"));
    let stale = admin
        .client
        .post(format!("{}/admin/settings", app.address))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT count(*) FROM site_settings").await, 0);
    assert_eq!(app.audit_count("setting.changed").await, 0);
}

#[tokio::test]
async fn bad_settings_are_shown_again_with_every_word_kept_and_each_problem_named_by_its_label() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let long = "Please read this. ".repeat(120);
    let response = save_settings(
        &app,
        &admin.client,
        &[
            ("organisation", "   "),
            ("notice", &long),
            ("disclaimer", "A disclaimer I worked hard on."),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("<title>Please check – Settings</title>"));
    assert!(page.contains("Please check 2 settings"));
    let summary = page.find("Please check 2 settings").unwrap();
    assert!(
        summary
            < page
                .find("<form method=\"post\" action=\"/admin/settings\"")
                .unwrap(),
        "the summary is at the top"
    );
    assert!(page.contains("<a href=\"#organisation\">Enter the organisation name</a>"));
    assert!(page.contains("Notice above each thread must be 2000 characters or fewer (it has 2159)"));
    assert!(page.contains("id=\"notice-error\""));
    assert!(page.contains("aria-invalid=\"true\""));
    assert!(page.contains(&escaped(long.trim())), "the long text is kept");
    assert!(
        page.contains("A disclaimer I worked hard on."),
        "the valid change is kept too"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM site_settings").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM disclaimer_versions").await, 0);
}

#[tokio::test]
async fn a_saved_notice_shows_on_an_article_page_at_once_even_one_cached_before_the_change() {
    // As deployed: articles remembered for a while, shared caches keep pages.
    let app = TestApp::spawn_with(|c| {
        c.article_refresh = std::time::Duration::from_secs(60);
        c.shared_cache_seconds = 600;
    })
    .await;
    let a = app.add_article("after-a-loss", "After a loss").await;
    app.add_comment(a, None, "Sam", "Thinking of you all.", Published)
        .await;
    let reader = reader_at("203.0.113.9");
    let before = app.get_as(&reader, "/articles/after-a-loss").await;
    let etag = before.headers()[header::ETAG].clone();
    let before = before.text().await.unwrap();
    assert!(before.contains("monitored but not answered by Carethread"));
    assert_eq!(
        app.get_as(&reader, "/articles/after-a-loss")
            .await
            .text()
            .await
            .unwrap(),
        before,
        "the page is cached"
    );
    sqlx::query("DELETE FROM cache_purges")
        .execute(&app.db)
        .await
        .unwrap();

    let admin = app.staff("Ada", Role::Admin, true).await;
    let saved = save_settings(
        &app,
        &admin.client,
        &[
            ("organisation", "Example Baby Trust"),
            (
                "notice",
                "Our midwives read every comment, but {organisation} cannot answer each one.",
            ),
        ],
    )
    .await;
    assert_eq!(location(&saved), "/admin/settings");
    let confirmation = app
        .get_as(&admin.client, "/admin/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(confirmation.contains(
        "Saved the settings: Organisation name and Notice above each thread changed. Readers see them now."
    ));

    let after = app
        .get_as(&reader, "/articles/after-a-loss")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        after.contains("Our midwives read every comment, but Example Baby Trust cannot answer each one.")
    );
    assert!(!after.contains("monitored but not answered"));
    let revalidated = reader
        .get(format!("{}/articles/after-a-loss", app.address))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        revalidated.status(),
        StatusCode::OK,
        "the old ETag no longer matches"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM cache_purges").await,
        1,
        "shared caches are told to drop the article's pages"
    );

    // Another process on the same database, which had read the settings and the page before.
    let secret = carethread::db::site_secret(&app.db).await.unwrap();
    let mut config = Config::for_tests();
    config.article_refresh = std::time::Duration::from_millis(250);
    let state = AppState::new(app.db.clone(), config, &secret).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(carethread::serve(listener, state, std::future::pending()));
    let read_other = || read_page(&other, "/articles/after-a-loss");
    assert!(
        read_other()
            .await
            .contains("Example Baby Trust cannot answer each one.")
    );
    save_settings(
        &app,
        &admin.client,
        &[
            ("organisation", "Example Baby Trust"),
            ("notice", "A third notice."),
        ],
    )
    .await;
    let changed = std::time::Instant::now();
    while !read_other().await.contains("A third notice.") {
        assert!(
            changed.elapsed() < std::time::Duration::from_secs(1),
            "the other process shows it within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_new_disclaimer_applies_to_new_replies_while_an_old_reply_keeps_its_own() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let first = app.add_comment(a, None, "Kim", "First question", Published).await;
    let second = app
        .add_comment(a, None, "Lee", "Second question", Published)
        .await;
    let midwife = app.staff("Morgan", Role::Midwife, true).await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    reply(&app, &midwife.client, first, "The first answer.").await;
    let old = SiteText::starting(&Config::for_tests()).disclaimer;

    let saved = save_settings(
        &app,
        &admin.client,
        &[("disclaimer", "The second disclaimer: call 111.")],
    )
    .await;
    assert_eq!(location(&saved), "/admin/settings");
    reply(&app, &midwife.client, second, "The second answer.").await;

    let stored: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT disclaimer, disclaimer_version FROM comments WHERE author_kind = 'staff' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let version: i64 = count(&app, "SELECT max(id) FROM disclaimer_versions").await;
    assert_eq!(stored[0], (old.clone(), None));
    assert_eq!(
        stored[1],
        ("The second disclaimer: call 111.".to_owned(), Some(version))
    );

    let page = app.get_html("/articles/a").await;
    assert!(
        page.contains(&escaped(&old)),
        "the old reply keeps its disclaimer"
    );
    assert!(page.contains("The second disclaimer: call 111."));
    let settings = app
        .get_as(&admin.client, "/admin/settings")
        .await
        .text()
        .await
        .unwrap();
    assert!(settings.contains(&format!("Now version {version}.")));

    // Saving the same disclaimer again makes no new version.
    save_settings(
        &app,
        &admin.client,
        &[("disclaimer", "The second disclaimer: call 111.")],
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM disclaimer_versions").await, 1);
}

#[tokio::test]
async fn each_change_is_audited_with_what_changed_and_both_texts() {
    let app = TestApp::spawn().await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    save_settings(
        &app,
        &admin.client,
        &[
            ("verified_badge", "Registered midwife"),
            ("disclaimer", "A new disclaimer."),
            ("safety_mental_health", "You are not alone. Samaritans: 116 123."),
        ],
    )
    .await;
    let entries: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT target_type, reason, text_before, text_after FROM audit_log
          WHERE action = 'setting.changed' AND actor_id = $1 ORDER BY id",
    )
    .bind(admin.id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let what: Vec<&str> = entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        what,
        [
            "Badge beside midwives' replies",
            "Disclaimer after each midwife's reply",
            "Safety message: thoughts of suicide or self-harm"
        ]
    );
    assert_eq!(entries[0].2, "Verified midwife");
    assert_eq!(entries[0].3, "Registered midwife");
    assert_eq!(entries[1].0, "disclaimer");
    assert_eq!(entries[0].0, "settings");

    let log = app
        .get_as(&admin.client, "/admin/audit?action=setting.changed")
        .await
        .text()
        .await
        .unwrap();
    assert!(log.contains("changed a site setting"));
    assert!(log.contains(&escaped("Badge beside midwives' replies")));
    assert!(log.contains("Registered midwife"));
    assert!(log.contains("disclaimer, version 1"));
}

#[tokio::test]
async fn a_changed_safety_message_is_shown_after_posting_an_urgent_comment() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    save_settings(
        &app,
        &admin.client,
        &[(
            "safety_999",
            "Please call 999 now. Our own words for an emergency.",
        )],
    )
    .await;
    let posted = app
        .post_comment(
            "a",
            &[
                ("name", "Jo"),
                ("body", "My partner collapsed and is unconscious."),
            ],
        )
        .await;
    let page = app.get_html(&location(&posted)).await;
    assert!(page.contains("Our own words for an emergency."), "{page}");
}

#[tokio::test]
async fn the_home_page_shows_the_first_admin_command_only_to_this_machine_and_only_until_an_admin_exists() {
    let app = TestApp::spawn().await;
    let command = carethread::accounts::FIRST_ADMIN_COMMAND;
    assert!(command.starts_with("carethread user add") && command.contains("--role admin"));

    let local = app.get("/").await;
    assert_eq!(local.headers()[header::CACHE_CONTROL], "private, no-store");
    let page = local.text().await.unwrap();
    assert!(
        page.contains(&format!("value=\"{}\"", escaped(command))),
        "{page}"
    );

    let through_a_proxy = reader_at("203.0.113.9");
    let page = app.get_as(&through_a_proxy, "/").await.text().await.unwrap();
    assert!(
        !page.contains("carethread user add"),
        "a request through a proxy is not local"
    );

    // A midwife is not an admin: still shown.
    app.create_staff("Morgan", Role::Midwife, true).await;
    assert!(app.get_html("/").await.contains("carethread user add"));
    app.create_staff("Ada", Role::Admin, true).await;
    assert!(!app.get_html("/").await.contains("carethread user add"));
}

#[tokio::test]
async fn an_added_article_shows_its_public_address_and_the_code_for_the_charitys_page() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://comments.example.org".into()).await;
    let admin = app.staff("Ada", Role::Admin, true).await;
    let added = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[
                ("slug", ""),
                ("title", "Trying again after a loss"),
                ("url", "https://example.org/trying"),
            ],
        )
        .await;
    assert_eq!(
        location(&added),
        "/admin/articles?added=trying-again-after-a-loss#added"
    );
    let page = app
        .get_as(&admin.client, "/admin/articles?added=trying-again-after-a-loss")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Added the article. It is open for comments."));
    let panel = &page[page.find("id=\"added\"").expect("the confirmation panel")..];
    assert!(panel.contains("<label for=\"added-address\">Public address of its comments</label>"));
    assert!(panel.contains(
        "id=\"added-address\" class=\"link-box\" value=\"https://comments.example.org/articles/trying-again-after-a-loss\" readonly"
    ));
    let snippet = "<div id=\"carethread\" data-carethread-article=\"trying-again-after-a-loss\"></div>\n\
                   <script src=\"https://comments.example.org/embed.js\" async></script>\n\
                   <noscript><a href=\"https://comments.example.org/articles/trying-again-after-a-loss\">Read and add comments</a></noscript>";
    assert!(panel.contains("<label for=\"added-snippet\">Code for your page</label>"));
    assert!(panel.contains(&escaped(snippet)), "the snippet embed.js expects");

    // The script the snippet names is there, and looks for the element it names.
    let script = app.get("/embed.js").await.text().await.unwrap();
    assert!(script.contains("data-carethread-article"));

    // A problem names the field by its label and keeps what was typed.
    let bad = app
        .post_as(
            &admin.client,
            "/admin/articles",
            &[("slug", ""), ("title", "Another"), ("url", "example.org/another")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains(
        "Address of the article on your website: &#39;example.org/another&#39; is not a web address"
    ));
    assert!(bad.contains("value=\"Another\""));
}
