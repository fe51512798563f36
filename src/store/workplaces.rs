//! Workplaces [Arbeitsplätze]: shared phones a user logs in at. A user is at one workplace at
//! most and a workplace has one user at most (both enforced by a UNIQUE column).

use crate::clock::UnixTime;
use sqlx::SqliteConnection;

use super::{
    NewWorkplace, Result, Role, Store, StoreError, Workplace, WorkplacePatch, devices,
    unique_as_conflict, unix_now, validate,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    display_name: String,
    current_user: Option<String>,
    logged_in_at: Option<UnixTime>,
}

const SELECT: &str =
    "SELECT w.id, w.name, w.display_name, u.username AS current_user, w.logged_in_at
  FROM workplaces w LEFT JOIN users u ON u.id = w.current_user_id";

/// Like [`id_of`] for a name given in a request body: unknown is a 422 on `field`.
pub(super) async fn referenced(
    conn: &mut SqliteConnection,
    field: &str,
    name: &str,
) -> Result<i64> {
    id_of(conn, "workplace", name)
        .await
        .map_err(super::named_in_body(field))
}

pub(super) async fn id_of(
    conn: &mut SqliteConnection,
    what: &'static str,
    name: &str,
) -> Result<i64> {
    super::find_id(
        conn,
        "SELECT id FROM workplaces WHERE name = $1",
        what,
        name,
    )
    .await
}

