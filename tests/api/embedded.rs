//! The embedded default database, end to end: the real binary with no DATABASE_URL.

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};

fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_carethread"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env("CARETHREAD_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    command
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args).output().expect("run carethread")
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

async fn start_server(data_dir: &Path, addr: &str) -> Child {
    let mut child = command(data_dir, &[])
        .env("CARETHREAD_ADDR", addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start carethread");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(response) = reqwest::get(format!("http://{addr}/healthz")).await
            && response.status() == 200
        {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("carethread exited early: {status}");
        }
        assert!(Instant::now() < deadline, "carethread did not become healthy");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn stop_server(mut child: Child) {
    signal::kill(Pid::from_raw(child.id() as i32), signal::Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "carethread stops cleanly on SIGTERM");
}

fn cluster_running(data_dir: &Path) -> bool {
    data_dir.join("postgres/postmaster.pid").exists()
}

#[tokio::test]
async fn the_embedded_database_is_created_reused_and_stopped_with_the_service() {
    let dir = tempfile::tempdir().unwrap();
    // When the tests run as root the server runs as `postgres`, which must be able to reach the folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    let addr = free_address();

    // First start: a new cluster with the demo article.
    let server = start_server(&data, &addr).await;
    assert!(
        data.join("postgres/PG_VERSION").exists(),
        "the cluster lives in the data folder"
    );
    let conf = std::fs::read_to_string(data.join("postgres/postgresql.conf")).unwrap();
    assert!(conf.contains("listen_addresses = ''"), "no TCP port");
    let home = reqwest::get(format!("http://{addr}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("After a miscarriage"));

    // A command works while the service runs, and leaves the service's server running.
    let added = run(
        &data,
        &[
            "article",
            "add",
            "--slug",
            "week-one",
            "--title",
            "Week one",
            "--url",
            "https://example.org/w1",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let home = reqwest::get(format!("http://{addr}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Week one"));

    stop_server(server);
    assert!(!cluster_running(&data), "the database stops with the service");

    // A command works with the service stopped, and stops the server it started.
    let list = run(&data, &["article", "list"]);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("week-one") && listed.contains("after-a-miscarriage"));
    assert!(!cluster_running(&data));

    // Second start reuses the data and does not load the demo twice.
    let server = start_server(&data, &addr).await;
    let home = reqwest::get(format!("http://{addr}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Week one"));
    assert_eq!(home.matches("After a miscarriage").count(), 1);
    stop_server(server);
    assert!(!cluster_running(&data));
}

#[test]
fn without_server_binaries_the_message_names_the_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(&dir.path().join("data"), &["migrate"])
        .env("CARETHREAD_PG_BIN", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("install PostgreSQL"), "{message}");
    assert!(message.contains("DATABASE_URL"));
    assert!(message.contains("docker compose up"));
}

#[test]
fn a_command_never_quietly_creates_a_new_empty_site() {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("mistyped");
    for args in [&["article", "list"][..], &["user", "list"], &["migrate"]] {
        let output = run(&data, args);
        assert!(!output.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(
            message.contains("there is no carethread database in"),
            "{message}"
        );
        assert!(
            message.contains("carethread serve")
                && message.contains("--data-dir")
                && message.contains("DATABASE_URL")
        );
        assert!(!data.join("postgres/PG_VERSION").exists(), "nothing was created");
    }
}
