//! Call records: one row per finished call (start, answer, end, caller, callee, class, who
//! answered, outcome, the after-action that took it), written by the SIP service when a call
//! ends, read newest first in pages, pruned after `[calls] retention_days`.
//!
//! Names and numbers from a trunk are the far end's words: they are stored as received but
//! bounded and stripped of control characters, so a record is never refused for them (a call
//! that happened is recorded) and never breaks a log line or a CSV export.

use serde::Serialize;
use utoipa::ToSchema;

use super::{ActionKind, CallClass, CallOutcome, Result, Store, StoreError};
use crate::clock::UnixTime;

/// Rows on a page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// Most rows on one page.
pub const MAX_PAGE: u32 = 1000;
/// Characters kept of a caller name, number or callee.
const MAX_TEXT: usize = 128;
/// Rows deleted per statement when pruning, so the writer is never held for long.
const PRUNE_CHUNK: i64 = 5_000;

/// One finished call, as the SIP service records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    pub started_at: UnixTime,
    pub answered_at: Option<UnixTime>,
    pub ended_at: UnixTime,
    pub caller_number: String,
    pub caller_name: Option<String>,
    /// What was dialled (an extension, a team's extension, an outside number).
    pub callee: String,
    pub class: CallClass,
    /// The device that answered, by id.
    pub answered_by: Option<i64>,
    pub outcome: CallOutcome,
    pub after_action: Option<ActionKind>,
}

/// A call record as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CallRecord {
    pub id: i64,
    pub started_at: UnixTime,
    pub answered_at: Option<UnixTime>,
    pub ended_at: UnixTime,
    pub caller_number: String,
    pub caller_name: Option<String>,
    pub callee: String,
    pub class: CallClass,
    pub answered_by: Option<i64>,
    pub outcome: CallOutcome,
    pub after_action: Option<ActionKind>,
}

/// One page of call records, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CallPage {
    pub calls: Vec<CallRecord>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

/// `text` bounded to [`MAX_TEXT`] characters, control characters replaced by spaces.
fn clean(text: &str) -> String {
    text.chars()
        .take(MAX_TEXT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The times must be in order; anything else is the recording side's bug.
fn check_times(call: &NewCall) -> Result<()> {
    if call.ended_at < call.started_at {
        return Err(StoreError::invalid("ended_at", "is before started_at"));
    }
    if let Some(answered) = call.answered_at
        && !(call.started_at..=call.ended_at).contains(&answered)
    {
        return Err(StoreError::invalid(
            "answered_at",
            "is not between started_at and ended_at",
        ));
    }
    if call.answered_by.is_some() && call.answered_at.is_none() {
        return Err(StoreError::invalid(
            "answered_by",
            "needs answered_at: a device that answered answered at some time",
        ));
    }
    Ok(())
}

/// The INSERT of one call record on `conn` (a transaction or a connection of the writer).
async fn insert_call(conn: &mut sqlx::SqliteConnection, call: &NewCall) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO calls (started_at, answered_at, ended_at, caller_number, caller_name,
                            callee, class, answered_by, outcome, after_action)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(call.started_at)
    .bind(call.answered_at)
    .bind(call.ended_at)
    .bind(clean(&call.caller_number))
    .bind(call.caller_name.as_deref().map(clean))
    .bind(clean(&call.callee))
    .bind(call.class)
    .bind(call.answered_by)
    .bind(call.outcome)
    .bind(call.after_action)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

impl Store {
    /// Inserts one finished call; returns its id.
    pub async fn record_call(&self, call: &NewCall) -> Result<i64> {
        check_times(call)?;
        let mut conn = self.write.acquire().await?;
        insert_call(&mut conn, call).await
    }

    /// Inserts finished calls in one transaction: one commit (one sync to disk) however many
    /// calls ended meanwhile. When any has its times out of order, none is written (the
    /// error names it); write them one by one then.
    pub async fn record_calls(&self, calls: &[NewCall]) -> Result<()> {
        calls.iter().try_for_each(check_times)?;
        let mut tx = self.write.begin().await?;
        for call in calls {
            insert_call(&mut tx, call).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` records (default [`DEFAULT_PAGE`], at most [`MAX_PAGE`]) with an id below
    /// `before` (all when None), newest first. Ids only grow, so paging by id is stable while
    /// new calls are recorded.
    pub async fn calls(&self, limit: Option<u32>, before: Option<i64>) -> Result<CallPage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(StoreError::invalid(
                "limit",
                format!("must be 1 to {MAX_PAGE}"),
            ));
        }
        // One more than asked tells whether there is a next page.
        let mut calls: Vec<CallRecord> = sqlx::query_as(
            "SELECT id, started_at, answered_at, ended_at, caller_number, caller_name, callee,
                    class, answered_by, outcome, after_action
               FROM calls WHERE $1 IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.read)
        .await?;
        let more = calls.len() > limit as usize;
        calls.truncate(limit as usize);
        let next_before = calls.last().filter(|_| more).map(|c| c.id);
        Ok(CallPage { calls, next_before })
    }

    /// Deletes the records of calls that started before `before`; returns how many.
    pub async fn prune_calls(&self, before: UnixTime) -> Result<u64> {
        let mut pruned = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM calls WHERE id IN
                   (SELECT id FROM calls WHERE started_at < $1 ORDER BY id LIMIT $2)",
            )
            .bind(before)
            .bind(PRUNE_CHUNK)
            .execute(&self.write)
            .await?;
            pruned += done.rows_affected();
            if done.rows_affected() < PRUNE_CHUNK as u64 {
                return Ok(pruned);
            }
        }
    }
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
