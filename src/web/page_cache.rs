//! Rendered pages kept in memory, so that a page viewed again before anything has changed is
//! served without asking the database.
//!
//! **What is cached.** The HTML of a page a route chooses to cache (today: the status page of an
//! application; its guard is [`View`]), per browser session: the key holds the session cookie and
//! the CSRF cookie (whose token the page embeds) as the browser sent them,
//! the language inputs (cookie and `Accept-Language`) and the path. A page is stored only after
//! the route has checked the session and the user's right to see it, and only for requests that
//! carry no flash message and already have their CSRF cookie (nothing to set).
//!
//! **When a page stops being served.** Every change to a row that a page may show notifies
//! `hds_changes` (triggers of migration 000011). Each instance LISTENs on a connection of its own
//! and, on any notification, moves to a new *generation* and empties its cache: a page is served
//! only while its generation is the current one. The generation is read before the route reads
//! anything, so a page rendered while a change committed is already stale when it is stored.
//! Besides:
//! - a request that may have written (a method other than GET, HEAD and OPTIONS, from a session or
//!   a token, not refused with a 4xx) starts a new generation as soon as its answer is ready, so a
//!   browser never sees its own change missing on the instance that made it, even before the
//!   notification arrives;
//! - a page is kept at most `PAGE_CACHE_SECONDS` (default and at most 60), for what changes with
//!   the clock alone (deadlines, overdue cases; a command the page still offers is checked afresh
//!   when given);
//! - a page is never served after its session expires;
//! - a request with `Cache-Control: no-cache` (a browser's hard reload) gets a fresh page;
//! - while the listening connection is down (database restart, network) nothing is served from
//!   the cache, and the first generation after it is back starts empty; the connection is asked
//!   `SELECT 1` every 5 s, so one that silently stopped carrying anything is noticed within 10 s.
//!
//! Writes with triggers disabled (`session_replication_role = replica`, `pg_restore
//! --disable-triggers`) notify nobody: send `NOTIFY hds_changes` after them, or restart.
//!
//! Other instances on the same database hear of a change when PostgreSQL delivers the
//! notification, normally within a millisecond of the commit.

use super::context::Ctx;
use crate::config::Config;
use crate::db::Pool;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Method;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{Orbit, Response, Rocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The channel the triggers notify.
pub const CHANNEL: &str = "hds_changes";
/// How often the listening connection is checked, and how long an answer may take.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Payload prefix of [`PageCache::sync`]'s own notifications.
const SYNC_PREFIX: &str = "sync:";

/// Whom a cached page was rendered for: one browser session, its CSRF token (embedded in the
/// page's forms), its language choice, and the page.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Key {
    session: String,
    csrf: String,
    lang_cookie: Option<String>,
    accept_language: Option<String>,
    path: String,
}

#[derive(Debug)]
struct Entry {
    html: Arc<str>,
    generation: u64,
    session_expires_at: DateTime<Utc>,
}

/// A page that may be stored once rendered: its key and the generation read before the route
/// read anything (kept in the request's local cache by [`View`]).
#[derive(Clone, Debug)]
pub struct Ticket {
    key: Key,
    generation: u64,
}

struct Shared {
    pages: Cache<Key, Arc<Entry>>,
    generation: AtomicU64,
    /// Whether the listening connection is up (nothing is served while it is not).
    listening: AtomicBool,
    /// This instance's name in its sync notifications (every instance hears every one).
    instance: String,
    /// Counter of this instance's sync notifications, and the highest one heard back.
    sync_sent: AtomicU64,
    sync_heard: tokio::sync::watch::Sender<u64>,
    hits: AtomicU64,
    misses: AtomicU64,
    listens: AtomicU64,
}

/// What the cache has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Pages served from memory.
    pub hits: u64,
    /// Cacheable requests that found no current page (and were rendered).
    pub misses: u64,
    /// Generations started (changes heard, writes answered, connections made and lost).
    pub generation: u64,
    /// Times the listening connection was made.
    pub listens: u64,
}

/// The cache, in Rocket's managed state; also the fairing that listens and that starts a new
/// generation after each write request.
#[derive(Clone)]
pub struct PageCache {
    shared: Arc<Shared>,
    enabled: bool,
    database_url: Option<String>,
}

