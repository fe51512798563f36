//! The dialplan's one namespace: every extension (user, fax, speed dial; teams when they come) is a row here, so
//! the primary key makes each number unique across all of them.

use sqlx::SqliteConnection;

use super::{Result, StoreError};

/// Who owns a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    User(i64),
    /// A virtual fax device, by device id.
    Fax(i64),
    /// A speed dial [Kurzwahl], by its id.
    SpeedDial(i64),
}

impl Owner {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Owner::User(id) => ("user", id),
            Owner::Fax(id) => ("fax", id),
            Owner::SpeedDial(id) => ("speed-dial", id),
        }
    }
}

/// Claims `number` for `owner`; a taken number is a conflict on `field`.
pub async fn claim(
    conn: &mut SqliteConnection,
    field: &str,
    number: &str,
    owner: Owner,
) -> Result<()> {
    let (kind, id) = owner.parts();
    let taken: Option<(String,)> =
        sqlx::query_as("SELECT owner_kind FROM numbers WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((other,)) = taken {
        return Err(StoreError::conflict(
            field,
            format!("{number} is already in use (by a {other})"),
        ));
    }
    sqlx::query("INSERT INTO numbers (number, owner_kind, owner_id) VALUES ($1, $2, $3)")
        .bind(number)
        .bind(kind)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(super::unique_as_conflict(field, "is already in use"))?;
    Ok(())
}

/// Releases every number `owner` holds.
pub async fn release(conn: &mut SqliteConnection, owner: Owner) -> Result<()> {
    let (kind, id) = owner.parts();
    sqlx::query("DELETE FROM numbers WHERE owner_kind = $1 AND owner_id = $2")
        .bind(kind)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves `owner` from its old number (if any) to `new` (if any).
pub async fn replace(
    conn: &mut SqliteConnection,
    field: &str,
    new: Option<&str>,
    owner: Owner,
) -> Result<()> {
    release(conn, owner).await?;
    match new {
        Some(number) => claim(conn, field, number, owner).await,
        None => Ok(()),
    }
}
