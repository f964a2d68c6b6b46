//! Rendered threads are cached per process, and every process sees every change at once.

use carethread::{
    AppState,
    accounts::Role,
    comments::CommentStatus::{Pending, Published},
    config::Config,
};

use crate::helpers::TestApp;

/// A page as a reader without cookies sees it.
async fn read_page(address: &str, path: &str) -> String {
    reqwest::get(format!("{address}{path}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A second app process on the same database.
async fn second_process(app: &TestApp) -> String {
    second_process_with(app, Config::for_tests()).await
}

async fn second_process_with(app: &TestApp, config: Config) -> String {
    let secret = carethread::db::site_secret(&app.db).await.unwrap();
    let state = AppState::new(app.db.clone(), config, &secret).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(carethread::serve(listener, state, std::future::pending()));
    address
}

#[tokio::test]
async fn a_comment_approved_through_one_process_shows_through_another_at_once() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    app.add_comment(a, None, "Sam", "already there", Published).await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let other = second_process(&app).await;
    let read_other = || read_page(&other, "/articles/a");

    // Both processes have the page cached.
    assert!(!app.get_html("/articles/a").await.contains("waiting for approval"));
    assert!(!read_other().await.contains("waiting for approval"));

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;

    assert!(
        read_other().await.contains("waiting for approval"),
        "the other process sees it"
    );
    assert!(app.get_html("/articles/a").await.contains("waiting for approval"));
}

#[tokio::test]
async fn hiding_and_editing_are_seen_by_readers_straight_away() {
    let app = TestApp::spawn().await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Sam", "call 07700 900123", Published)
        .await;
    assert!(app.get_html("/articles/a").await.contains("07700 900123"));

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/edit"),
        &[("body", "call me")],
    )
    .await;
    let page = app.get_html("/articles/a").await;
    assert!(page.contains("call me") && !page.contains("07700"));

    app.post_as(&moderator.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    assert!(!app.get_html("/articles/a").await.contains("call me"));
}

#[tokio::test]
async fn posting_a_pending_comment_does_not_change_what_readers_see() {
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let version = || async {
        sqlx::query_scalar::<_, i64>("SELECT comments_version FROM articles")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    let before = version().await;
    app.post_comment("a", &[("name", "Sam"), ("body", "waiting")])
        .await;
    assert_eq!(version().await, before, "the cached page stays valid");
}

/// As deployed: each process trusts an article it has just read for a quarter of a second.
fn as_deployed(config: &mut Config) {
    config.article_refresh = std::time::Duration::from_millis(250);
}

#[tokio::test]
async fn with_articles_remembered_a_process_shows_its_own_changes_at_once() {
    let app = TestApp::spawn_with(as_deployed).await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;

    assert!(!app.get_html("/articles/a").await.contains("waiting for approval"));
    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{id}/approve"),
            &[],
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(app.get_html("/articles/a").await.contains("waiting for approval"));

    app.post_as(&moderator.client, &format!("/moderation/comments/{id}/hide"), &[])
        .await;
    assert!(!app.get_html("/articles/a").await.contains("waiting for approval"));
}

#[tokio::test]
async fn with_articles_remembered_another_process_shows_a_change_within_a_second() {
    let app = TestApp::spawn_with(as_deployed).await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let mut config = Config::for_tests();
    as_deployed(&mut config);
    let other = second_process_with(&app, config).await;
    let read_other = || read_page(&other, "/articles/a");
    assert!(!read_other().await.contains("waiting for approval"));

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;
    let approved = std::time::Instant::now();
    while !read_other().await.contains("waiting for approval") {
        assert!(
            approved.elapsed() < std::time::Duration::from_secs(1),
            "the other process shows it within a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Reads a header as text ("" when absent).
fn header_of(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A reader's browser at `address`, holding `cookie` if any.
async fn read_as(app: &TestApp, address: &str, cookie: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", app.address))
        .header("x-forwarded-for", address);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn two_readers_get_byte_identical_pages_that_shared_caches_may_keep() {
    use reqwest::header::{CACHE_CONTROL, ETAG, SET_COOKIE, VARY};
    let app = TestApp::spawn_with(|c| {
        c.shared_cache_seconds = 600;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.embed_origins = vec!["https://www.example.org".to_owned()];
    })
    .await;
    let a = app.add_article("a", "A").await;
    let parent = app.add_comment(a, None, "Sam", "A question.", Published).await;
    for path in [
        "/articles/a".to_owned(),
        format!("/articles/a?reply_to={parent}"),
        "/embed/articles/a".to_owned(),
    ] {
        // A window may end between the two readers: then both ask again.
        let (one, two) = loop {
            let one = read_as(&app, "192.0.2.1", None, &path).await;
            let two = read_as(
                &app,
                "198.51.100.7",
                Some("carethread_form=someone; other=1"),
                &path,
            )
            .await;
            if header_of(&one, ETAG) == header_of(&two, ETAG) {
                break (one, two);
            }
        };
        for response in [&one, &two] {
            assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
            assert_eq!(
                header_of(response, CACHE_CONTROL),
                "public, max-age=0, s-maxage=600, stale-while-revalidate=30, stale-if-error=300"
            );
            assert!(header_of(response, VARY).contains("Cookie"), "{path}");
            assert!(
                header_of(response, SET_COOKIE).is_empty(),
                "{path}: no cookie is set"
            );
            assert!(!header_of(response, ETAG).is_empty(), "{path}");
        }
        let (one, two) = (one.bytes().await.unwrap(), two.bytes().await.unwrap());
        assert_eq!(one, two, "{path}: the same bytes for every reader");
        let html = String::from_utf8_lossy(&one);
        assert!(html.contains("name=\"form_stamp\""), "{path}: the form is there");
        assert!(
            !html.contains("authenticity_token"),
            "{path}: no per-reader token"
        );
    }
}

#[tokio::test]
async fn a_reader_whose_copy_is_current_is_answered_304_until_the_thread_changes() {
    use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
    let app = TestApp::spawn_with(|c| c.shared_cache_seconds = 600).await;
    let a = app.add_article("a", "A").await;
    let id = app
        .add_comment(a, None, "Jo", "waiting for approval", Pending)
        .await;
    let ask = |etag: String| {
        reqwest::Client::new()
            .get(format!("{}/articles/a", app.address))
            .header(IF_NONE_MATCH, etag)
            .send()
    };
    let (first, etag) = loop {
        let first = app.get("/articles/a").await;
        let etag = header_of(&first, ETAG);
        let again = ask(etag.clone()).await.unwrap();
        if again.status() == reqwest::StatusCode::NOT_MODIFIED {
            assert_eq!(header_of(&again, ETAG), etag);
            assert!(header_of(&again, CACHE_CONTROL).contains("s-maxage=600"));
            assert!(again.bytes().await.unwrap().is_empty());
            break (first, etag);
        }
        // A new window began between the two requests: its page is another page.
    };
    assert_eq!(first.status(), reqwest::StatusCode::OK);
    assert_eq!(
        ask("\"something else\"".into()).await.unwrap().status(),
        reqwest::StatusCode::OK
    );

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;
    let changed = ask(etag.clone()).await.unwrap();
    assert_eq!(
        changed.status(),
        reqwest::StatusCode::OK,
        "the approved comment is new"
    );
    assert_ne!(header_of(&changed, ETAG), etag);
    assert!(changed.text().await.unwrap().contains("waiting for approval"));
}

#[tokio::test]
async fn pages_after_posting_and_pages_for_staff_are_never_kept_for_others() {
    use reqwest::header::{CACHE_CONTROL, ETAG, LOCATION, ORIGIN};
    let app = TestApp::spawn().await;
    app.add_article("a", "A").await;
    let private = "private, no-store";

    let posted = app
        .post_comment(
            "a",
            &[
                ("name", "Sam"),
                ("email", "sam@example.org"),
                ("body", "My question."),
            ],
        )
        .await;
    assert_eq!(header_of(&posted, CACHE_CONTROL), private);
    let thanks = app.get(&header_of(&posted, LOCATION)).await;
    assert!(thanks.text().await.unwrap().contains("Thank you"));
    for path in [
        header_of(&posted, LOCATION),
        "/articles/a?posted=safety".to_owned(),
        "/articles/a?reported=1".to_owned(),
    ] {
        let page = app.get(&path).await;
        assert_eq!(header_of(&page, CACHE_CONTROL), private, "{path}");
        assert!(header_of(&page, ETAG).is_empty(), "{path}");
    }

    // Errors, with the words (and the email) shown again.
    let refused = app
        .post_comment(
            "a",
            &[("name", ""), ("email", "sam@example.org"), ("body", "Kept.")],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(header_of(&refused, CACHE_CONTROL), private);
    let forged = reqwest::Client::new()
        .post(format!("{}/articles/a/comments", app.address))
        .header(ORIGIN, "https://evil.example")
        .form(&[("name", "Sam"), ("body", "Kept.")])
        .send()
        .await
        .unwrap();
    assert_eq!(header_of(&forged, CACHE_CONTROL), private);

    // Nothing personal reaches the shareable page.
    let public = app.get("/articles/a").await;
    assert!(header_of(&public, CACHE_CONTROL).starts_with("public"));
    assert!(!public.text().await.unwrap().contains("sam@example.org"));

    // Signed-in staff: their view of the thread, and every staff page.
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    for path in ["/articles/a", "/embed/articles/a", "/moderation", "/login"] {
        let page = app.get_as(&moderator.client, path).await;
        assert_eq!(header_of(&page, CACHE_CONTROL), private, "{path}");
        assert!(header_of(&page, ETAG).is_empty(), "{path}");
    }
    // Pages that name no policy of their own are not kept either.
    for path in ["/login", "/no-such-page", "/articles/no-such-article"] {
        assert_eq!(header_of(&app.get(path).await, CACHE_CONTROL), private, "{path}");
    }
}

/// A stand-in for Varnish: answers every request 200 and passes on its first lines.
async fn cache_receiving_purges() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0; 4096];
                let mut read = 0;
                while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let _ = tx.send(String::from_utf8_lossy(&buffer[..read]).to_lowercase());
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn with_a_purge_address_the_cache_is_told_when_a_thread_changes() {
    let app = TestApp::spawn().await;
    let a = app.add_article("after-a-loss", "A").await;
    let id = app.add_comment(a, None, "Jo", "waiting", Pending).await;
    let (url, mut purges) = cache_receiving_purges().await;
    let worker = tokio::spawn(carethread::comments::purge::run(
        app.db.clone(),
        url,
        std::time::Duration::ZERO,
    ));
    // Posting a pending comment changes no page: nothing is sent for it.
    app.post_comment("after-a-loss", &[("name", "Sam"), ("body", "Still waiting.")])
        .await;

    let moderator = app.staff("Alex", Role::Moderator, false).await;
    app.post_as(
        &moderator.client,
        &format!("/moderation/comments/{id}/approve"),
        &[],
    )
    .await;
    let request = tokio::time::timeout(std::time::Duration::from_secs(5), purges.recv())
        .await
        .expect("a purge within seconds")
        .unwrap();
    assert!(request.starts_with("ban / http/1.1"), "{request}");
    assert!(request.contains("x-carethread-ban: after-a-loss"), "{request}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(purges.try_recv().is_err(), "one change, one purge");
    worker.abort();
}

/// An answer as a client sees it: the status, the headers but those that differ by request or by
/// second (the request id, the date), sorted, and the bytes as sent.
async fn seen(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut request = reqwest::Client::builder()
        .no_gzip()
        .build()
        .unwrap()
        .get(format!("{}{path}", app.address));
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// An app that keeps articles and pages in memory for ten minutes, with article "a" and one
/// published comment saying `words`; the article's id.
async fn remembering_article(words: &str) -> (TestApp, i64) {
    let app = TestApp::spawn_with(|c| {
        c.shared_cache_seconds = 600;
        c.article_refresh = std::time::Duration::from_secs(600);
    })
    .await;
    let a = app.add_article("a", "A").await;
    app.add_comment(a, None, "Sam", words, Published).await;
    (app, a)
}

#[tokio::test]
async fn a_page_ready_in_memory_is_sent_exactly_as_the_handler_sends_it() {
    let (app, _) = remembering_article("A question about the scan.").await;
    // A reader without cookies may be answered from memory once the page is there; one with a
    // cookie (of no member of staff) always goes through the router to the handler, and is
    // shown the same page.
    for extra in [
        vec![],
        vec![("accept-encoding", "gzip, deflate, br")],
        vec![("accept-encoding", "br;q=1.0, gzip;q=0.5")],
        vec![("accept-encoding", "identity")],
        vec![("accept-encoding", "gzip;q=0.5, identity")],
        vec![("accept-encoding", "*")],
    ] {
        let (from_memory, from_handler) = loop {
            seen(&app, "/articles/a", None, &extra).await;
            let from_memory = seen(&app, "/articles/a", None, &extra).await;
            let from_handler = seen(&app, "/articles/a", Some("other=1"), &extra).await;
            // A form window may end between the two: then both ask again.
            if from_memory.1.iter().find(|(n, _)| n == "etag")
                == from_handler.1.iter().find(|(n, _)| n == "etag")
            {
                break (from_memory, from_handler);
            }
        };
        assert_eq!(from_memory.0, 200, "{extra:?}");
        assert_eq!(from_memory.1, from_handler.1, "{extra:?}: the same headers");
        assert_eq!(from_memory.2, from_handler.2, "{extra:?}: the same bytes");
        let gzip = from_memory
            .1
            .contains(&("content-encoding".into(), "gzip".into()));
        let preferred = !extra.is_empty() && !extra[0].1.contains("identity");
        assert_eq!(
            gzip, preferred,
            "{extra:?}: compressed when the browser prefers it"
        );
    }

    let (_, headers, _) = seen(&app, "/articles/a", None, &[]).await;
    let etag = &headers.iter().find(|(n, _)| n == "etag").unwrap().1;
    let not_modified = seen(&app, "/articles/a", None, &[("if-none-match", etag)]).await;
    let from_handler = seen(&app, "/articles/a", Some("other=1"), &[("if-none-match", etag)]).await;
    assert_eq!(not_modified.0, 304);
    assert_eq!(not_modified, from_handler);

    // The request id a proxy sent comes back, whichever way the page was answered.
    let response = reqwest::Client::new()
        .get(format!("{}/articles/a", app.address))
        .header("x-request-id", "edge-4471")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "edge-4471");
}

#[tokio::test]
async fn a_page_ready_in_memory_never_outlives_a_change() {
    let (app, a) = remembering_article("The first question.").await;
    for _ in 0..3 {
        assert!(
            read_page(&app.address, "/articles/a")
                .await
                .contains("The first question.")
        );
    }
    let waiting = app
        .add_comment(a, None, "Alex", "A second question, approved now.", Pending)
        .await;
    let moderator = app.staff("Alex", Role::Moderator, false).await;
    let response = app
        .post_as(
            &moderator.client,
            &format!("/moderation/comments/{waiting}/approve"),
            &[],
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(
        read_page(&app.address, "/articles/a")
            .await
            .contains("A second question, approved now."),
        "the approval shows at once to readers without cookies"
    );
}
