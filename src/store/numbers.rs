//! The dialplan's one namespace: every extension (user, fax, speed dial, team) is a row here, so
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
    /// A team [Team], by its id.
    Team(i64),
}

impl Owner {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Owner::User(id) => ("user", id),
            Owner::Fax(id) => ("fax", id),
            Owner::SpeedDial(id) => ("speed-dial", id),
            Owner::Team(id) => ("team", id),
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
    if let Some(other) = taken(conn, &[number]).await?.get(number) {
        return Err(in_use(field, number, other));
    }
    insert_many(conn, &[(number.to_owned(), owner)]).await
}

/// Which of `numbers` are taken, with the kind of their owner.
pub async fn taken(
    conn: &mut SqliteConnection,
    numbers: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let select = "SELECT number, owner_kind FROM numbers WHERE number IN (";
    let rows: Vec<(String, String)> = super::select_in(conn, select, numbers).await?;
    Ok(rows.into_iter().collect())
}

/// The conflict a taken number is, in `field`.
pub fn in_use(field: &str, number: &str, by: &str) -> StoreError {
    StoreError::conflict(field, format!("{number} is already in use (by a {by})"))
}

/// Claims numbers nobody holds (checked with [`taken`]), in a few statements.
pub async fn insert_many(conn: &mut SqliteConnection, claims: &[(String, Owner)]) -> Result<()> {
    for chunk in claims.chunks(500) {
        let mut query =
            sqlx::QueryBuilder::new("INSERT INTO numbers (number, owner_kind, owner_id) ");
        query.push_values(chunk, |mut b, (number, owner)| {
            let (kind, id) = owner.parts();
            b.push_bind(number.clone()).push_bind(kind).push_bind(id);
        });
        query.build().execute(&mut *conn).await?;
    }
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
