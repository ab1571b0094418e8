//! The statements the service runs on every inbox, dashboard and statistics view, on every
//! recorded event and in the commands' and the outbox's writes stay prepared on their connection
//! (`db::prepared`): parsed and planned once, then reused, where diesel alone would prepare, run
//! and close them again on every call.

use crate::common::TestApp;
use chrono::Utc;
use diesel_async::RunQueryDsl;
use helsedataservice::db;

#[derive(diesel::QueryableByName)]
struct Kept {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
}

#[rocket::async_test]
async fn hot_statements_stay_prepared_on_their_connection() {
    let app = TestApp::new().await;
    let mut conn = app.conn().await;
    let now = Utc::now();
    for i in 0..3 {
        db::cases::counts_by_state(&conn).await.unwrap();
        db::statistics::workload(&mut conn, now.date_naive()).await.unwrap();
        db::statistics::ages(&mut conn, now, None).await.unwrap();
        let event = db::events::NewEvent {
            actor_id: None,
            address: None,
            subject_type: "system",
            subject_id: None,
            kind: "prepared_test",
            payload: serde_json::json!({ "i": i }),
        };
        db::events::append(&mut conn, now, event).await.unwrap();
        // Writes of the commands and of the outbox's worker (none of these rows exist).
        db::notifications::mark_sent(&mut conn, -1, "<test@example.no>", now).await.unwrap();
        db::notifications::mark_read(&mut conn, -1, None, now).await.unwrap();
        db::cases::mark_under_appeal(&mut conn, -1).await.unwrap();
    }
    let kept: Vec<Kept> =
        diesel::sql_query("SELECT statement FROM pg_prepared_statements").load(&mut conn).await.unwrap();
    for part in [
        "FROM case_counts",
        "FROM open_cases_due",
        "FROM open_cases_age",
        "pg_advisory_xact_lock",
        "INSERT INTO \"events\"",
        "\"sent_at\" = $",
        "UPDATE \"notifications\"",
        "\"reconsideration\" = $",
    ] {
        let n = kept.iter().filter(|k| k.statement.contains(part)).count();
        assert_eq!(n, 1, "one statement with {part} kept prepared after three calls; kept: {}", kept.len());
    }
    let chain = db::events::verify_chain(&mut conn).await.unwrap();
    assert_eq!(chain.first_broken, None, "the chain still verifies");
    assert!(chain.checked >= 3);
}
