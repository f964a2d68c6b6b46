//! A mail server for tests: it speaks enough SMTP over TCP for a real client (lettre) to deliver
//! to it, and keeps every message it accepts. It can be stopped and started again on the same
//! port, to stand for a mail server that goes away.

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    task::JoinHandle,
};

pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<String>>>,
    /// Once this many messages are kept, the server takes no more and answers nothing: a mail
    /// server that hangs mid-conversation.
    hold_after: Arc<Mutex<Option<usize>>>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let sink = Self {
            port,
            messages: Arc::default(),
            hold_after: Arc::default(),
            server: Mutex::new(None),
        };
        sink.serve(listener);
        sink
    }

    /// `smtp://127.0.0.1:<port>?tls=none`, as `CARETHREAD_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    fn serve(&self, listener: TcpListener) {
        let messages = Arc::clone(&self.messages);
        let hold_after = Arc::clone(&self.hold_after);
        let handle = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&messages), Arc::clone(&hold_after)));
            }
        });
        *self.server.lock().unwrap() = Some(handle);
    }

    /// Stops listening: connections are refused until [`SmtpSink::restart`].
    pub fn stop(&self) {
        if let Some(handle) = self.server.lock().unwrap().take() {
            handle.abort();
        }
    }

    pub async fn restart(&self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }

    /// Takes no more than `count` messages in all: the next one is never answered.
    pub fn hold_after(&self, count: usize) {
        *self.hold_after.lock().unwrap() = Some(count);
    }

    /// Takes every message again, as after [`SmtpSink::hold_after`].
    pub fn take_everything(&self) {
        *self.hold_after.lock().unwrap() = None;
    }

    /// Every message accepted so far, decoded from quoted-printable.
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().iter().map(|m| decode(m)).collect()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    messages: Arc<Mutex<Vec<String>>>,
    hold_after: Arc<Mutex<Option<usize>>>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
            "DATA" => {
                if write.write_all(b"354 go on\r\n").await.is_err() {
                    return;
                }
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    message.push_str(line.strip_prefix('.').unwrap_or(&line));
                    message.push('\n');
                }
                let held = hold_after
                    .lock()
                    .unwrap()
                    .is_some_and(|count| messages.lock().unwrap().len() >= count);
                if held {
                    std::future::pending::<()>().await;
                }
                messages.lock().unwrap().push(message);
                b"250 kept\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 not here\r\n",
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// Quoted-printable soft line breaks and `=XX` escapes undone (headers are left as sent).
fn decode(message: &str) -> String {
    let joined = message.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(value) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
