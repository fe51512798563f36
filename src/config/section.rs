//! Reading one TOML table key by key, so every bad key is reported, not just the first.

use serde::de::DeserializeOwned;

use super::ConfigError;

/// Problems collected across all tables, each prefixed with its full key.
#[derive(Debug, Default)]
pub(super) struct Problems(Vec<String>);

impl Problems {
    pub(super) fn push(&mut self, key: &str, msg: &str) {
        self.0.push(format!("{key}: {msg}"));
    }

    pub(super) fn into_result<T>(self, value: T) -> Result<T, ConfigError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError::Invalid(self.0))
        }
    }
}

/// One top-level table being read; keys are removed as they are read, what is left is unknown.
#[derive(Debug)]
pub(super) struct Section<'a> {
    name: &'static str,
    table: toml::Table,
    problems: &'a mut Problems,
}

impl<'a> Section<'a> {
    /// Takes table `name` out of the root (an empty one if absent).
    pub(super) fn take(
        root: &mut toml::Table,
        name: &'static str,
        problems: &'a mut Problems,
    ) -> Self {
        let table = match root.remove(name) {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t,
            Some(_) => {
                problems.push(name, "must be a table");
                toml::Table::new()
            }
        };
        Section {
            name,
            table,
            problems,
        }
    }

    /// The value of `key`, or the default when it is missing or wrong (wrong is recorded).
    pub(super) fn get<T: DeserializeOwned>(&mut self, key: &str, default: impl FnOnce() -> T) -> T {
        let Some(value) = self.table.remove(key) else {
            return default();
        };
        match value.try_into::<T>() {
            Ok(v) => v,
            Err(e) => {
                self.problem(key, e.message());
                default()
            }
        }
    }

    pub(super) fn problem(&mut self, key: &str, msg: &str) {
        self.problems.push(&format!("{}.{key}", self.name), msg);
    }

    /// Reports the keys nobody asked for.
    pub(super) fn finish(self) {
        for key in self.table.keys() {
            self.problems
                .push(&format!("{}.{key}", self.name), "unknown key");
        }
    }
}
