//! Call forwardings [Rufumleitungen]: per user, active or not, with an overview of all of them.

use sqlx::SqliteConnection;

use super::users::id_of;
use super::{
    ForwardCondition, Forwarding, ForwardingPatch, NewForwarding, Result, Store, StoreError,
    validate,
};

const SELECT: &str = "SELECT f.id, u.username, f.condition, f.target, f.active
  FROM forwardings f JOIN users u ON u.id = f.user_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    condition: ForwardCondition,
    target: String,
    active: bool,
}

impl From<Row> for Forwarding {
    fn from(r: Row) -> Forwarding {
        Forwarding {
            id: r.id,
            username: r.username,
            condition: r.condition,
            target: r.target,
            active: r.active,
        }
    }
}

/// A target is a user's name or a number; a user may not forward to themselves.
async fn check_target(conn: &mut SqliteConnection, owner: &str, target: &str) -> Result<()> {
    // The seed warns of forwarding loops; the shortest ones are to the user's own name or
    // numbers. Longer chains (A to B to A) are for dispatch to stop at call time.
    let own: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM users u LEFT JOIN user_fax f ON f.user_id = u.id
          WHERE u.username = $1 AND ($2 = u.username OR $2 = u.extension OR $2 = f.extension)",
    )
    .bind(owner)
    .bind(target)
    .fetch_optional(&mut *conn)
    .await?;
    if own.is_some() {
        return Err(StoreError::invalid(
            "target",
            "a user cannot forward to themselves",
        ));
    }
    if validate::phone_number("target", target).is_ok()
        || validate::extension("target", target).is_ok()
    {
        return Ok(());
    }
    validate::username("target", target)?;
    super::users::referenced(conn, "target", target)
        .await
        .map(|_| ())
}

impl Store {
    /// All users' forwardings (the admin's overview), or one user's.
    pub async fn forwardings(&self, username: Option<&str>) -> Result<Vec<Forwarding>> {
        let mut conn = self.read.acquire().await?;
        let rows: Vec<Row> = match username {
            Some(name) => {
                let user = id_of(&mut conn, "user", name).await?;
                sqlx::query_as(&format!("{SELECT} WHERE f.user_id = $1 ORDER BY f.id"))
                    .bind(user)
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query_as(&format!("{SELECT} ORDER BY u.username, f.id"))
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
        Ok(rows.into_iter().map(Forwarding::from).collect())
    }

    pub async fn add_forwarding(&self, username: &str, new: NewForwarding) -> Result<Forwarding> {
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        check_target(&mut tx, username, &new.target).await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO forwardings (user_id, condition, target, active, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user)
        .bind(new.condition)
        .bind(&new.target)
        .bind(new.active)
        .bind(super::unix_now())
        .fetch_one(&mut *tx)
        .await?;
        let f = one(&mut tx, user, id).await?;
        tx.commit().await?;
        Ok(f)
    }

    pub async fn update_forwarding(
        &self,
        username: &str,
        id: i64,
        patch: ForwardingPatch,
    ) -> Result<Forwarding> {
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        let current = one(&mut tx, user, id).await?;
        let target = patch.target.unwrap_or(current.target);
        check_target(&mut tx, username, &target).await?;
        sqlx::query(
            "UPDATE forwardings SET condition = $1, target = $2, active = $3 WHERE id = $4",
        )
        .bind(patch.condition.unwrap_or(current.condition))
        .bind(&target)
        .bind(patch.active.unwrap_or(current.active))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let f = one(&mut tx, user, id).await?;
        tx.commit().await?;
        Ok(f)
    }

    pub async fn delete_forwarding(&self, username: &str, id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        one(&mut tx, user, id).await?;
        sqlx::query("DELETE FROM forwardings WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn one(conn: &mut SqliteConnection, user: i64, id: i64) -> Result<Forwarding> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE f.id = $1 AND f.user_id = $2"))
        .bind(id)
        .bind(user)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(Forwarding::from)
        .ok_or_else(|| StoreError::not_found("forwarding", id))
}