async fn load(conn: &mut SqliteConnection, row: Row) -> Result<Workplace> {
    let allowed_users: Vec<(String,)> = sqlx::query_as(
        "SELECT u.username FROM workplace_allowed_users a JOIN users u ON u.id = a.user_id
          WHERE a.workplace_id = $1 ORDER BY u.username",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await?;
    let allowed_roles: Vec<(Role,)> = sqlx::query_as(
        "SELECT role FROM workplace_allowed_roles WHERE workplace_id = $1 ORDER BY role",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await?;
    let devices = devices::select(conn, "d.owner_workplace_id = $1", row.id).await?;
    Ok(Workplace {
        name: row.name,
        display_name: row.display_name,
        allowed_users: allowed_users.into_iter().map(|r| r.0).collect(),
        allowed_roles: allowed_roles.into_iter().map(|r| r.0).collect(),
        current_user: row.current_user,
        logged_in_since: row.logged_in_at,
        devices,
    })
}

async fn one(conn: &mut SqliteConnection, name: &str) -> Result<Workplace> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE w.name = $1"))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| StoreError::not_found("workplace", name))?;
    load(conn, row).await
}

/// Replaces who may log in at workplace `id`.
async fn set_allowed(
    conn: &mut SqliteConnection,
    id: i64,
    users: &[String],
    roles: &[Role],
) -> Result<()> {
    sqlx::query("DELETE FROM workplace_allowed_users WHERE workplace_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM workplace_allowed_roles WHERE workplace_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for name in users {
        let user = super::users::referenced(conn, "allowed_users", name).await?;
        sqlx::query("INSERT INTO workplace_allowed_users (workplace_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(user)
            .execute(&mut *conn)
            .await?;
    }
    for role in roles {
        sqlx::query("INSERT INTO workplace_allowed_roles (workplace_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(role)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Validates and inserts a workplace with who may log in there.
pub(super) async fn insert(conn: &mut SqliteConnection, new: &NewWorkplace) -> Result<i64> {
    validate::username("name", &new.name)?;
    let display = new.display_name.clone().unwrap_or_else(|| new.name.clone());
    validate::display_text("display_name", &display)?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO workplaces (name, display_name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&new.name)
    .bind(&display)
    .bind(unix_now())
    .fetch_one(&mut *conn)
    .await
    .map_err(unique_as_conflict(
        "name",
        "a workplace with this name exists",
    ))?;
    set_allowed(conn, id, &new.allowed_users, &new.allowed_roles).await?;
    Ok(id)
}

/// Every workplace, ordered by name.
pub(super) async fn all(conn: &mut SqliteConnection) -> Result<Vec<Workplace>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY w.name"))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(load(conn, row).await?);
    }
    Ok(out)
}

pub(super) async fn change(
    conn: &mut SqliteConnection,
    name: &str,
    patch: &WorkplacePatch,
) -> Result<()> {
    if let Some(d) = &patch.display_name {
        validate::display_text("display_name", d)?;
    }
    let id = id_of(conn, "workplace", name).await?;
    let current = one(conn, name).await?;
    if let Some(d) = &patch.display_name {
        sqlx::query("UPDATE workplaces SET display_name = $1 WHERE id = $2")
            .bind(d)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if patch.allowed_users.is_some() || patch.allowed_roles.is_some() {
        let users = patch
            .allowed_users
            .as_ref()
            .unwrap_or(&current.allowed_users);
        let roles = patch
            .allowed_roles
            .as_ref()
            .unwrap_or(&current.allowed_roles);
        set_allowed(conn, id, users, roles).await?;
    }
    Ok(())
}

pub(super) async fn remove(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    let id = id_of(conn, "workplace", name).await?;
    sqlx::query("DELETE FROM followme WHERE device_id IN (SELECT id FROM devices WHERE owner_workplace_id = $1)")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM workplaces WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn create_workplace(&self, new: NewWorkplace) -> Result<Workplace> {
        let mut tx = self.write.begin().await?;
        insert(&mut tx, &new).await?;
        let w = one(&mut tx, &new.name).await?;
        tx.commit().await?;
        Ok(w)
    }

    pub async fn workplace(&self, name: &str) -> Result<Workplace> {
        one(&mut *self.read.acquire().await?, name).await
    }

    pub async fn workplaces(&self) -> Result<Vec<Workplace>> {
        let mut conn = self.read.acquire().await?;
        all(&mut conn).await
    }

    pub async fn update_workplace(&self, name: &str, patch: WorkplacePatch) -> Result<Workplace> {
        let mut tx = self.write.begin().await?;
        change(&mut tx, name, &patch).await?;
        let w = one(&mut tx, name).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Deletes a workplace; its phones stay, unassigned.
    pub async fn delete_workplace(&self, name: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        remove(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Logs `username` in at workplace `name`. A user logged in elsewhere moves here; a user
    /// already here is replaced. A restricted workplace refuses users it does not list. The
    /// phones of every workplace this changes are marked for a resync.
    pub async fn login(&self, name: &str, username: &str) -> Result<Workplace> {
        let mut tx = self.write.begin().await?;
        let id = id_of(&mut tx, "workplace", name).await?;
        let user = super::users::referenced(&mut tx, "username", username).await?;
        let current = one(&mut tx, name).await?;
        if !current.allowed_users.is_empty() || !current.allowed_roles.is_empty() {
            let role = super::users::role_of(&mut tx, user).await?;
            let allowed = current.allowed_users.iter().any(|u| u == username)
                || role.is_some_and(|r| current.allowed_roles.contains(&r));
            if !allowed {
                return Err(StoreError::Forbidden(format!(
                    "{username} may not log in at workplace {name}"
                )));
            }
        }
        // The workplace the user leaves changes its phones' configs too.
        let previous: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM workplaces WHERE current_user_id = $1 AND id <> $2")
                .bind(user)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("UPDATE workplaces SET current_user_id = NULL, logged_in_at = NULL WHERE current_user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE workplaces SET current_user_id = $1, logged_in_at = $2 WHERE id = $3")
            .bind(user)
            .bind(unix_now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut changed: Vec<i64> = previous.into_iter().map(|r| r.0).collect();
        changed.push(id);
        super::menu::mark_resync(&mut tx, &changed).await?;
        let w = one(&mut tx, name).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Ends whatever login there is at workplace `name`; its phones are marked for a resync.
    pub async fn logout(&self, name: &str) -> Result<Workplace> {
        let mut tx = self.write.begin().await?;
        let id = id_of(&mut tx, "workplace", name).await?;
        sqlx::query(
            "UPDATE workplaces SET current_user_id = NULL, logged_in_at = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        super::menu::mark_resync(&mut tx, &[id]).await?;
        let w = one(&mut tx, name).await?;
        tx.commit().await?;
        Ok(w)
    }
}
