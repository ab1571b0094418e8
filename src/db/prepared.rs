//! Statements the connection keeps prepared although diesel would parse them every time.
//!
//! diesel keeps a statement prepared on its connection (keyed by its type, or by its SQL text and
//! bind types) unless some part of it says the SQL may vary from call to call: raw SQL
//! (`sql_query`), every `UPDATE`, `ON CONFLICT`, a single-row insert with an `Option` column
//! (which writes `DEFAULT` or a bind) and a multi-row insert. Each of those is parsed, planned
//! and closed again on every call, one more round trip and PostgreSQL's planning time each time
//! (seen with `scripts/bench-load --queries`: the inbox's counts by state, the dashboard's two
//! reads, the statistics and ten statements of every create and submit).
//!
//! [`KeepPrepared`] marks such a statement as safe to keep: the cache key is then its SQL text and
//! bind types, so a statement whose text varies (`DEFAULT` or a bind, the number of rows) is kept
//! once per variant. Use it only where the variants are few: fixed SQL text, a changeset with a
//! fixed set of columns, a multi-row insert bounded by the number of recipients. Never on SQL
//! built from user input.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// A statement kept prepared on its connection (see the module's documentation).
#[derive(Debug, Clone, Copy)]
pub struct KeepPrepared<Q>(Q);

/// `.keep_prepared()` on any statement.
pub trait KeepPreparedDsl: Sized {
    /// This statement, kept prepared on its connection after its first use.
    fn keep_prepared(self) -> KeepPrepared<Self> {
        KeepPrepared(self)
    }
}

impl<Q> KeepPreparedDsl for Q {}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for KeepPrepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the statement cache keys it by its SQL text and bind types.
impl<Q> QueryId for KeepPrepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for KeepPrepared<Q> {
    type SqlType = Q::SqlType;
}
