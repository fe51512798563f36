//! What a call needs from the store: which user, team or outside number a dialled string names,
//! and a user with everything that decides where a call to them rings — their devices with
//! FollowMe, the phones of the workplace they are logged in at, forwardings, actions and their
//! action template's steps. Read per call, on the read pool; the dispatch core gets it as
//! plain data.

use super::{Action, Device, Forwarding, NewAction, Result, Store};

/// What a dialled string names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialled {
    /// A user, by username (dialled as extension or username).
    User(String),
    /// A speed dial [Kurzwahl]: the number it stands for.
    SpeedDial(String),
    /// A virtual fax device's extension, by owning username.
    Fax(String),
    /// A team's extension, by team name.
    Team(String),
    /// Nothing of ours: an outside number (for a trunk) or nothing at all.
    Other,
}

/// A user as a call sees them.
#[derive(Debug, Clone)]
pub struct RouteUser {
    pub username: String,
    /// Devices assigned to the user (phones, softphones, mobiles; no fax).
    pub devices: Vec<Device>,
    /// Phones of the workplace the user is logged in at.
    pub workplace_devices: Vec<Device>,
    pub forwardings: Vec<Forwarding>,
    pub actions: Vec<Action>,
    /// The steps of the user's action template (empty without one).
    pub template: Vec<NewAction>,
}

impl Store {
    /// What `number` (an extension, a speed-dial code, a username) names.
    pub async fn dialled(&self, number: &str) -> Result<Dialled> {
        let owner: Option<(String, i64)> =
            sqlx::query_as("SELECT owner_kind, owner_id FROM numbers WHERE number = $1")
                .bind(number)
                .fetch_optional(&self.read)
                .await?;
        let name = |sql: &'static str, id: i64| async move {
            let row: Option<(String,)> = sqlx::query_as(sql)
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
            Ok::<_, super::StoreError>(row.map(|r| r.0))
        };
        let found = match owner {
            Some((kind, id)) if kind == "user" => {
                name("SELECT username FROM users WHERE id = $1", id)
                    .await?
                    .map(Dialled::User)
            }
            Some((kind, id)) if kind == "speed-dial" => {
                name("SELECT number FROM speed_dials WHERE id = $1", id)
                    .await?
                    .map(Dialled::SpeedDial)
            }
            Some((kind, id)) if kind == "fax" => name(
                "SELECT u.username FROM devices d JOIN users u ON u.id = d.owner_user_id
                  WHERE d.id = $1",
                id,
            )
            .await?
            .map(Dialled::Fax),
            Some((kind, id)) if kind == "team" => name("SELECT name FROM teams WHERE id = $1", id)
                .await?
                .map(Dialled::Team),
            _ => {
                let user: Option<(String,)> =
                    sqlx::query_as("SELECT username FROM users WHERE username = $1")
                        .bind(number)
                        .fetch_optional(&self.read)
                        .await?;
                user.map(|(u,)| Dialled::User(u))
            }
        };
        Ok(found.unwrap_or(Dialled::Other))
    }

    /// `username` with what routes a call to them; None when there is no such user.
    pub async fn route_user(&self, username: &str) -> Result<Option<RouteUser>> {
        let row: Option<(i64, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT u.id, w.id, t.name FROM users u
               LEFT JOIN workplaces w ON w.current_user_id = u.id
               LEFT JOIN action_templates t ON t.id = u.action_template_id
              WHERE u.username = $1",
        )
        .bind(username)
        .fetch_optional(&self.read)
        .await?;
        let Some((user, workplace, template)) = row else {
            return Ok(None);
        };
        let mut conn = self.read.acquire().await?;
        let no_fax = |list: Vec<Device>| {
            list.into_iter()
                .filter(|d| d.kind != super::DeviceKind::Fax)
                .collect::<Vec<_>>()
        };
        let devices =
            no_fax(super::devices::select(&mut conn, "d.owner_user_id = $1", user).await?);
        let workplace_devices = match workplace {
            Some(w) => {
                no_fax(super::devices::select(&mut conn, "d.owner_workplace_id = $1", w).await?)
            }
            None => Vec::new(),
        };
        drop(conn);
        let template = match template {
            Some(name) => self.action_template(&name).await?.actions,
            None => Vec::new(),
        };
        Ok(Some(RouteUser {
            username: username.to_owned(),
            devices,
            workplace_devices,
            forwardings: self.forwardings(Some(username)).await?,
            actions: self.actions(username).await?,
            template,
        }))
    }
}

/// Who a device calls as: the user it serves now (owner, or logged in at its workplace).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallingUser {
    pub username: String,
    pub display_name: String,
    /// The alternative caller id [CID Nummer] when set, else the extension.
    pub number: Option<String>,
    pub cid_number: Option<String>,
    pub extension: Option<String>,
}

impl Store {
    /// The user `device` calls as; None for a device nobody is behind.
    pub async fn calling_user(&self, device: i64) -> Result<Option<CallingUser>> {
        Ok(sqlx::query_as(
            "SELECT u.username, u.display_name, COALESCE(u.cid_number, u.extension) AS number,
                    u.cid_number, u.extension
               FROM devices d LEFT JOIN workplaces w ON w.id = d.owner_workplace_id
               JOIN users u ON u.id = COALESCE(d.owner_user_id, w.current_user_id)
              WHERE d.id = $1",
        )
        .bind(device)
        .fetch_optional(&self.read)
        .await?)
    }
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
