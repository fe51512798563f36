//! Voicemail box counts for MWI (RFC 3842): how many new and heard messages each user's box
//! holds, who may watch which box, and which phones show it. The counts are kept by the
//! voicemail service (until it exists, tests set them here); a change reaches the SIP service
//! through the change log (`Entity::Mailbox`).

use super::{Result, Store};

/// What a device asking for the mailbox at a Request-URI user part may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxAccess {
    /// No such mailbox.
    Unknown,
    /// A mailbox the device's user may not watch.
    Forbidden,
    /// The box of `user` (None: the device's own address at a workplace nobody is logged in
    /// at), with its counts.
    Granted {
        user: Option<i64>,
        /// Asked at the device's own address: follows whoever the device serves.
        own: bool,
        new: u32,
        old: u32,
    },
}

/// A mailbox's counts and the phones that show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxState {
    /// The owner's extension (the `Message-Account`), else their username.
    pub account: String,
    pub new: u32,
    pub old: u32,
    /// Phones and softphones of the owner (own, and at the workplace they are logged in at)
    /// and of every user who monitors this box [Überwachte Voicemailbox].
    pub devices: Vec<i64>,
}

/// The user a device serves now: its owner, or whoever is logged in at its workplace.
const DEVICE_USER: &str = "COALESCE(d.owner_user_id, w.current_user_id)";

impl Store {
    /// Sets `user`'s counts (the voicemail service calls it with each message change).
    pub async fn set_mailbox_counts(&self, user: i64, new: u32, old: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO mailbox_counts (user_id, new_messages, old_messages) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE
                SET new_messages = excluded.new_messages, old_messages = excluded.old_messages",
        )
        .bind(user)
        .bind(i64::from(new))
        .bind(i64::from(old))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// `user`'s counts; an empty box when none were ever set.
    pub async fn mailbox_counts(&self, user: i64) -> Result<(u32, u32)> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT new_messages, old_messages FROM mailbox_counts WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(row.map_or((0, 0), |(n, o)| (count(n), count(o))))
    }

    /// What `device` may see at `target`: its own SIP username (the box of whoever it serves
    /// now) or a user's extension (that user's box, if the device's user is the owner or
    /// monitors it).
    pub async fn mailbox_access(&self, device: i64, target: &str) -> Result<MailboxAccess> {
        let row: Option<(String, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT d.sip_username, {DEVICE_USER} FROM devices d
               LEFT JOIN workplaces w ON w.id = d.owner_workplace_id WHERE d.id = $1"
        ))
        .bind(device)
        .fetch_optional(&self.read)
        .await?;
        let Some((own, viewer)) = row else {
            return Ok(MailboxAccess::Unknown);
        };
        let owner = match own == target {
            true => viewer,
            false => {
                let found: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM users WHERE extension = $1")
                        .bind(target)
                        .fetch_optional(&self.read)
                        .await?;
                let Some((owner,)) = found else {
                    return Ok(MailboxAccess::Unknown);
                };
                if !self.may_watch(viewer, owner).await? {
                    return Ok(MailboxAccess::Forbidden);
                }
                Some(owner)
            }
        };
        let (new, old) = match owner {
            Some(user) => self.mailbox_counts(user).await?,
            None => (0, 0),
        };
        Ok(MailboxAccess::Granted {
            user: owner,
            own: own == target,
            new,
            old,
        })
    }

    /// Whether `viewer` may watch `owner`'s box: their own, or the one they monitor.
    async fn may_watch(&self, viewer: Option<i64>, owner: i64) -> Result<bool> {
        let Some(viewer) = viewer else {
            return Ok(false);
        };
        if viewer == owner {
            return Ok(true);
        }
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM voicemail_boxes WHERE user_id = $1 AND monitored_user_id = $2",
        )
        .bind(viewer)
        .bind(owner)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.is_some())
    }

    /// `user`'s counts and the phones that show them; None for a user that is gone.
    pub async fn mailbox_state(&self, user: i64) -> Result<Option<MailboxState>> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT username, extension FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&self.read)
                .await?;
        let Some((username, extension)) = row else {
            return Ok(None);
        };
        let devices: Vec<(i64,)> = sqlx::query_as(&format!(
            "SELECT d.id FROM devices d LEFT JOIN workplaces w ON w.id = d.owner_workplace_id
              WHERE d.kind IN ('ip-phone', 'softphone')
                AND ({DEVICE_USER} = $1 OR {DEVICE_USER} IN
                     (SELECT user_id FROM voicemail_boxes WHERE monitored_user_id = $1))
              ORDER BY d.id"
        ))
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        let (new, old) = self.mailbox_counts(user).await?;
        Ok(Some(MailboxState {
            account: extension.unwrap_or(username),
            new,
            old,
            devices: devices.into_iter().map(|(d,)| d).collect(),
        }))
    }
}

impl Store {
    /// The phones of `workplaces`, each with the box of the user logged in there now (None:
    /// nobody), and that box's counts (a login or logout changes what the phone shows).
    pub async fn workplace_mailboxes(&self, workplaces: &[i64]) -> Result<Vec<PhoneMailbox>> {
        if workplaces.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new(
            "SELECT d.id AS device, d.sip_username, u.id AS user_id,
                    COALESCE(u.extension, u.username) AS account,
                    COALESCE(m.new_messages, 0) AS new_messages,
                    COALESCE(m.old_messages, 0) AS old_messages
               FROM devices d JOIN workplaces w ON w.id = d.owner_workplace_id
               LEFT JOIN users u ON u.id = w.current_user_id
               LEFT JOIN mailbox_counts m ON m.user_id = u.id
              WHERE d.kind IN ('ip-phone', 'softphone') AND w.id IN (",
        );
        let mut list = query.separated(", ");
        for id in workplaces {
            list.push_bind(*id);
        }
        query.push(") ORDER BY d.id");
        Ok(query.build_query_as().fetch_all(&self.read).await?)
    }
}

/// A phone and the box it shows now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PhoneMailbox {
    pub device: i64,
    pub sip_username: String,
    /// Whoever the phone serves now; None: nobody is logged in.
    pub user_id: Option<i64>,
    /// The user's extension (else username), the `Message-Account`.
    pub account: Option<String>,
    pub new_messages: i64,
    pub old_messages: i64,
}

#[cfg(test)]
#[path = "mailboxes_tests.rs"]
mod tests;
