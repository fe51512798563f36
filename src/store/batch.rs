//! Many changes in one write transaction, for the xlsx import: each change runs in its own
//! savepoint, so a refused one leaves nothing behind while the others go on, and the caller
//! commits all of them or none. The changes are the API's own operations, with the same
//! validation and side effects; the snapshots read what the transaction sees.
//!
//! The batch holds the store's only writer until it ends: API writes wait meanwhile.

use sqlx::{Sqlite, Transaction};

use super::users::Hashed;
use super::{
    ActionTemplate, Device, DevicePatch, NewAction, NewDevice, NewPhonebookEntry, NewUser,
    NewWorkplace, PhonebookEntry, PhonebookPatch, Result, SpeedDial, SpeedDialBody, Store, User,
    UserPatch, Workplace, WorkplacePatch,
};

/// An open batch; dropping it without [`Batch::commit`] rolls everything back.
#[derive(Debug)]
pub struct Batch {
    store: Store,
    tx: Transaction<'static, Sqlite>,
}

impl Store {
    /// Starts a batch. It takes SQLite's write lock at once (`BEGIN IMMEDIATE`): a deferred
    /// transaction that reads first would fail on its first write if another process (the
    /// daemon beside a CLI import) committed in between.
    pub async fn batch(&self) -> Result<Batch> {
        Ok(Batch {
            store: self.clone(),
            tx: self.write.begin_with("BEGIN IMMEDIATE").await?,
        })
    }
}

impl Batch {
    pub async fn users(&mut self) -> Result<Vec<User>> {
        super::users::all(&mut self.tx).await
    }

    pub async fn devices(&mut self) -> Result<Vec<Device>> {
        super::devices::select(&mut self.tx, "$1 = 1", 1).await
    }

    pub async fn workplaces(&mut self) -> Result<Vec<Workplace>> {
        super::workplaces::all(&mut self.tx).await
    }

    pub async fn phonebook(&mut self) -> Result<Vec<PhonebookEntry>> {
        super::phonebook::all(&mut self.tx).await
    }

    pub async fn speed_dials(&mut self) -> Result<Vec<SpeedDial>> {
        super::speed_dials::select(&mut self.tx, None).await
    }

    pub async fn action_templates(&mut self) -> Result<Vec<ActionTemplate>> {
        super::templates::select(&mut self.tx, None).await
    }

    /// Quick-creates many users at once; each row's outcome, in order. A failure of the
    /// database itself undoes all of them.
    pub async fn create_users(&mut self, rows: Vec<(&NewUser, Hashed)>) -> Result<Vec<Result<()>>> {
        self.savepoint().await?;
        let done = self.store.insert_users(&mut self.tx, rows).await;
        let outcome = self.settle(done).await?;
        Ok(outcome.into_iter().map(|r| r.map(drop)).collect())
    }

    pub async fn update_user(
        &mut self,
        username: &str,
        patch: &UserPatch,
        hashed: Hashed,
    ) -> Result<()> {
        self.savepoint().await?;
        let done = self
            .store
            .change_user(&mut self.tx, username, patch, hashed)
            .await;
        self.settle(done).await
    }

    pub async fn delete_user(&mut self, username: &str) -> Result<()> {
        self.savepoint().await?;
        let done = self.store.remove_user(&mut self.tx, username).await;
        self.settle(done).await
    }

    pub async fn create_device(&mut self, new: NewDevice) -> Result<()> {
        self.savepoint().await?;
        let done = self.store.add_device(&mut self.tx, new).await;
        self.settle(done.map(drop)).await
    }

    pub async fn update_device(&mut self, id: i64, patch: &DevicePatch) -> Result<()> {
        self.savepoint().await?;
        let done = self.store.change_device(&mut self.tx, id, patch).await;
        self.settle(done).await
    }

    pub async fn delete_device(&mut self, id: i64) -> Result<()> {
        self.savepoint().await?;
        let done = super::devices::remove(&mut self.tx, id).await;
        self.settle(done).await
    }

    pub async fn create_workplace(&mut self, new: &NewWorkplace) -> Result<()> {
        self.savepoint().await?;
        let done = super::workplaces::insert(&mut self.tx, new).await;
        self.settle(done.map(drop)).await
    }

    pub async fn update_workplace(&mut self, name: &str, patch: &WorkplacePatch) -> Result<()> {
        self.savepoint().await?;
        let done = super::workplaces::change(&mut self.tx, name, patch).await;
        self.settle(done).await
    }

    pub async fn delete_workplace(&mut self, name: &str) -> Result<()> {
        self.savepoint().await?;
        let done = super::workplaces::remove(&mut self.tx, name).await;
        self.settle(done).await
    }

    pub async fn add_phonebook_entry(&mut self, new: &NewPhonebookEntry) -> Result<()> {
        self.savepoint().await?;
        let done = super::phonebook::insert(&mut self.tx, new).await;
        self.settle(done.map(drop)).await
    }

    pub async fn update_phonebook_entry(&mut self, id: i64, patch: PhonebookPatch) -> Result<()> {
        self.savepoint().await?;
        let done = super::phonebook::change(&mut self.tx, id, patch).await;
        self.settle(done).await
    }

    pub async fn delete_phonebook_entry(&mut self, id: i64) -> Result<()> {
        self.savepoint().await?;
        let done = super::phonebook::remove(&mut self.tx, id).await;
        self.settle(done).await
    }

    pub async fn put_speed_dial(&mut self, code: &str, body: &SpeedDialBody) -> Result<()> {
        self.savepoint().await?;
        let done = super::speed_dials::put(&mut self.tx, code, body).await;
        self.settle(done.map(drop)).await
    }

    pub async fn delete_speed_dial(&mut self, code: &str) -> Result<()> {
        self.savepoint().await?;
        let done = super::speed_dials::remove(&mut self.tx, code).await;
        self.settle(done).await
    }

    pub async fn put_action_template(&mut self, name: &str, actions: &[NewAction]) -> Result<()> {
        self.savepoint().await?;
        let done = super::templates::put(&mut self.tx, name, actions).await;
        self.settle(done.map(drop)).await
    }

    pub async fn delete_action_template(&mut self, name: &str) -> Result<()> {
        self.savepoint().await?;
        let done = super::templates::remove(&mut self.tx, name).await;
        self.settle(done).await
    }

    /// Makes every change that succeeded visible at once.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Undoes everything (a dry run, or a batch with refused changes). What was undone is no
    /// change for the phones' configs either.
    pub async fn rollback(self) -> Result<()> {
        self.store.changes.forget_uncommitted();
        self.tx.rollback().await?;
        Ok(())
    }

    async fn savepoint(&mut self) -> Result<()> {
        sqlx::query("SAVEPOINT change")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Keeps a change that succeeded; undoes every statement of one that failed.
    async fn settle<T>(&mut self, done: Result<T>) -> Result<T> {
        if let Err(refused) = &done
            && let Err(e) = sqlx::query("ROLLBACK TO change")
                .execute(&mut *self.tx)
                .await
        {
            // The batch cannot go on; the cause comes first in the log.
            tracing::error!("store: undoing a refused change ({refused}) failed: {e}");
            return Err(e.into());
        }
        sqlx::query("RELEASE change").execute(&mut *self.tx).await?;
        done
    }
}
