//! Full-text search (PostgreSQL): the generated `search` columns of applications, data sources
//! and variables hold bokmål, English and 'simple' vectors; a query is parsed in all three
//! configurations and OR-ed, so "kreftregisteret", "cancer" and a code like "NPR" all match.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Float4, Int8, Nullable, Text, Timestamptz};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

const QUERY: &str = "websearch_to_tsquery('norwegian', $1) || websearch_to_tsquery('english', $1) \
                     || websearch_to_tsquery('simple', $1)";

/// One matching case.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct CaseHit {
    #[diesel(sql_type = Int8)]
    pub id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub state: crate::domain::case::State,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Float4)]
    pub rank: f32,
}

/// Which cases a search looks among: what the searching user may list.
#[derive(Debug, Clone, Copy)]
pub enum Within<'a> {
    /// Every submitted case (case officers).
    Submitted,
    /// The submitted cases that request a source of this organisation (its register owners).
    SourcesOf(i64),
    /// These cases (an applicant's own and those they are a member of).
    Ids(&'a [i64]),
}

/// Cases matching `q` that are `within` reach, best first.
pub async fn cases(conn: &mut AsyncPgConnection, q: &str, within: Within<'_>, limit: i64) -> QueryResult<Vec<CaseHit>> {
    // The register owners' condition is the list's (`applications::for_organisation`) as a
    // subquery: an organisation's cases are tens of thousands at national scale, too many to
    // read first and hand back as a list of ids.
    let condition = match within {
        // Submitted once: a draft withdrawn before it was sent stays the applicant's alone.
        Within::Submitted => "a.first_submitted_at IS NOT NULL",
        Within::SourcesOf(_) => {
            "a.first_submitted_at IS NOT NULL AND a.id IN (SELECT s.application_id FROM application_sources s \
             JOIN data_sources d ON d.id = s.data_source_id WHERE d.owner_id = $3)"
        }
        Within::Ids(_) => "a.id = ANY($2)",
    };
    let sql = format!(
        "SELECT a.id, a.reference, a.title, a.state, a.submitted_at, ts_rank_cd(a.search, q.query) AS rank \
         FROM applications a, (SELECT {QUERY} AS query) q \
         WHERE a.search @@ q.query AND {condition} \
         ORDER BY rank DESC, a.id DESC LIMIT $4"
    );
    let (ids, organisation) = match within {
        Within::Ids(ids) => (ids.to_vec(), 0),
        Within::SourcesOf(org) => (vec![], org),
        Within::Submitted => (vec![], 0),
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(q)
        .bind::<Array<Int8>, _>(ids)
        .bind::<BigInt, _>(organisation)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

/// One matching data source.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct SourceHit {
    #[diesel(sql_type = Int8)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub name_nb: String,
    #[diesel(sql_type = Text)]
    pub name_en: String,
    #[diesel(sql_type = Float4)]
    pub rank: f32,
}

/// One matching variable, with its source's code.
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct VariableHit {
    #[diesel(sql_type = Int8)]
    pub id: i64,
    #[diesel(sql_type = Int8)]
    pub data_source_id: i64,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub description_nb: String,
    #[diesel(sql_type = Text)]
    pub description_en: String,
    #[diesel(sql_type = Float4)]
    pub rank: f32,
}

/// Data sources matching `q`, best first.
pub async fn sources(conn: &mut AsyncPgConnection, q: &str, limit: i64) -> QueryResult<Vec<SourceHit>> {
    let sql = format!(
        "SELECT d.id, d.code, d.name_nb, d.name_en, ts_rank_cd(d.search, q.query) AS rank \
         FROM data_sources d, (SELECT {QUERY} AS query) q WHERE d.search @@ q.query \
         ORDER BY rank DESC, d.code LIMIT $2"
    );
    diesel::sql_query(sql).bind::<Text, _>(q).bind::<BigInt, _>(limit).load(conn).await
}

/// Variables matching `q`, best first.
pub async fn variables(conn: &mut AsyncPgConnection, q: &str, limit: i64) -> QueryResult<Vec<VariableHit>> {
    let sql = format!(
        "SELECT v.id, v.data_source_id, d.code, v.name, v.description_nb, v.description_en, \
         ts_rank_cd(v.search, q.query) AS rank \
         FROM variables v JOIN data_sources d ON d.id = v.data_source_id, (SELECT {QUERY} AS query) q \
         WHERE v.search @@ q.query ORDER BY rank DESC, d.code, v.name LIMIT $2"
    );
    diesel::sql_query(sql).bind::<Text, _>(q).bind::<BigInt, _>(limit).load(conn).await
}
