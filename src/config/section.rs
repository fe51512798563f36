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
    /// The table's full key: `sip`, or `sip.trunks[0]` for one of an array of tables.
    name: String,
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
            name: name.to_owned(),
            table,
            problems,
        }
    }

    /// The tables of the array `key` (`[[<name>.<key>]]`), each as a section named
    /// `<name>.<key>[i]`, handed to `read` one by one.
    pub(super) fn each_table<T>(
        &mut self,
        key: &str,
        mut read: impl FnMut(Section<'_>) -> T,
    ) -> Vec<T> {
        let tables = match self.table.remove(key) {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(_) => {
                self.problem(
                    key,
                    &format!("must be an array of tables ([[{}.{key}]])", self.name),
                );
                Vec::new()
            }
        };
        let mut out = Vec::with_capacity(tables.len());
        for (i, item) in tables.into_iter().enumerate() {
            let name = format!("{}.{key}[{i}]", self.name);
            let toml::Value::Table(table) = item else {
                self.problems.push(&name, "must be a table");
                continue;
            };
            out.push(read(Section {
                name,
                table,
                problems: self.problems,
            }));
        }
        out
    }

    /// The raw value of `key`, if present (for values whose type errors must not quote them).
    pub(super) fn take_raw(&mut self, key: &str) -> Option<toml::Value> {
        self.table.remove(key)
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
