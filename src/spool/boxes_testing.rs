//! The setup the fax inbox's and the voicemail boxes' tests share: a store and a mail spool in
//! temporary directories, boxes opened on them, users made the same way.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use super::{BoxKind, Boxes};
use crate::config::Config;
use crate::mail::MailHandle;
use crate::store::{NewUser, Store, temp_store};

pub(crate) struct Fixture<K> {
    _db: tempfile::TempDir,
    pub data: tempfile::TempDir,
    pub store: Store,
    pub mail: MailHandle,
    kind: PhantomData<K>,
}

impl<K: BoxKind> Fixture<K> {
    pub async fn new() -> Fixture<K> {
        let (db, store) = temp_store().await;
        let data = tempfile::tempdir().expect("data dir");
        let mut config = Config::default();
        config.server.data_dir = data.path().to_owned();
        let mail = MailHandle::open(&config).expect("mail");
        Fixture {
            _db: db,
            data,
            store,
            mail,
            kind: PhantomData,
        }
    }

    pub async fn open(&self) -> Boxes<K> {
        Boxes::open_in(self.data.path(), self.store.clone(), self.mail.clone())
            .await
            .expect("open")
    }

    /// Creates `new` (its display name `<name> Schmidt`, a password) and returns its id.
    pub async fn create_user(
        &self,
        name: &str,
        email: Option<&str>,
        lang: &str,
        new: NewUser,
    ) -> i64 {
        let new = NewUser {
            username: name.into(),
            display_name: format!("{name} Schmidt"),
            email: email.map(Into::into),
            language: Some(lang.into()),
            password: Some(crate::store::secret::Secret::new("correct horse battery")),
            ..new
        };
        self.store.create_user(new).await.expect("user");
        self.store.user_id(name).await.expect("id")
    }

    /// `<data_dir>/<kind>`.
    pub fn dir(&self) -> PathBuf {
        self.data.path().join(K::NAME)
    }
}

/// The names in `dir`, sorted; none when it is not there.
pub(crate) fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|l| {
            l.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
