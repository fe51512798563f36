//! Who may use the admin API: admin accounts, users with a role, and their bearer tokens.

use sqlx::SqliteConnection;

use super::secret::{Secret, random_hex, token_digest};
use super::{
    Admin, NewAdmin, Result, Role, Store, StoreError, unique_as_conflict, unix_now, validate,
};

/// Where an authenticated principal is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalSource {
    Admin,
    User,
}

/// An authenticated caller of the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub source: PrincipalSource,
}

impl Principal {
    fn key(&self) -> String {
        let kind = match self.source {
            PrincipalSource::Admin => "admin",
            PrincipalSource::User => "user",
        };
        format!("{kind}:{}", self.name)
    }
}

/// Refuses a name that an admin account or a user already has: logins are one namespace.
pub(super) async fn check_name_free(conn: &mut SqliteConnection, name: &str) -> Result<()> {
    let taken: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM admins WHERE username = $1 UNION ALL SELECT 1 FROM users WHERE username = $1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    match taken {
        Some(_) => Err(StoreError::conflict("username", "is already taken")),
        None => Ok(()),
    }
}

/// Deletes every bearer token of `principal` (`admin:NAME` or `user:NAME`).
pub(super) async fn revoke_tokens(conn: &mut SqliteConnection, principal: &str) -> Result<()> {
    sqlx::query("DELETE FROM api_tokens WHERE principal = $1")
        .bind(principal)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn create_admin(&self, new: NewAdmin) -> Result<Admin> {
        validate::username("username", &new.username)?;
        validate::password("password", &new.password)?;
        let hash = self.hasher.hash(&new.password).await?;
        let mut tx = self.write.begin().await?;
        check_name_free(&mut tx, &new.username).await?;
        let now = unix_now();
        sqlx::query("INSERT INTO admins (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&new.username)
            .bind(hash)
            .bind(new.role)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(unique_as_conflict("username", "is already taken"))?;
        tx.commit().await?;
        Ok(Admin {
            username: new.username,
            role: new.role,
            created_at: now,
        })
    }

    pub async fn admins(&self) -> Result<Vec<Admin>> {
        let rows: Vec<(String, Role, crate::clock::UnixTime)> =
            sqlx::query_as("SELECT username, role, created_at FROM admins ORDER BY username")
                .fetch_all(&self.read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(username, role, created_at)| Admin {
                username,
                role,
                created_at,
            })
            .collect())
    }

    /// Deletes an admin account, but never the last system-admin.
    pub async fn delete_admin(&self, username: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let row: Option<(Role,)> = sqlx::query_as("SELECT role FROM admins WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let (role,) = row.ok_or_else(|| StoreError::not_found("admin", username))?;
        if role == Role::SystemAdmin {
            let (count,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM admins WHERE role = 'system-admin'")
                    .fetch_one(&mut *tx)
                    .await?;
            if count <= 1 {
                return Err(StoreError::conflict(
                    "username",
                    "the last system-admin cannot be deleted",
                ));
            }
        }
        sqlx::query("DELETE FROM admins WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        revoke_tokens(&mut tx, &format!("admin:{username}")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The principal called `name` with its stored password hash, if it may use the API at all.
    pub async fn credentials(&self, name: &str) -> Result<Option<(Principal, String)>> {
        let admin: Option<(String, Role)> =
            sqlx::query_as("SELECT password_hash, role FROM admins WHERE username = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?;
        if let Some((hash, role)) = admin {
            let p = Principal {
                name: name.to_owned(),
                role,
                source: PrincipalSource::Admin,
            };
            return Ok(Some((p, hash)));
        }
        let user: Option<(Option<String>, Option<Role>)> = sqlx::query_as(
            "SELECT password_hash, role FROM users WHERE username = $1 AND auth = 'local'",
        )
        .bind(name)
        .fetch_optional(&self.read)
        .await?;
        Ok(match user {
            Some((Some(hash), Some(role))) => Some((
                Principal {
                    name: name.to_owned(),
                    role,
                    source: PrincipalSource::User,
                },
                hash,
            )),
            _ => None,
        })
    }

    /// Checks a name and password (argon2; slow by design).
    pub async fn authenticate(&self, name: &str, password: &Secret) -> Result<Option<Principal>> {
        match self.credentials(name).await? {
            Some((p, hash)) if self.hasher.verify(password, &hash).await => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    /// Issues a bearer token for `principal`; only its digest is kept.
    pub async fn create_token(&self, principal: &Principal, label: &str) -> Result<String> {
        validate::optional_text("label", label)?;
        let token = random_hex(32);
        sqlx::query("INSERT INTO api_tokens (token_hash, principal, label, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token_digest(&token))
            .bind(principal.key())
            .bind(label)
            .bind(unix_now())
            .execute(&self.write)
            .await?;
        Ok(token)
    }

    /// The principal a bearer token stands for, with its current role.
    pub async fn token_principal(&self, token: &str) -> Result<Option<Principal>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT principal FROM api_tokens WHERE token_hash = $1")
                .bind(token_digest(token))
                .fetch_optional(&self.read)
                .await?;
        let Some((key,)) = row else { return Ok(None) };
        let Some((_, name)) = key.split_once(':') else {
            return Ok(None);
        };
        // The name must still be the same kind of principal it was when the token was issued.
        Ok(match self.credentials(name).await? {
            Some((p, _)) if p.key() == key => Some(p),
            _ => None,
        })
    }
}
