//! A small SMTP server for the tests (RFC 5321 without extensions): it accepts every message on
//! loopback and keeps it, so the tests see exactly what a real mail server would receive.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One received message: the envelope and the raw message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("a well-formed message")
    }

    pub fn subject(&self) -> String {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value("Subject").unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name).unwrap_or_default()
    }

    /// The decoded body of the first part of this MIME type.
    pub fn part(&self, mime: &str) -> Option<String> {
        fn find(p: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if p.ctype.mimetype == mime {
                return p.get_body().ok();
            }
            p.subparts.iter().find_map(|s| find(s, mime))
        }
        find(&self.parsed(), mime)
    }
}

/// A running sink; stops when dropped.
pub struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// Starts on a free port (or on `port`).
    pub async fn start(port: u16) -> Sink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store).await;
                });
            }
        });
        Sink { port, received, task }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(stream: tokio::net::TcpStream, store: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().trim_matches(['<', '>']).to_string();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if lines.read_until(b'\n', &mut l).await? == 0 {
                    return Ok(());
                }
                if l == b".\r\n" {
                    break;
                }
                let l = if l.starts_with(b"..") { &l[1..] } else { &l[..] };
                data.extend_from_slice(l);
            }
            store.lock().unwrap().push(Received { from: from.clone(), to: std::mem::take(&mut to), data });
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
