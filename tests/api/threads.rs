//! Reading: the front page and article threads.

use carethread::comments::CommentStatus::{Hidden, Pending, Published};
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;

use crate::helpers::{TestApp, escaped, position};

#[tokio::test]
async fn the_front_page_lists_open_articles_with_their_published_comment_counts() {
    let app = TestApp::spawn().await;
    let a = app
        .add_article("after-a-miscarriage", "After a miscarriage")
        .await;
    app.add_article("feeding-your-baby", "Feeding your baby").await;
    app.add_article("closed-topic", "A closed topic").await;
    app.close_article("closed-topic").await;
    app.add_comment(a, None, "Sam", "one", Published).await;
    app.add_comment(a, None, "Sam", "two", Published).await;
    app.add_comment(a, None, "Sam", "waiting", Pending).await;
    app.add_comment(a, None, "Sam", "removed", Hidden).await;

    let html = app.get_html("/").await;

    assert!(html.contains(r#"<a href="/articles/after-a-miscarriage">After a miscarriage</a>"#));
    assert!(
        html.contains("2 comments"),
        "pending and hidden comments are not counted"
    );
    assert!(html.contains("Feeding your baby"));
    assert!(html.contains("0 comments"));
    assert!(!html.contains("A closed topic"), "closed articles are not listed");
}

#[tokio::test]
async fn a_thread_shows_the_title_a_link_to_the_article_and_the_notice() {
    let app = TestApp::spawn().await;
    app.add_article("after-a-miscarriage", "After a miscarriage")
        .await;

    let html = app.get_html("/articles/after-a-miscarriage").await;

    assert!(html.contains("<h1>After a miscarriage</h1>"));
    assert!(html.contains(r#"href="https://example.org/after-a-miscarriage""#));
    assert!(html.contains(
        "Please note that these comments are monitored but not answered by Carethread. Please call your GP \
         or maternity unit if you have concerns about your health or your baby&#39;s health."
    ));
    assert!(html.contains("No comments yet."));
}

#[tokio::test]
async fn the_organisation_name_and_the_whole_notice_are_configurable() {
    let app = TestApp::spawn_with(|c| {
        c.notice = "Our midwives read every comment but cannot reply to each one.".into();
    })
    .await;
    app.add_article("a", "A").await;
    let html = app.get_html("/articles/a").await;
    assert!(html.contains("Our midwives read every comment but cannot reply to each one."));
    assert!(!html.contains("monitored but not answered"));

    let app = TestApp::spawn_with(|c| {
        let settings =
            carethread::config::Settings::parse_from(["carethread", "--organisation", "Example Baby Trust"]);
        *c = carethread::config::Config::from_settings(&settings).expect("valid settings");
    })
    .await;
    app.add_article("a", "A").await;
    assert!(
        app.get_html("/articles/a")
            .await
            .contains("not answered by Example Baby Trust.")
    );
}

#[tokio::test]
async fn an_unknown_article_is_a_friendly_404_page() {
    let app = TestApp::spawn().await;
    let response = app.get("/articles/no-such-article").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains("<html"));

    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn top_level_comments_are_newest_first_and_replies_oldest_first_under_their_parent() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let t = |h| Utc.with_ymd_and_hms(2024, 5, 1, h, 0, 0).unwrap();
    let older = app
        .add_comment_at(a, None, "Older", "older top", Published, t(8))
        .await;
    app.add_comment_at(a, None, "Newer", "newer top", Published, t(9))
        .await;
    app.add_comment_at(a, Some(older), "FirstReply", "first reply", Published, t(10))
        .await;
    app.add_comment_at(a, Some(older), "SecondReply", "second reply", Published, t(11))
        .await;

    let html = app.get_html("/articles/a").await;

    let newer = position(&html, "newer top");
    let older_at = position(&html, "older top");
    let first = position(&html, "first reply");
    let second = position(&html, "second reply");
    assert!(newer < older_at, "newest top-level comment first");
    assert!(
        older_at < first && first < second,
        "replies under their parent, oldest first"
    );
    // The replies sit in a nested list inside the older comment's item.
    let replies_list = position(&html, r#"<ol class="replies">"#);
    assert!(older_at < replies_list && replies_list < first);
}

#[tokio::test]
async fn replies_deeper_than_the_cap_are_shown_at_the_deepest_level_after_their_parent() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let mut parent = None;
    let mut ids = vec![];
    for depth in 1..=5 {
        let id = app
            .add_comment(
                a,
                parent,
                &format!("Person{depth}"),
                &format!("level {depth} text"),
                Published,
            )
            .await;
        ids.push(id);
        parent = Some(id);
    }
    let html = app.get_html("/articles/a").await;

    // Three levels of lists: the thread list and two nested reply lists, no more.
    assert_eq!(html.matches(r#"<ol class="replies">"#).count(), 2);
    let positions: Vec<usize> = (1..=5)
        .map(|d| position(&html, &format!("level {d} text")))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "each reply follows the comment it answers"
    );
    // Capped replies say whom they answer.
    assert!(html.contains("In reply to Person3"));
    assert!(html.contains("In reply to Person4"));
    assert!(
        !html.contains("In reply to Person2"),
        "replies at their real depth need no such line"
    );

    // The depth shown is configurable.
    let app2 = TestApp::spawn_with(|c| c.max_depth = 2).await;
    let a2 = app2.add_article("a", "A").await;
    let top = app2.add_comment(a2, None, "Top", "top", Published).await;
    let r1 = app2.add_comment(a2, Some(top), "R1", "r1", Published).await;
    app2.add_comment(a2, Some(r1), "R2", "r2", Published).await;
    let html = app2.get_html("/articles/a").await;
    assert_eq!(html.matches(r#"<ol class="replies">"#).count(), 1);
    assert!(html.contains("In reply to R1"));
}

#[tokio::test]
async fn a_guest_byline_shows_name_not_verified_and_uk_date_in_the_configured_zone() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    // 13 March is winter time in London (UTC+0); 1 July is summer time (UTC+1).
    app.add_comment_at(
        a,
        None,
        "Sam",
        "winter",
        Published,
        Utc.with_ymd_and_hms(2018, 3, 13, 17, 12, 0).unwrap(),
    )
    .await;
    app.add_comment_at(
        a,
        None,
        "Ali",
        "summer",
        Published,
        Utc.with_ymd_and_hms(2018, 7, 1, 8, 5, 0).unwrap(),
    )
    .await;

    let html = app.get_html("/articles/a").await;
    assert!(html.contains("By <span class=\"author\">Sam</span> (not verified) on <time datetime=\"2018-03-13T17:12:00Z\">13 Mar 2018 - 17:12</time>"));
    assert!(html.contains(">01 Jul 2018 - 09:05</time>"));

    let app = TestApp::spawn_with(|c| c.timezone = chrono_tz::America::New_York).await;
    let a = app.add_article("a", "A").await;
    app.add_comment_at(
        a,
        None,
        "Sam",
        "winter",
        Published,
        Utc.with_ymd_and_hms(2018, 3, 13, 17, 12, 0).unwrap(),
    )
    .await;
    assert!(
        app.get_html("/articles/a")
            .await
            .contains(">13 Mar 2018 - 13:12</time>")
    );
}

#[tokio::test]
async fn comment_text_keeps_line_breaks_escapes_html_and_links_bare_addresses() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(
        a,
        None,
        "<b>Sam</b>",
        "first line\nsecond line\n\n<script>alert('x')</script> see https://example.org/help",
        Published,
    )
    .await;

    let html = app.get_html("/articles/a").await;
    assert!(html.contains("first line<br>second line"));
    assert!(html.contains(&escaped("<script>alert('x')</script>")));
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(&escaped("<b>Sam</b>")));
    assert!(html.contains(
        r#"<a href="https://example.org/help" rel="nofollow ugc noopener">https://example.org/help</a>"#
    ));
}

#[tokio::test]
async fn pending_and_hidden_comments_and_replies_under_them_are_never_shown() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let shown = app.add_comment(a, None, "Sam", "visible words", Published).await;
    app.add_comment(a, Some(shown), "Sam", "pending reply words", Pending)
        .await;
    let hidden = app.add_comment(a, None, "Sam", "hidden words", Hidden).await;
    app.add_comment(a, Some(hidden), "Sam", "reply under hidden", Published)
        .await;
    app.add_comment(a, None, "Sam", "pending words", Pending).await;

    let html = app.get_html("/articles/a").await;
    assert!(html.contains("visible words"));
    for secret in [
        "pending reply words",
        "hidden words",
        "reply under hidden",
        "pending words",
    ] {
        assert!(!html.contains(secret), "{secret} must not be shown");
    }
}

#[tokio::test]
async fn threads_are_paged_with_page_links_and_a_page_past_the_end_is_an_empty_state() {
    let app = TestApp::spawn_with(|c| c.threads_per_page = 2).await;
    let a = app.add_article("a", "A").await;
    for i in 1..=5 {
        let at = Utc.with_ymd_and_hms(2024, 1, i, 12, 0, 0).unwrap();
        let id = app
            .add_comment_at(a, None, "Sam", &format!("thread number {i}."), Published, at)
            .await;
        app.add_comment(a, Some(id), "Ali", &format!("reply to {i}."), Published)
            .await;
    }

    let first = app.get_html("/articles/a").await;
    assert!(first.contains("thread number 5.") && first.contains("thread number 4."));
    assert!(first.contains("reply to 5."), "replies come with their thread");
    assert!(!first.contains("thread number 3."));
    assert!(first.contains(">Pages</h3>"));
    assert!(first.contains(r#"href="/articles/a?page=2""#));
    assert!(first.contains(r#"href="/articles/a?page=3""#));
    assert!(first.contains(r#"<a href="/articles/a" aria-current="page">1</a>"#));

    let third = app.get_html("/articles/a?page=3").await;
    assert!(third.contains("thread number 1."));
    assert!(!third.contains("thread number 2."));
    assert!(third.contains(r#"aria-current="page">3</a>"#));

    let past_end = app.get("/articles/a?page=9").await;
    assert_eq!(past_end.status(), StatusCode::OK);
    let past_end = past_end.text().await.unwrap();
    assert!(past_end.contains("There are no comments on this page."));
    assert!(past_end.contains("Add new comment"), "the form is still there");

    let nonsense = app.get_html("/articles/a?page=abc").await;
    assert!(
        nonsense.contains("thread number 5."),
        "a mistyped page number shows the first page"
    );
}

#[tokio::test]
async fn every_comment_has_a_reply_link_that_opens_the_form_as_a_reply() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Sam", "Does anyone else feel this way?", Published)
        .await;

    let html = app.get_html("/articles/a").await;
    let reply_href = format!("/articles/a?reply_to={id}#comment-form");
    assert!(html.contains(&format!("href=\"{reply_href}\"")));

    let reply_page = app.get_html(&format!("/articles/a?reply_to={id}")).await;
    assert!(reply_page.contains("Replying to Sam:"));
    assert!(reply_page.contains(&format!(r#"name="parent_id" value="{id}""#)));
    assert!(reply_page.contains("Does anyone else feel this way?"));

    let gone = app.get_html("/articles/a?reply_to=999999").await;
    assert!(gone.contains("not available any more"));
    assert!(!gone.contains(r#"name="parent_id""#));
}

#[tokio::test]
async fn a_closed_article_shows_its_comments_but_no_form() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(a, None, "Sam", "still readable", Published).await;
    // Seen while open first, so the thread is cached with its reply links.
    assert!(app.get_html("/articles/a").await.contains("Reply<"));
    app.close_article("a").await;

    let html = app.get_html("/articles/a").await;
    assert!(html.contains("still readable"));
    assert!(html.contains("Comments are closed"));
    assert!(!html.contains("<form"));
    assert!(!html.contains("Reply<"));
}

#[tokio::test]
async fn reopening_an_article_brings_back_its_reply_links() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(a, None, "Sam", "hello", Published).await;
    app.close_article("a").await;
    assert!(!app.get_html("/articles/a").await.contains("Reply<"));
    sqlx::query("UPDATE articles SET comments_open = true WHERE slug = 'a'")
        .execute(&app.db)
        .await
        .unwrap();
    assert!(app.get_html("/articles/a").await.contains("Reply<"));
}

#[tokio::test]
async fn readers_find_the_form_from_the_top_and_a_reply_names_who_it_answers() {
    let app = TestApp::spawn().await;
    let article = app.add_article("a", "A").await;
    let jo = app
        .add_comment(
            article,
            None,
            "Jo",
            "A question.",
            carethread::comments::CommentStatus::Published,
        )
        .await;
    let html = app.get_html("/articles/a").await;
    let ask = position(&html, r##"<a href="#comment-form">Ask a question"##);
    assert!(
        ask < position(&html, r#"id="comments-heading""#),
        "the link is near the top"
    );
    assert!(html.contains("Add new comment"));
    let replying = app.get_html(&format!("/articles/a?reply_to={jo}")).await;
    assert!(replying.contains(r#"<h2 id="form-heading">Reply to Jo</h2>"#));
}

#[tokio::test]
async fn after_a_refusal_the_problems_come_first_with_the_words_kept() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let response = app
        .post_comment("a", &[("name", ""), ("body", "My words, kept.")])
        .await;
    let html = response.text().await.unwrap();
    let problems = position(&html, r#"id="form-problems""#);
    assert!(
        problems < position(&html, r#"id="comments-heading""#),
        "before the thread"
    );
    assert!(html.contains(r#"id="form-problems" tabindex="-1" autofocus"#));
    assert!(html.contains("My words, kept.</textarea>"));
}
