//! FollowMe rows [Warten/Läuten Intern/Extern/Agent]: one per assigned device.

use sqlx::SqliteConnection;

use super::{FollowMe, Result, RingPolicy, StoreError};

/// The FollowMe columns of a device query (all NULL when the device is unassigned).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct Row {
    fm_device: Option<i64>,
    user_configurable: Option<bool>,
    internal_enabled: Option<bool>,
    internal_wait: Option<i64>,
    internal_timeout: Option<i64>,
    external_enabled: Option<bool>,
    external_wait: Option<i64>,
    external_timeout: Option<i64>,
    team_enabled: Option<bool>,
    team_wait: Option<i64>,
    team_timeout: Option<i64>,
}

fn policy(enabled: Option<bool>, wait: Option<i64>, timeout: Option<i64>) -> RingPolicy {
    RingPolicy {
        enabled: enabled.unwrap_or_default(),
        wait: wait.unwrap_or_default().clamp(0, i64::from(u32::MAX)) as u32,
        timeout: timeout.unwrap_or_default().clamp(0, i64::from(u32::MAX)) as u32,
    }
}

impl Row {
    pub(super) fn into_followme(self) -> Option<FollowMe> {
        self.fm_device?;
        Some(FollowMe {
            user_configurable: self.user_configurable.unwrap_or_default(),
            internal: policy(
                self.internal_enabled,
                self.internal_wait,
                self.internal_timeout,
            ),
            external: policy(
                self.external_enabled,
                self.external_wait,
                self.external_timeout,
            ),
            team: policy(self.team_enabled, self.team_wait, self.team_timeout),
        })
    }
}

/// The longest wait or ring time an admin may set: one hour.
const MAX_SECONDS: u32 = 3600;

pub(super) fn validate(fm: &FollowMe) -> Result<()> {
    for (class, p) in [
        ("internal", fm.internal),
        ("external", fm.external),
        ("team", fm.team),
    ] {
        if p.wait > MAX_SECONDS {
            return Err(StoreError::invalid(
                &format!("{class}.wait"),
                format!("must be at most {MAX_SECONDS} seconds"),
            ));
        }
        if p.timeout > MAX_SECONDS {
            return Err(StoreError::invalid(
                &format!("{class}.timeout"),
                format!("must be at most {MAX_SECONDS} seconds"),
            ));
        }
    }
    Ok(())
}

pub(super) async fn insert(conn: &mut SqliteConnection, device: i64, fm: &FollowMe) -> Result<()> {
    insert_many(conn, &[device], fm).await
}

/// The same FollowMe for many devices, in a few statements.
pub(super) async fn insert_many(
    conn: &mut SqliteConnection,
    devices: &[i64],
    fm: &FollowMe,
) -> Result<()> {
    for chunk in devices.chunks(500) {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO followme (device_id, user_configurable, internal_enabled, internal_wait,
                 internal_timeout, external_enabled, external_wait, external_timeout, team_enabled,
                 team_wait, team_timeout) ",
        );
        query.push_values(chunk, |mut b, device| {
            b.push_bind(*device).push_bind(fm.user_configurable);
            for p in [fm.internal, fm.external, fm.team] {
                b.push_bind(p.enabled)
                    .push_bind(i64::from(p.wait))
                    .push_bind(i64::from(p.timeout));
            }
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

pub(super) async fn delete(conn: &mut SqliteConnection, device: i64) -> Result<()> {
    sqlx::query("DELETE FROM followme WHERE device_id = $1")
        .bind(device)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces the FollowMe of an assigned device.
pub(super) async fn replace(conn: &mut SqliteConnection, device: i64, fm: &FollowMe) -> Result<()> {
    validate(fm)?;
    delete(conn, device).await?;
    insert(conn, device, fm).await
}