impl PageCache {
    /// A cache keeping pages `PAGE_CACHE_SECONDS` (0: off) within `PAGE_CACHE_MB` of HTML.
    pub fn new(config: &Config) -> PageCache {
        let pages = Cache::builder()
            .max_capacity(config.page_cache_mb.max(1) * 1024 * 1024)
            .weigher(|key: &Key, entry: &Arc<Entry>| {
                let bytes = entry.html.len() + key.session.len() + key.csrf.len() + key.path.len() + 128;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(Duration::from_secs(config.page_cache_seconds.max(1)))
            .build();
        PageCache {
            shared: Arc::new(Shared {
                pages,
                generation: AtomicU64::new(0),
                listening: AtomicBool::new(false),
                instance: uuid::Uuid::new_v4().simple().to_string(),
                sync_sent: AtomicU64::new(0),
                sync_heard: tokio::sync::watch::channel(0).0,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                listens: AtomicU64::new(0),
            }),
            enabled: config.page_cache_seconds > 0,
            database_url: config.database_url.clone(),
        }
    }

    /// Whether pages may be served from memory now.
    pub fn serving(&self) -> bool {
        self.enabled && self.shared.listening.load(Ordering::Acquire)
    }

    /// Starts a new generation: every page stored so far is stale.
    pub fn changed(&self) {
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
        self.shared.pages.invalidate_all();
    }

    fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// The stored page for `key`, if it is of the current generation and its session is valid.
    fn get(&self, key: &Key, now: DateTime<Utc>) -> Option<Arc<str>> {
        if !self.serving() {
            return None;
        }
        let entry = self.shared.pages.get(key)?;
        (entry.generation == self.generation() && now < entry.session_expires_at).then(|| entry.html.clone())
    }

    /// Stores a page rendered for `ticket` (unless a change has come since the ticket was taken).
    pub fn store(&self, ticket: &Ticket, html: &Arc<str>, session_expires_at: DateTime<Utc>) {
        if !self.serving() || ticket.generation != self.generation() {
            return;
        }
        let entry = Entry { html: html.clone(), generation: ticket.generation, session_expires_at };
        // A change that comes between the check and the insert makes the entry stale all the same:
        // `get` compares generations.
        self.shared.pages.insert(ticket.key.clone(), Arc::new(entry));
    }

    /// Counters, for tests and monitoring.
    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.shared.hits.load(Ordering::Acquire),
            misses: self.shared.misses.load(Ordering::Acquire),
            generation: self.generation(),
            listens: self.shared.listens.load(Ordering::Acquire),
        }
    }

    /// Pages stored now (for tests and the admin's curiosity; moka counts lazily).
    pub fn len(&self) -> u64 {
        self.shared.pages.run_pending_tasks();
        self.shared.pages.entry_count()
    }

    /// Whether no page is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until this instance has heard every change committed before the call: sends a
    /// notification of its own through `pool` and waits (at most 5 s) for the listener to hear it
    /// (PostgreSQL delivers notifications in commit order). Returns at once while not listening.
    /// For tests and tools that write to the database behind the service's back.
    pub async fn sync(&self, pool: &Pool) {
        if !self.serving() {
            return;
        }
        let n = self.shared.sync_sent.fetch_add(1, Ordering::AcqRel) + 1;
        let mut heard = self.shared.sync_heard.subscribe();
        let Ok(mut conn) = pool.get().await else { return };
        use diesel_async::RunQueryDsl;
        let sent = diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(format!("{SYNC_PREFIX}{}:{n}", self.shared.instance))
            .execute(&mut conn)
            .await;
        if sent.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), heard.wait_for(|h| *h >= n)).await;
        }
    }

    /// What the listener does with one notification: a change, or a sync (this instance's own,
    /// or another's, which changes nothing).
    fn heard(&self, payload: &str) {
        match payload.strip_prefix(SYNC_PREFIX) {
            Some(sync) => {
                let mine = sync
                    .split_once(':')
                    .filter(|(instance, _)| *instance == self.shared.instance)
                    .and_then(|(_, n)| n.parse::<u64>().ok());
                if let Some(n) = mine {
                    self.shared.sync_heard.send_modify(|h| *h = (*h).max(n));
                }
            }
            None => self.changed(),
        }
    }

    /// LISTENs until the connection fails, then again after a pause, for as long as the service
    /// runs. Nothing is served while not listening, and each new connection starts a new generation
    /// (changes may have been missed meanwhile).
    async fn listen(self, url: String, mut shutdown: rocket::Shutdown) {
        let mut pause = Duration::from_millis(100);
        loop {
            let listens = self.stats().listens;
            tokio::select! {
                result = self.listen_once(&url) => {
                    if let Err(e) = result {
                        tracing::warn!("page cache: not listening for changes ({e}); pages are rendered afresh meanwhile");
                    }
                }
                _ = &mut shutdown => {}
            }
            self.shared.listening.store(false, Ordering::Release);
            self.changed();
            if self.stats().listens > listens {
                pause = Duration::from_millis(100); // it was listening: try again soon
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = &mut shutdown => return,
            }
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn listen_once(&self, url: &str) -> Result<(), String> {
        let silent = || "the database stopped answering".to_string();
        let (client, mut connection) =
            tokio::time::timeout(HEARTBEAT, tokio_postgres::connect(url, tokio_postgres::NoTls))
                .await
                .map_err(|_| silent())?
                .map_err(|e| e.to_string())?;
        // The connection delivers notifications to whoever polls it (this task, which acts on
        // them at once); it also carries the LISTEN and the heartbeats.
        let cache = self.clone();
        let mut driver = tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => cache.heard(n.payload()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return e.to_string(),
                    None => return "the server closed the connection".to_string(),
                }
            }
        });
        let outcome = async {
            tokio::time::timeout(HEARTBEAT, client.batch_execute(&format!("LISTEN {CHANNEL}")))
                .await
                .map_err(|_| silent())?
                .map_err(|e| e.to_string())?;
            self.changed();
            self.shared.listens.fetch_add(1, Ordering::AcqRel);
            self.shared.listening.store(true, Ordering::Release);
            // A connection that silently stopped carrying anything (a network partition) would
            // leave the cache deaf: ask the server something every 5 s and give up on the
            // connection when it does not answer within 5 s more.
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                tokio::time::timeout(HEARTBEAT, client.simple_query("SELECT 1"))
                    .await
                    .map_err(|_| silent())?
                    .map_err(|e| e.to_string())?;
            }
        };
        let result: Result<(), String> = tokio::select! {
            result = outcome => result,
            reason = &mut driver => Err(reason.unwrap_or_else(|e| e.to_string())),
        };
        driver.abort();
        result
    }
}

