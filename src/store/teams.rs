//! Teams [Team]: a name, an extension, members in hunt order, a ring time and whether all
//! members ring at once. The extension is claimed in the dialplan's one namespace, so it never
//! collides with a user's extension, a fax extension or a speed dial. Deleting a user removes
//! them from every team (a foreign key with `ON DELETE CASCADE`, logged as a team change).

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use utoipa::ToSchema;

use super::numbers::{self, Owner};
use super::{Result, Store, StoreError, unique_as_conflict, unix_now, validate};

/// Default ring time [Läuten] of a team, in seconds.
pub const DEFAULT_RING_TIME: u32 = 30;
/// Longest ring time a team may have: ten minutes is far past any caller's patience.
pub const MAX_RING_TIME: u32 = 600;
/// Members one team may have.
pub const MAX_MEMBERS: usize = 500;

/// A team as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Team {
    pub name: String,
    pub display_name: String,
    /// Unique among all extensions, fax extensions and speed dials.
    pub extension: String,
    /// Seconds a member's device rings, unless its own team FollowMe timeout says otherwise.
    pub ring_time: u32,
    /// All members at once (true) or one after another in `members` order.
    pub ring_all: bool,
    /// Usernames in hunt order.
    pub members: Vec<String>,
}

/// The body of `POST /teams`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub extension: String,
    /// Default 30.
    #[serde(default)]
    pub ring_time: Option<u32>,
    /// Default true.
    #[serde(default)]
    pub ring_all: Option<bool>,
    #[serde(default)]
    pub members: Vec<String>,
}

/// The body of `PATCH /teams/{name}`: absent fields stay; `members` replaces the list (its
/// order is the hunt order).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub extension: Option<String>,
    #[serde(default)]
    pub ring_time: Option<u32>,
    #[serde(default)]
    pub ring_all: Option<bool>,
    #[serde(default)]
    pub members: Option<Vec<String>>,
}

/// The body of `POST /teams/{name}/members`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub username: String,
    /// Where in the hunt order (0 first); at the end when absent or past the end.
    #[serde(default)]
    pub position: Option<usize>,
}

/// A team's name: like a username, but not all digits, so that a trunk's DID map can tell a
/// team from an extension.
fn check_name(name: &str) -> Result<()> {
    validate::username("name", name)?;
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::invalid(
            "name",
            "must not be all digits (that would read as an extension)",
        ));
    }
    Ok(())
}

fn check_ring_time(value: u32) -> Result<()> {
    if (1..=MAX_RING_TIME).contains(&value) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "ring_time",
            format!("must be 1 to {MAX_RING_TIME} seconds"),
        ))
    }
}

pub(super) async fn id_of(conn: &mut SqliteConnection, name: &str) -> Result<i64> {
    super::find_id(conn, "SELECT id FROM teams WHERE name = $1", "team", name).await
}

type Row = (i64, String, String, String, i64, bool);

async fn load(conn: &mut SqliteConnection, row: Row) -> Result<Team> {
    let (id, name, display_name, extension, ring_time, ring_all) = row;
    let members: Vec<(String,)> = sqlx::query_as(
        "SELECT u.username FROM team_members m JOIN users u ON u.id = m.user_id
          WHERE m.team_id = $1 ORDER BY m.position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Team {
        name,
        display_name,
        extension,
        ring_time: u32::try_from(ring_time).unwrap_or(DEFAULT_RING_TIME),
        ring_all,
        members: members.into_iter().map(|m| m.0).collect(),
    })
}

const SELECT: &str =
    "SELECT id, name, display_name, extension, ring_time_secs, ring_all FROM teams";

/// Every team (or the one named `name`), ordered by name.
async fn select(conn: &mut SqliteConnection, name: Option<&str>) -> Result<Vec<Team>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE $1 IS NULL OR name = $1 ORDER BY name"
    ))
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(load(conn, row).await?);
    }
    Ok(out)
}

async fn one(conn: &mut SqliteConnection, name: &str) -> Result<Team> {
    select(conn, Some(name))
        .await?
        .pop()
        .ok_or_else(|| StoreError::not_found("team", name))
}

