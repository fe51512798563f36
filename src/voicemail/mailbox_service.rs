//! What makes the voicemail boxes boxes of mailed documents ([`crate::spool::boxes`]):
//! removing what a crash left behind, the keep/delete rule after a mail's outcome, and the
//! files of deleted users are the shared code's; here are voicemail's queries and words.

use super::mailbox::MailboxError;
use crate::spool::Kind;
use crate::spool::boxes::{BoxKind, BoxService, Words};
use crate::store::{Store, StoreError};

/// Applies mail outcomes to the boxes and removes the boxes of deleted users, until shut down.
pub type MailboxService = BoxService<Voicemails>;

/// The voicemail boxes as a [`BoxKind`].
#[derive(Debug, Clone)]
pub struct Voicemails;

impl BoxKind for Voicemails {
    type Error = MailboxError;
    const NAME: &'static str = "voicemail";
    const MAIL: Kind = Kind::Voicemail;
    const WORDS: Words = Words {
        a_box: "box",
        boxes: "boxes",
        document: "message",
        documents: "messages",
        cut_off: "recordings",
    };

    async fn files(store: &Store, user: i64) -> Result<Vec<String>, StoreError> {
        store.voicemail_files(user).await
    }

    async fn mailed(
        store: &Store,
        reference: &str,
        delivered: bool,
    ) -> Result<Option<(i64, Option<String>)>, StoreError> {
        let gone = store.voicemail_mailed(reference, delivered).await?;
        Ok(gone.map(|(user, file)| (user, Some(file))))
    }

    /// A box holds messages and the user's greetings; a message file without a row, or a
    /// greeting's temporary file (`.greeting-….tmp`) is a leftover.
    fn is_stray(name: &str, files: &[String]) -> bool {
        let no_row = name.starts_with("msg-") && !files.iter().any(|f| f == name);
        no_row || name.starts_with('.')
    }
}
