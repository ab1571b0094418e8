//! The domain's enums as stored: each is a `TEXT` column holding the enum's stable code. Rows
//! read from the database carry the enum (parsed here, at the edge); an unknown code is a
//! deserialisation error, never a silent default. Writes bind `code()`.

use diesel::deserialize::{self, FromSql, Queryable};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Text;

macro_rules! stored_as_code {
    ($($ty:ty),+ $(,)?) => {$(
        impl FromSql<Text, Pg> for $ty {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                let code = <String as FromSql<Text, Pg>>::from_sql(value)?;
                <$ty>::from_code(&code)
                    .ok_or_else(|| format!("unknown {} code {code:?}", stringify!($ty)).into())
            }
        }

        impl Queryable<Text, Pg> for $ty {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )+};
}

stored_as_code!(
    crate::domain::role::Role,
    crate::domain::case::State,
    crate::domain::release::ReleaseState,
    crate::domain::catalogue::DecisionAuthority,
    crate::domain::catalogue::SourceKind,
    crate::domain::transfer::TransferState,
    crate::domain::pricing::PriceListState,
    crate::domain::pricing::InvoiceStatus,
    crate::domain::outbox::OutboxState,
    crate::domain::appeal::Reconsideration,
    crate::domain::appeal::HelseklageOutcome,
);