/// Replaces the members of team `id` with `usernames`, in that order.
async fn set_members(conn: &mut SqliteConnection, id: i64, usernames: &[String]) -> Result<()> {
    if usernames.len() > MAX_MEMBERS {
        return Err(StoreError::invalid(
            "members",
            format!("a team has at most {MAX_MEMBERS} members"),
        ));
    }
    let mut ids = Vec::with_capacity(usernames.len());
    for name in usernames {
        let user = super::users::referenced(conn, "members", name).await?;
        if ids.contains(&user) {
            return Err(StoreError::invalid(
                "members",
                format!("{name} is listed twice"),
            ));
        }
        ids.push(user);
    }
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (position, user) in ids.into_iter().enumerate() {
        sqlx::query("INSERT INTO team_members (team_id, user_id, position) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(user)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn insert(conn: &mut SqliteConnection, new: &NewTeam) -> Result<()> {
    check_name(&new.name)?;
    let display = new.display_name.clone().unwrap_or_else(|| new.name.clone());
    validate::display_text("display_name", &display)?;
    validate::extension("extension", &new.extension)?;
    let ring_time = new.ring_time.unwrap_or(DEFAULT_RING_TIME);
    check_ring_time(ring_time)?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO teams (name, display_name, extension, ring_time_secs, ring_all, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&new.name)
    .bind(&display)
    .bind(&new.extension)
    .bind(i64::from(ring_time))
    .bind(new.ring_all.unwrap_or(true))
    .bind(unix_now())
    .fetch_one(&mut *conn)
    .await
    .map_err(unique_as_conflict("name", "a team with this name exists"))?;
    numbers::claim(conn, "extension", &new.extension, Owner::Team(id)).await?;
    set_members(conn, id, &new.members).await
}

async fn change(conn: &mut SqliteConnection, name: &str, patch: &TeamPatch) -> Result<()> {
    let id = id_of(conn, name).await?;
    if let Some(display) = &patch.display_name {
        validate::display_text("display_name", display)?;
        sqlx::query("UPDATE teams SET display_name = $1 WHERE id = $2")
            .bind(display)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(ext) = &patch.extension {
        validate::extension("extension", ext)?;
        numbers::replace(conn, "extension", Some(ext), Owner::Team(id)).await?;
        sqlx::query("UPDATE teams SET extension = $1 WHERE id = $2")
            .bind(ext)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(ring_time) = patch.ring_time {
        check_ring_time(ring_time)?;
        sqlx::query("UPDATE teams SET ring_time_secs = $1 WHERE id = $2")
            .bind(i64::from(ring_time))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(ring_all) = patch.ring_all {
        sqlx::query("UPDATE teams SET ring_all = $1 WHERE id = $2")
            .bind(ring_all)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(members) = &patch.members {
        set_members(conn, id, members).await?;
    }
    Ok(())
}

async fn remove(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    let id = id_of(conn, name).await?;
    numbers::release(conn, Owner::Team(id)).await?;
    sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn teams(&self) -> Result<Vec<Team>> {
        select(&mut *self.read.acquire().await?, None).await
    }

    pub async fn team(&self, name: &str) -> Result<Team> {
        one(&mut *self.read.acquire().await?, name).await
    }

    pub async fn create_team(&self, new: &NewTeam) -> Result<Team> {
        let mut tx = self.write.begin().await?;
        insert(&mut tx, new).await?;
        let team = one(&mut tx, &new.name).await?;
        tx.commit().await?;
        Ok(team)
    }

    pub async fn update_team(&self, name: &str, patch: &TeamPatch) -> Result<Team> {
        let mut tx = self.write.begin().await?;
        change(&mut tx, name, patch).await?;
        let team = one(&mut tx, name).await?;
        tx.commit().await?;
        Ok(team)
    }

    /// Deletes a team and frees its extension; its members stay users.
    pub async fn delete_team(&self, name: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        remove(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a member at `position` (at the end when absent); one already there is a conflict.
    pub async fn add_team_member(&self, name: &str, member: &NewMember) -> Result<Team> {
        let mut tx = self.write.begin().await?;
        let team = one(&mut tx, name).await?;
        if team.members.contains(&member.username) {
            return Err(StoreError::conflict(
                "username",
                format!("{} is already a member of {name}", member.username),
            ));
        }
        let mut members = team.members;
        let at = member.position.unwrap_or(members.len()).min(members.len());
        members.insert(at, member.username.clone());
        let id = id_of(&mut tx, name).await?;
        set_members(&mut tx, id, &members)
            .await
            .map_err(|e| match e {
                StoreError::Invalid { message, .. } => StoreError::invalid("username", message),
                other => other,
            })?;
        let team = one(&mut tx, name).await?;
        tx.commit().await?;
        Ok(team)
    }

    /// Removes a member; one who is not in the team is not found.
    pub async fn remove_team_member(&self, name: &str, username: &str) -> Result<Team> {
        let mut tx = self.write.begin().await?;
        let team = one(&mut tx, name).await?;
        if !team.members.iter().any(|m| m == username) {
            return Err(StoreError::not_found("team member", username));
        }
        let members: Vec<String> = team.members.into_iter().filter(|m| m != username).collect();
        let id = id_of(&mut tx, name).await?;
        set_members(&mut tx, id, &members).await?;
        let team = one(&mut tx, name).await?;
        tx.commit().await?;
        Ok(team)
    }
}

#[cfg(test)]
#[path = "teams_tests.rs"]
mod tests;
