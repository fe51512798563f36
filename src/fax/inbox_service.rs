//! What makes the fax inbox a box of mailed documents ([`crate::spool::boxes`]): removing what
//! a crash left behind, the keep/delete rule after a mail's outcome, and the inboxes of deleted
//! users are the shared code's; here are the fax's queries and words.

use super::inbox::InboxError;
use crate::spool::Kind;
use crate::spool::boxes::{BoxKind, BoxService, Words};
use crate::store::{Store, StoreError};

/// Applies mail outcomes to the inboxes and removes those of deleted users, until shut down.
pub type FaxInboxService = BoxService<Faxes>;

/// The fax inbox as a [`BoxKind`].
#[derive(Debug, Clone)]
pub struct Faxes;

impl BoxKind for Faxes {
    type Error = InboxError;
    const NAME: &'static str = "fax";
    const MAIL: Kind = Kind::Fax;
    const WORDS: Words = Words {
        a_box: "inbox",
        boxes: "inboxes",
        document: "fax",
        documents: "faxes",
        cut_off: "files of receptions",
    };

    async fn files(store: &Store, user: i64) -> Result<Vec<String>, StoreError> {
        store.fax_files(user).await
    }

    async fn mailed(
        store: &Store,
        reference: &str,
        delivered: bool,
    ) -> Result<Option<(i64, Option<String>)>, StoreError> {
        store.fax_mailed(reference, delivered).await
    }

    /// Every file of an inbox is a fax's document.
    fn is_stray(name: &str, files: &[String]) -> bool {
        !files.iter().any(|f| f == name)
    }
}
