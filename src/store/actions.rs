//! Actions [Aktionen]: what happens to a call to a user before ringing or after nobody answered,
//! per call class. Quick-create's voicemail choice is kept as voicemail after-actions.

use sqlx::SqliteConnection;

use super::users::id_of;
use super::{
    Action, ActionKind, NewAction, Result, Scope, Store, StoreError, Timing, VoicemailMode,
    validate,
};

/// Makes the user's own-voicemail after-actions match `mode`, keeping all other actions.
pub(super) async fn sync_voicemail(
    conn: &mut SqliteConnection,
    user: i64,
    mode: VoicemailMode,
) -> Result<()> {
    let wanted = |scope| match mode {
        VoicemailMode::All => true,
        VoicemailMode::Internal => scope == Scope::Internal,
        VoicemailMode::External => scope == Scope::External,
        VoicemailMode::None => false,
    };
    for scope in Scope::ALL.iter().copied() {
        let existing: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM actions WHERE user_id = $1 AND scope = $2 AND timing = 'after'
               AND kind = 'voicemail' AND target IS NULL",
        )
        .bind(user)
        .bind(scope)
        .fetch_optional(&mut *conn)
        .await?;
        match (existing, wanted(scope)) {
            (None, true) => {
                insert(
                    conn,
                    user,
                    scope,
                    Timing::After,
                    ActionKind::Voicemail,
                    None,
                )
                .await?;
            }
            (Some(_), false) => {
                sqlx::query(
                    "DELETE FROM actions WHERE user_id = $1 AND scope = $2 AND timing = 'after'
                       AND kind = 'voicemail' AND target IS NULL",
                )
                .bind(user)
                .bind(scope)
                .execute(&mut *conn)
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn insert(
    conn: &mut SqliteConnection,
    user: i64,
    scope: Scope,
    timing: Timing,
    kind: ActionKind,
    target: Option<&str>,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO actions (user_id, scope, timing, kind, target, position)
         VALUES ($1, $2, $3, $4, $5,
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM actions WHERE user_id = $1))
         RETURNING id",
    )
    .bind(user)
    .bind(scope)
    .bind(timing)
    .bind(kind)
    .bind(target)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    scope: Scope,
    timing: Timing,
    kind: ActionKind,
    target: Option<String>,
    position: i64,
}

impl Store {
    pub async fn actions(&self, username: &str) -> Result<Vec<Action>> {
        let mut conn = self.read.acquire().await?;
        let user = id_of(&mut conn, "user", username).await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, scope, timing, kind, target, position FROM actions WHERE user_id = $1 ORDER BY position",
        )
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Action {
                id: r.id,
                scope: r.scope,
                timing: r.timing,
                kind: r.kind,
                target: r.target,
                position: r.position,
            })
            .collect())
    }

    /// Appends an action; its target must fit its kind.
    pub async fn add_action(&self, username: &str, new: NewAction) -> Result<Action> {
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        let target = check_target(&mut tx, Some(username), &new).await?;
        let id = insert(
            &mut tx,
            user,
            new.scope,
            new.timing,
            new.kind,
            target.as_deref(),
        )
        .await?;
        tx.commit().await?;
        self.actions(username)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| StoreError::not_found("action", id))
    }

    pub async fn delete_action(&self, username: &str, id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        let done = sqlx::query("DELETE FROM actions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("action", id));
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The stored target of an action for `owner` (a template has none): `None` for the own
/// voicemail box; a user, number or prompt that fits the kind otherwise.
pub(super) async fn check_target(
    conn: &mut SqliteConnection,
    owner: Option<&str>,
    new: &NewAction,
) -> Result<Option<String>> {
    let target = new.target.as_deref();
    match (new.kind, target) {
        (ActionKind::Voicemail, None) => Ok(None),
        (ActionKind::Voicemail, Some(t)) if Some(t) == owner => Ok(None),
        (ActionKind::Voicemail | ActionKind::ForwardUser, Some(t)) => {
            super::users::referenced(conn, "target", t).await?;
            Ok(Some(t.to_owned()))
        }
        (ActionKind::ForwardNumber, Some(t)) => {
            validate::phone_number("target", t)?;
            Ok(Some(t.to_owned()))
        }
        (ActionKind::Announcement, Some(t)) => {
            validate::prompt("target", t)?;
            Ok(Some(t.to_owned()))
        }
        (_, None) => Err(StoreError::invalid("target", "is required for this kind")),
    }
}
