//! What the phone menu reads and writes: the phone behind a menu token, the user behind an
//! extension (with the PIN hash, never serialized), marks that tell the SIP side which phones
//! to NOTIFY, and the FollowMe switch users may flip on their own phones.

use sqlx::SqliteConnection;

use super::{Result, Store, StoreError, Vendor, unix_now};

/// The phone a menu token belongs to, and who it serves.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MenuDevice {
    pub id: i64,
    pub vendor: Option<Vendor>,
    /// The workplace it belongs to, if any.
    pub workplace: Option<String>,
    /// The user it is directly assigned to, if any.
    pub owner: Option<String>,
    /// The language of whoever uses it (logged-in or assigned user), if known.
    pub language: Option<String>,
}

/// The user an extension belongs to, as the PIN check needs it. Holds the PIN hash: the
/// `Debug` output leaves it out, and nothing serializes it.
#[derive(Clone, sqlx::FromRow)]
pub struct MenuUser {
    pub username: String,
    pub display_name: String,
    pub language: String,
    pub pin_hash: Option<String>,
}

impl std::fmt::Debug for MenuUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MenuUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A phone waiting to be told that its config changed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Resync {
    pub device_id: i64,
    pub since: i64,
}

/// A user-configurable FollowMe device of a user, as the menu lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnDevice {
    pub id: i64,
    pub label: String,
    pub enabled: bool,
}

const DEVICE: &str = "SELECT d.id, d.vendor, w.name AS workplace, u.username AS owner,
       COALESCE(g.language, u.language) AS language
  FROM devices d
  LEFT JOIN users u ON u.id = d.owner_user_id
  LEFT JOIN workplaces w ON w.id = d.owner_workplace_id
  LEFT JOIN users g ON g.id = w.current_user_id
 WHERE d.token = $1";

/// Marks every phone of the workplaces `ids` for a resync, as of the generation the
/// transaction's own changes so far make (so only a config rendered with them clears the mark).
pub(super) async fn mark_resync(conn: &mut SqliteConnection, ids: &[i64]) -> Result<()> {
    let generation = super::changes::generation_in(&mut *conn).await?;
    for id in ids {
        sqlx::query(
            "INSERT INTO device_resync (device_id, since, generation)
             SELECT id, $2, $3 FROM devices WHERE owner_workplace_id = $1
             ON CONFLICT (device_id) DO UPDATE SET since = $2, generation = $3",
        )
        .bind(id)
        .bind(unix_now())
        .bind(generation as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Clears the mark of `device` if the config it fetched was rendered with the marked change.
pub(super) async fn fetched(
    conn: &mut SqliteConnection,
    device: i64,
    generation: u64,
) -> Result<()> {
    sqlx::query("DELETE FROM device_resync WHERE device_id = $1 AND generation <= $2")
        .bind(device)
        .bind(generation as i64)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// The phone with menu token `token`; tokens shorter than 128 bits are never valid.
    pub async fn menu_device(&self, token: &str) -> Result<Option<MenuDevice>> {
        if token.len() < 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        Ok(sqlx::query_as(DEVICE)
            .bind(token)
            .fetch_optional(&self.read)
            .await?)
    }

    /// The user with extension `extension`, with the PIN hash.
    pub async fn menu_user(&self, extension: &str) -> Result<Option<MenuUser>> {
        Ok(sqlx::query_as(
            "SELECT username, display_name, language, pin_hash FROM users WHERE extension = $1",
        )
        .bind(extension)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Phones whose config changed and who have not fetched it yet, oldest first.
    pub async fn resync_pending(&self) -> Result<Vec<Resync>> {
        Ok(
            sqlx::query_as("SELECT device_id, since FROM device_resync ORDER BY since, device_id")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// `username`'s own phones whose FollowMe the admin made user-configurable.
    pub async fn own_configurable_devices(&self, username: &str) -> Result<Vec<OwnDevice>> {
        Ok(sqlx::query_as(
            "SELECT d.id, d.label,
                    (f.internal_enabled OR f.external_enabled OR f.team_enabled) AS enabled
               FROM devices d JOIN users u ON u.id = d.owner_user_id
               JOIN followme f ON f.device_id = d.id
              WHERE u.username = $1 AND f.user_configurable ORDER BY d.id",
        )
        .bind(username)
        .fetch_all(&self.read)
        .await?)
    }

    /// Switches ringing of `username`'s device `id` on or off for every call class; only where
    /// the admin made its FollowMe user-configurable. Returns the new state.
    pub async fn toggle_own_followme(&self, username: &str, id: i64) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let row: Option<(bool,)> = sqlx::query_as(
            "SELECT (f.internal_enabled OR f.external_enabled OR f.team_enabled)
               FROM devices d JOIN users u ON u.id = d.owner_user_id
               JOIN followme f ON f.device_id = d.id
              WHERE u.username = $1 AND d.id = $2 AND f.user_configurable",
        )
        .bind(username)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((on,)) = row else {
            return Err(StoreError::not_found("configurable device", id));
        };
        sqlx::query(
            "UPDATE followme SET internal_enabled = $1, external_enabled = $1, team_enabled = $1
              WHERE device_id = $2",
        )
        .bind(!on)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!on)
    }
}