#[rocket::async_trait]
impl Fairing for PageCache {
    fn info(&self) -> Info {
        Info { name: "page cache", kind: Kind::Liftoff | Kind::Response }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        if let (true, Some(url)) = (self.enabled, self.database_url.clone()) {
            tokio::spawn(self.clone().listen(url, rocket.shutdown()));
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // The handler has committed by now: the next request of this browser must not see a page
        // from before (the notification would say the same, a moment later). Only for requests
        // that may have written: a non-safe method, from someone logged in (a session cookie or a
        // token), answered without a refusal (4xx answers change nothing), so that anonymous or
        // refused requests cannot keep emptying the cache.
        let may_write = !matches!(req.method(), Method::Get | Method::Head | Method::Options)
            && (req.cookies().get(super::guards::SESSION_COOKIE).is_some() || req.headers().contains("Authorization"))
            && !res.status().class().is_client_error();
        if may_write {
            self.changed();
        }
    }
}

/// Name of Rocket's flash cookie (a page showing a flash message is never cached).
const FLASH_COOKIE: &str = "_flash";

/// A page from the cache, or what it takes to render one: the guard of a cacheable route.
/// On a miss it runs the page context's guard (which reads the session from the database) and
/// leaves a [`Ticket`] for [`Ctx::cacheable_page`] when the page may be stored.
pub enum View {
    Cached(Page),
    Render(Box<Ctx>),
}

/// The stored page for this request, if there is a current one; on a miss, the ticket.
fn lookup(req: &Request<'_>) -> Option<Page> {
    let cache = req.rocket().state::<PageCache>()?;
    let cookies = req.cookies();
    if !cache.serving() || cookies.get(FLASH_COOKIE).is_some() {
        return None;
    }
    // The cookies as the browser sent them, still encrypted: the same bytes mean the same
    // session and token (whoever has them has the session), and a hit costs no decryption. A
    // page is stored only for cookies that decrypted to a live session.
    let (Some(session), Some(csrf)) =
        (cookies.get(super::guards::SESSION_COOKIE), cookies.get(super::csrf::CSRF_COOKIE))
    else {
        return None;
    };
    // Read first: whatever the route reads after this is at least as new as this generation.
    let generation = cache.generation();
    let key = Key {
        session: session.value().to_string(),
        csrf: csrf.value().to_string(),
        lang_cookie: cookies.get(super::guards::LANG_COOKIE).map(|c| c.value().to_string()),
        accept_language: req.headers().get_one("Accept-Language").map(str::to_string),
        path: req.uri().path().to_string(),
    };
    // A browser's hard reload asks for a fresh page (`Cache-Control: no-cache`): render it, and
    // keep that.
    let fresh = ["Cache-Control", "Pragma"]
        .iter()
        .any(|h| req.headers().get(h).any(|v| v.to_ascii_lowercase().contains("no-cache")));
    if let Some(html) = (!fresh).then(|| cache.get(&key, Utc::now())).flatten() {
        cache.shared.hits.fetch_add(1, Ordering::Relaxed);
        return Some(Page(html));
    }
    cache.shared.misses.fetch_add(1, Ordering::Relaxed);
    req.local_cache(|| Some(Ticket { key, generation }));
    None
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for View {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if let Some(page) = lookup(req) {
            return Outcome::Success(View::Cached(page));
        }
        req.guard::<Ctx>().await.map(|ctx| View::Render(Box::new(ctx)))
    }
}

/// A page's HTML, shared with the cache.
pub struct Page(pub Arc<str>);

/// The stored HTML as a response body, without a copy.
struct Body(Arc<str>);

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl<'r> rocket::response::Responder<'r, 'static> for Page {
    fn respond_to(self, _req: &'r Request<'_>) -> rocket::response::Result<'static> {
        Response::build()
            .header(rocket::http::ContentType::HTML)
            .sized_body(self.0.len(), std::io::Cursor::new(Body(self.0)))
            .ok()
    }
}

