//! The global phonebook [globales Telefonbuch]; users' own entries live in `profile`.

use sqlx::SqliteConnection;

use super::profile::{parse_extra, print_extra};
use super::{
    NewPhonebookEntry, PhonebookEntry, PhonebookPatch, Result, Store, StoreError, validate,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    number: String,
    company: Option<String>,
    extra: String,
}

impl From<Row> for PhonebookEntry {
    fn from(r: Row) -> PhonebookEntry {
        PhonebookEntry {
            id: r.id,
            name: r.name,
            number: r.number,
            company: r.company,
            extra: parse_extra(&r.extra),
        }
    }
}

fn check(
    name: &str,
    number: &str,
    company: Option<&str>,
    extra: &std::collections::BTreeMap<String, String>,
) -> Result<()> {
    validate::display_text("name", name)?;
    validate::phone_number("number", number).or_else(|_| validate::extension("number", number))?;
    if let Some(c) = company {
        validate::optional_text("company", c)?;
    }
    validate::extra_fields("extra", extra)
}

pub(super) async fn insert(conn: &mut SqliteConnection, new: &NewPhonebookEntry) -> Result<i64> {
    check(&new.name, &new.number, new.company.as_deref(), &new.extra)?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO phonebook (name, number, company, extra) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&new.name)
    .bind(&new.number)
    .bind(&new.company)
    .bind(print_extra(&new.extra))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Every entry, ordered by name.
pub(super) async fn all(conn: &mut SqliteConnection) -> Result<Vec<PhonebookEntry>> {
    let rows: Vec<Row> =
        sqlx::query_as("SELECT id, name, number, company, extra FROM phonebook ORDER BY name, id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.into_iter().map(PhonebookEntry::from).collect())
}

pub(super) async fn change(
    conn: &mut SqliteConnection,
    id: i64,
    patch: PhonebookPatch,
) -> Result<()> {
    let current: Option<Row> =
        sqlx::query_as("SELECT id, name, number, company, extra FROM phonebook WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let current =
        PhonebookEntry::from(current.ok_or_else(|| StoreError::not_found("phonebook entry", id))?);
    let name = patch.name.unwrap_or(current.name);
    let number = patch.number.unwrap_or(current.number);
    let company = patch.company.unwrap_or(current.company);
    let extra = patch.extra.unwrap_or(current.extra);
    check(&name, &number, company.as_deref(), &extra)?;
    sqlx::query(
        "UPDATE phonebook SET name = $1, number = $2, company = $3, extra = $4 WHERE id = $5",
    )
    .bind(&name)
    .bind(&number)
    .bind(&company)
    .bind(print_extra(&extra))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn remove(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    let done = sqlx::query("DELETE FROM phonebook WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("phonebook entry", id));
    }
    Ok(())
}

impl Store {
    pub async fn phonebook(&self) -> Result<Vec<PhonebookEntry>> {
        all(&mut *self.read.acquire().await?).await
    }

    pub async fn phonebook_entry(&self, id: i64) -> Result<PhonebookEntry> {
        let row: Option<Row> =
            sqlx::query_as("SELECT id, name, number, company, extra FROM phonebook WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(PhonebookEntry::from)
            .ok_or_else(|| StoreError::not_found("phonebook entry", id))
    }

    pub async fn add_phonebook_entry(&self, new: NewPhonebookEntry) -> Result<PhonebookEntry> {
        let id = insert(&mut *self.write.acquire().await?, &new).await?;
        self.phonebook_entry_after_write(id).await
    }

    pub async fn update_phonebook_entry(
        &self,
        id: i64,
        patch: PhonebookPatch,
    ) -> Result<PhonebookEntry> {
        let mut tx = self.write.begin().await?;
        change(&mut tx, id, patch).await?;
        tx.commit().await?;
        self.phonebook_entry_after_write(id).await
    }

    pub async fn delete_phonebook_entry(&self, id: i64) -> Result<()> {
        remove(&mut *self.write.acquire().await?, id).await
    }

    /// Reads through the writer, which has certainly seen its own commit.
    async fn phonebook_entry_after_write(&self, id: i64) -> Result<PhonebookEntry> {
        let row: Row =
            sqlx::query_as("SELECT id, name, number, company, extra FROM phonebook WHERE id = $1")
                .bind(id)
                .fetch_one(&self.write)
                .await?;
        Ok(row.into())
    }
}
