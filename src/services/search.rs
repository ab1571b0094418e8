//! Search: cases for the people who may see them (case officers: every submitted case; others:
//! only what they may list anyway), and the catalogue for everyone.

use super::applications as apps;
use crate::db::{
    self,
    search::{CaseHit, SourceHit, VariableHit, Within},
    users::User,
};
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use diesel_async::AsyncPgConnection;

/// Longest query accepted (characters).
pub const MAX_QUERY: usize = 200;
/// Most hits returned per list.
pub const LIMIT: i64 = 50;

/// The trimmed query, or a 422 naming the field `q` when it is too long.
pub fn query(q: Option<&str>) -> AppResult<String> {
    let q = q.unwrap_or("").trim().to_string();
    if q.chars().count() > MAX_QUERY {
        let mut f = crate::domain::fields::FieldErrors::new();
        f.add_n("q", "err-too-long", MAX_QUERY as i64);
        return Err(AppError::Validation(f));
    }
    Ok(q)
}

/// Cases matching `q` that `user` may see, best first; an empty query finds nothing.
pub async fn cases(conn: &mut AsyncPgConnection, user: &User, q: &str) -> AppResult<Vec<CaseHit>> {
    if q.is_empty() {
        return Ok(vec![]);
    }
    if user.role.may(Permission::HandleCases) {
        return Ok(db::search::cases(conn, q, Within::Submitted, LIMIT).await?);
    }
    if user.role == Role::RegisterOwner {
        return Ok(match user.organisation_id {
            Some(org) => db::search::cases(conn, q, Within::SourcesOf(org), LIMIT).await?,
            None => vec![],
        });
    }
    let visible: Vec<i64> = apps::list(conn, user).await?.iter().map(|a| a.id).collect();
    if visible.is_empty() {
        return Ok(vec![]);
    }
    Ok(db::search::cases(conn, q, Within::Ids(&visible), LIMIT).await?)
}

/// Data sources and variables matching `q`, best first.
pub async fn catalogue(conn: &mut AsyncPgConnection, q: &str) -> AppResult<(Vec<SourceHit>, Vec<VariableHit>)> {
    if q.is_empty() {
        return Ok((vec![], vec![]));
    }
    Ok((db::search::sources(conn, q, LIMIT).await?, db::search::variables(conn, q, 2 * LIMIT).await?))
}