/// The ticket [`View`] left for this request, if its page may be stored.
pub fn ticket(req: &Request<'_>) -> Option<Ticket> {
    req.local_cache(|| None::<Ticket>).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> PageCache {
        let mut config = Config::for_tests("postgres://unused".into(), std::env::temp_dir());
        config.page_cache_seconds = 60;
        let cache = PageCache::new(&config);
        cache.shared.listening.store(true, Ordering::Release);
        cache
    }

    fn key(session: &str) -> Key {
        Key {
            session: session.into(),
            csrf: "c".into(),
            lang_cookie: None,
            accept_language: Some("nb".into()),
            path: "/applications/1".into(),
        }
    }

    fn ticket(cache: &PageCache, session: &str) -> Ticket {
        Ticket { key: key(session), generation: cache.generation() }
    }

    #[test]
    fn a_stored_page_is_served_to_its_session_only() {
        let cache = cache();
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.store(&ticket(&cache, "a"), &Arc::from("<p>a</p>"), later);
        assert_eq!(cache.get(&key("a"), Utc::now()).as_deref(), Some("<p>a</p>"));
        assert_eq!(cache.get(&key("b"), Utc::now()), None);
        let mut other_csrf = key("a");
        other_csrf.csrf = "d".into();
        assert_eq!(cache.get(&other_csrf, Utc::now()), None);
        let mut other_language = key("a");
        other_language.lang_cookie = Some("en".into());
        assert_eq!(cache.get(&other_language, Utc::now()), None);
    }

    #[test]
    fn a_change_ends_every_stored_page() {
        let cache = cache();
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.store(&ticket(&cache, "a"), &Arc::from("<p>a</p>"), later);
        cache.heard("applications");
        assert_eq!(cache.get(&key("a"), Utc::now()), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_page_rendered_across_a_change_is_not_stored() {
        let cache = cache();
        let taken = ticket(&cache, "a");
        cache.heard("messages"); // committed while the page was being rendered
        cache.store(&taken, &Arc::from("<p>old</p>"), Utc::now() + chrono::Duration::hours(1));
        assert_eq!(cache.get(&key("a"), Utc::now()), None);
    }

    #[test]
    fn a_sync_notification_is_no_change() {
        let cache = cache();
        cache.store(&ticket(&cache, "a"), &Arc::from("<p>a</p>"), Utc::now() + chrono::Duration::hours(1));
        cache.heard(&format!("sync:{}:7", cache.shared.instance));
        cache.heard("sync:another-instance:9");
        assert!(cache.get(&key("a"), Utc::now()).is_some());
        assert_eq!(*cache.shared.sync_heard.borrow(), 7, "another instance's sync is not ours");
    }

    #[test]
    fn no_page_outlives_its_session() {
        let cache = cache();
        let expires = Utc::now() + chrono::Duration::seconds(5);
        cache.store(&ticket(&cache, "a"), &Arc::from("<p>a</p>"), expires);
        assert!(cache.get(&key("a"), expires - chrono::Duration::seconds(1)).is_some());
        assert_eq!(cache.get(&key("a"), expires), None);
    }

    #[test]
    fn nothing_is_served_or_stored_while_not_listening() {
        let cache = cache();
        cache.store(&ticket(&cache, "a"), &Arc::from("<p>a</p>"), Utc::now() + chrono::Duration::hours(1));
        cache.shared.listening.store(false, Ordering::Release);
        assert_eq!(cache.get(&key("a"), Utc::now()), None);
        cache.store(&ticket(&cache, "b"), &Arc::from("<p>b</p>"), Utc::now() + chrono::Duration::hours(1));
        cache.shared.listening.store(true, Ordering::Release);
        assert_eq!(cache.get(&key("b"), Utc::now()), None);
    }

    #[test]
    fn turned_off_it_serves_nothing() {
        let mut config = Config::for_tests("postgres://unused".into(), std::env::temp_dir());
        config.page_cache_seconds = 0;
        let cache = PageCache::new(&config);
        cache.shared.listening.store(true, Ordering::Release);
        assert!(!cache.serving());
    }
}
