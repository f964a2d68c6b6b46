//! A thread on the charity's own page, in a real browser: the article page comes from another
//! site (127.0.0.2, where the comment service is 127.0.0.1), frames the thread with `embed.js`,
//! and the reader reads and posts inside the frame.

use std::path::PathBuf;

use fantoccini::key::Key;

use super::{
    axe,
    driver::{Browser, Js, Width, driver},
};
use crate::helpers::TestApp;

const SLUG: &str = carethread::demo::DEMO_SLUG;

/// A charity's article page on another site: text, the snippet, and links before and after.
struct ArticleSite {
    origin: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl ArticleSite {
    /// Serves the article page at `bind` (another loopback address), framing `service`.
    async fn serve(bind: &str, service: &str) -> Self {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .expect("bind another loopback address");
        let origin = format!("http://{}", listener.local_addr().expect("address"));
        let page = format!(
            r##"<!doctype html><html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>After a miscarriage</title></head>
<body><main><h1>After a miscarriage</h1>
<p>An article written by the charity, with its own words and pictures.</p>
<p><a href="#before" id="before">A link before the comments</a></p>
<div id="carethread" data-carethread-article="{SLUG}" data-carethread-accent="#7a3b69"></div>
<script src="{service}/embed.js" async></script>
<noscript><a href="{service}/articles/{SLUG}">Read and add comments</a></noscript>
<p><a href="#after" id="after">A link after the comments</a></p>
<p>There are <span data-carethread-count="{SLUG}">some</span> on this article.</p>
</main></body></html>"##
        );
        let app = axum::Router::new().route(
            "/article",
            axum::routing::get(move || {
                let page = page.clone();
                async move { axum::response::Html(page) }
            }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self { origin, _stop: stop }
    }

    fn article(&self) -> String {
        format!("{}/article", self.origin)
    }
}

async fn open(browser: &Browser, url: &str) {
    browser
        .client()
        .goto(url)
        .await
        .unwrap_or_else(|e| panic!("could not open {url}: {e}"));
}

#[tokio::test]
async fn a_reader_reads_and_posts_inside_a_frame_on_another_sites_page() {
    let Some(driver) = driver().await else { return };
    let Some(axe_source) = axe::source().await else {
        return;
    };
    // The article site's origin must be known before the service starts: take its port first.
    let probe = std::net::TcpListener::bind("127.0.0.2:0").expect("127.0.0.2 is a loopback address");
    let port = probe.local_addr().expect("port").port();
    drop(probe);
    let parent = format!("http://127.0.0.2:{port}");
    let app = TestApp::spawn_with(|c| c.embed_origins = vec![parent.clone()]).await;
    carethread::demo::load(&app.db).await.expect("demo content");
    let site = ArticleSite::serve(&format!("127.0.0.2:{port}"), &app.address).await;
    assert_eq!(site.origin, parent, "the article site runs where it was allowed");

    for width in Width::BOTH {
        let reader = Browser::open(driver, &app, Js::On, width).await;
        open(&reader, &site.article()).await;
        reader
            .wait_until(
                "the frame to be sized by its content",
                "const f = document.querySelector('iframe.carethread-frame'); \
                 return !!f && f.style.height !== '40rem' && parseInt(f.style.height) > 300;",
            )
            .await;
        reader
            .wait_until(
                "the comment count to be filled in",
                "return /\\d+ comments?/.test(document.querySelector('[data-carethread-count]').textContent);",
            )
            .await;

        // The keyboard goes into the frame from the link before it.
        reader
            .script("document.getElementById('before').focus();", vec![])
            .await;
        reader.press(Key::Tab).await;
        reader
            .wait_until(
                "Tab to move the focus into the frame",
                "return document.activeElement.tagName === 'IFRAME';",
            )
            .await;

        let frame = reader.find("iframe.carethread-frame").await;
        frame.enter_frame().await.expect("enter the frame");
        assert!(reader.has(".thread-page").await, "the thread shows in the frame");
        let accent = reader
            .script(
                "return getComputedStyle(document.documentElement).getPropertyValue('--accent').trim();",
                vec![],
            )
            .await;
        assert_eq!(accent, "#7a3b69", "the page's accent colour is applied");
        let violations: Vec<_> = axe::check(&reader, axe_source, "embedded thread")
            .await
            .into_iter()
            .filter(axe::Violation::is_serious)
            .map(|v| v.description)
            .collect();
        assert!(violations.is_empty(), "{}", violations.join("\n"));

        // Posting inside the frame: the safety message and the thanks show there.
        reader.fill("#name", "Sam").await;
        reader
            .fill(
                "#body",
                &format!(
                    "I have been bleeding heavily since this morning and feel faint ({} px).",
                    width.px()
                ),
            )
            .await;
        let post = reader.button(None, "Post comment").await;
        reader.click_and_wait(&post).await;
        assert!(
            reader.has("#safety").await,
            "the safety message shows in the frame"
        );
        assert!(
            reader
                .page_text()
                .await
                .contains("Your comment has been received")
        );

        // The keyboard leaves the frame after its last control.
        reader
            .script("document.querySelector('button[type=submit]').focus();", vec![])
            .await;
        reader.press(Key::Tab).await;
        reader
            .client()
            .enter_parent_frame()
            .await
            .expect("back to the page");
        reader
            .wait_until(
                "Tab to move the focus out of the frame to the page",
                "return document.activeElement.id === 'after';",
            )
            .await;
        if width == Width::Desktop {
            reader.script("window.scrollTo(0, 0);", vec![]).await;
            // A window as tall as the page, so the whole frame is painted in the picture.
            let height = reader
                .script("return document.documentElement.scrollHeight;", vec![])
                .await;
            reader
                .cdp(
                    "Emulation.setDeviceMetricsOverride",
                    serde_json::json!({ "width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": false }),
                )
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            reader
                .save_screenshot(&screenshot_folder().join("embedded-1280.png"))
                .await;
        }
        reader.close().await;
    }
    let stored: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status::text, spam_reason FROM comments WHERE urgent ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let pending = (String::from("pending"), None);
    assert_eq!(
        stored,
        vec![pending.clone(), pending],
        "one urgent comment from each width, waiting for a moderator"
    );
}

#[tokio::test]
async fn without_javascript_the_page_offers_a_link_to_the_comments() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::spawn().await;
    carethread::demo::load(&app.db).await.expect("demo content");
    let site = ArticleSite::serve("127.0.0.2:0", &app.address).await;
    let reader = Browser::open(driver, &app, Js::Off, Width::Phone).await;
    open(&reader, &site.article()).await;
    assert!(!reader.has("iframe").await);
    let link = reader
        .find(&format!("a[href='{}/articles/{SLUG}']", app.address))
        .await;
    reader.click_and_wait(&link).await;
    assert_eq!(reader.path().await, format!("/articles/{SLUG}"));
    assert!(reader.has("form.comment-form").await);
    reader.close().await;
}

#[tokio::test]
async fn a_site_that_is_not_allowed_cannot_frame_a_thread() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::spawn_with(|c| c.embed_origins = vec!["https://www.example.org".into()]).await;
    carethread::demo::load(&app.db).await.expect("demo content");
    let site = ArticleSite::serve("127.0.0.3:0", &app.address).await;
    let reader = Browser::open(driver, &app, Js::On, Width::Desktop).await;
    open(&reader, &site.article()).await;
    let frame = reader.find("iframe.carethread-frame").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    frame.enter_frame().await.expect("enter the frame");
    assert!(
        !reader.has("form.comment-form").await && !reader.has(".thread-page").await,
        "the browser refuses to show the thread in a frame on a site that is not allowed"
    );
    reader
        .client()
        .enter_parent_frame()
        .await
        .expect("back to the page");
    let height = reader
        .script(
            "return document.querySelector('iframe.carethread-frame').style.height;",
            vec![],
        )
        .await;
    assert_eq!(height, "40rem", "no message came from the frame");
    reader.close().await;
}

fn screenshot_folder() -> PathBuf {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some_and(|v| !v.is_empty()) {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
    }
}
