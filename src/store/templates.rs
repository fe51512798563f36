//! Action templates [Aktionsvorlagen]: named, ordered actions that many users follow. A user
//! who follows one gets its actions for every (scope, timing) they have no own action for, so
//! changing the template changes the calls of all of them at once (dispatch reads both).

use sqlx::SqliteConnection;

use super::{
    ActionKind, ActionTemplate, NewAction, Result, Scope, Store, StoreError, Timing,
    unique_as_conflict, unix_now, validate,
};

/// More steps than any call flow needs; a bound for what a request or a sheet can ask for.
const MAX_STEPS: usize = 32;

/// Like `id_of` for a name given in a request body or sheet: unknown is a 422 on `field`.
pub(super) async fn referenced(
    conn: &mut SqliteConnection,
    field: &str,
    name: &str,
) -> Result<i64> {
    super::find_id(
        conn,
        "SELECT id FROM action_templates WHERE name = $1",
        "action template",
        name,
    )
    .await
    .map_err(super::named_in_body(field))
}

#[derive(sqlx::FromRow)]
struct Step {
    template: String,
    scope: Scope,
    timing: Timing,
    kind: ActionKind,
    target: Option<String>,
}

/// Every template (or the one named), with its steps and followers, ordered by name.
pub(super) async fn select(
    conn: &mut SqliteConnection,
    name: Option<&str>,
) -> Result<Vec<ActionTemplate>> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM action_templates WHERE $1 IS NULL OR name = $1 ORDER BY name",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let steps: Vec<Step> = sqlx::query_as(
        "SELECT t.name AS template, s.scope, s.timing, s.kind, s.target
           FROM action_template_steps s JOIN action_templates t ON t.id = s.template_id
          WHERE $1 IS NULL OR t.name = $1 ORDER BY t.name, s.position",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let users: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.name, u.username FROM users u JOIN action_templates t ON t.id = u.action_template_id
          WHERE $1 IS NULL OR t.name = $1 ORDER BY u.username",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    Ok(names
        .into_iter()
        .map(|(name,)| ActionTemplate {
            actions: steps
                .iter()
                .filter(|s| s.template == name)
                .map(|s| NewAction {
                    scope: s.scope,
                    timing: s.timing,
                    kind: s.kind,
                    target: s.target.clone(),
                })
                .collect(),
            users: users
                .iter()
                .filter(|(t, _)| *t == name)
                .map(|(_, u)| u.clone())
                .collect(),
            name,
        })
        .collect())
}

/// Creates template `name` or replaces its steps; true when it was created.
pub(super) async fn put(
    conn: &mut SqliteConnection,
    name: &str,
    actions: &[NewAction],
) -> Result<bool> {
    validate::username("name", name)?;
    if actions.len() > MAX_STEPS {
        return Err(StoreError::invalid(
            "actions",
            format!("at most {MAX_STEPS} actions"),
        ));
    }
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM action_templates WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    let (id, created) = match existing {
        Some((id,)) => (id, false),
        None => {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO action_templates (name, created_at) VALUES ($1, $2) RETURNING id",
            )
            .bind(name)
            .bind(unix_now())
            .fetch_one(&mut *conn)
            .await
            .map_err(unique_as_conflict(
                "name",
                "an action template with this name exists",
            ))?;
            (id, true)
        }
    };
    sqlx::query("DELETE FROM action_template_steps WHERE template_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (position, action) in actions.iter().enumerate() {
        let target = super::actions::check_target(conn, None, action)
            .await
            .map_err(|e| at_step(e, position))?;
        sqlx::query(
            "INSERT INTO action_template_steps (template_id, position, scope, timing, kind, target)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(position as i64)
        .bind(action.scope)
        .bind(action.timing)
        .bind(action.kind)
        .bind(target)
        .execute(&mut *conn)
        .await?;
    }
    Ok(created)
}

/// Names the step in the field of an error about it: `actions[2].target`.
fn at_step(e: StoreError, position: usize) -> StoreError {
    match e {
        StoreError::Invalid { field, message } => StoreError::Invalid {
            field: format!("actions[{position}].{field}"),
            message,
        },
        other => other,
    }
}

/// Deletes template `name`; its followers keep their own actions only.
pub(super) async fn remove(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM action_templates WHERE name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("action template", name));
    }
    Ok(())
}

impl Store {
    pub async fn action_templates(&self) -> Result<Vec<ActionTemplate>> {
        select(&mut *self.read.acquire().await?, None).await
    }

    pub async fn action_template(&self, name: &str) -> Result<ActionTemplate> {
        let mut conn = self.read.acquire().await?;
        select(&mut conn, Some(name))
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("action template", name))
    }

    /// Creates or replaces template `name`; true when it was created.
    pub async fn put_action_template(
        &self,
        name: &str,
        actions: &[NewAction],
    ) -> Result<(ActionTemplate, bool)> {
        let mut tx = self.write.begin().await?;
        let created = put(&mut tx, name, actions).await?;
        let template = select(&mut tx, Some(name)).await?.pop();
        tx.commit().await?;
        let template = template.ok_or_else(|| StoreError::not_found("action template", name))?;
        Ok((template, created))
    }

    pub async fn delete_action_template(&self, name: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        remove(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }
}
