//! Speed dials [Kurzwahlen]: short codes anyone dials for a longer number. Each code is claimed
//! in the dialplan's one namespace, so it never shadows an extension or a fax number.

use sqlx::SqliteConnection;

use super::numbers::{self, Owner};
use super::{Result, SpeedDial, SpeedDialBody, Store, StoreError, validate};

fn check(code: &str, body: &SpeedDialBody) -> Result<()> {
    validate::extension("code", code)?;
    validate::display_text("name", &body.name)?;
    validate::phone_number("number", &body.number)
        .or_else(|_| validate::extension("number", &body.number))?;
    if body.number == code {
        return Err(StoreError::invalid(
            "number",
            "a speed dial cannot dial itself",
        ));
    }
    Ok(())
}

/// Every speed dial (or the one with `code`), ordered by code.
pub(super) async fn select(
    conn: &mut SqliteConnection,
    code: Option<&str>,
) -> Result<Vec<SpeedDial>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT code, name, number FROM speed_dials WHERE $1 IS NULL OR code = $1 ORDER BY code",
    )
    .bind(code)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, name, number)| SpeedDial { code, name, number })
        .collect())
}

/// Creates speed dial `code` or changes it; true when it was created.
pub(super) async fn put(
    conn: &mut SqliteConnection,
    code: &str,
    body: &SpeedDialBody,
) -> Result<bool> {
    check(code, body)?;
    let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM speed_dials WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((id,)) = existing {
        sqlx::query("UPDATE speed_dials SET name = $1, number = $2 WHERE id = $3")
            .bind(&body.name)
            .bind(&body.number)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        return Ok(false);
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO speed_dials (code, name, number) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(code)
    .bind(&body.name)
    .bind(&body.number)
    .fetch_one(&mut *conn)
    .await?;
    numbers::claim(conn, "code", code, Owner::SpeedDial(id)).await?;
    Ok(true)
}

pub(super) async fn remove(conn: &mut SqliteConnection, code: &str) -> Result<()> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM speed_dials WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    let (id,) = row.ok_or_else(|| StoreError::not_found("speed dial", code))?;
    numbers::release(conn, Owner::SpeedDial(id)).await?;
    sqlx::query("DELETE FROM speed_dials WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn speed_dials(&self) -> Result<Vec<SpeedDial>> {
        select(&mut *self.read.acquire().await?, None).await
    }

    pub async fn speed_dial(&self, code: &str) -> Result<SpeedDial> {
        let mut conn = self.read.acquire().await?;
        select(&mut conn, Some(code))
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("speed dial", code))
    }

    /// Creates or changes speed dial `code`; true when it was created.
    pub async fn put_speed_dial(
        &self,
        code: &str,
        body: &SpeedDialBody,
    ) -> Result<(SpeedDial, bool)> {
        let mut tx = self.write.begin().await?;
        let created = put(&mut tx, code, body).await?;
        let dial = select(&mut tx, Some(code)).await?.pop();
        tx.commit().await?;
        let dial = dial.ok_or_else(|| StoreError::not_found("speed dial", code))?;
        Ok((dial, created))
    }

    pub async fn delete_speed_dial(&self, code: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        remove(&mut tx, code).await?;
        tx.commit().await?;
        Ok(())
    }
}
