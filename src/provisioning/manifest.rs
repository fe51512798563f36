//! Vendor knowledge as data: `provisioning-templates/<vendor>/manifest.toml` names the files a
//! vendor's phones ask for, how to recognise the phones, and which template renders each file.
//! The shipped folder is compiled in; a template in `<data_dir>/templates/<vendor>/` overrides
//! the shipped one of the same name.

use std::collections::HashMap;
use std::path::Path;

use include_dir::{Dir, include_dir};
use regex::Regex;
use serde::Deserialize;

use super::ProvisioningError;
use crate::store::Vendor;

static SHIPPED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/provisioning-templates");

/// Each vendor's checked keys with their sources (documentation and tests, not a template).
pub const FACTS_FILE: &str = "facts.toml";

/// Whether a file is the same for everyone or carries one device's secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Common,
    Device,
}

/// How values are escaped in a template's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xml,
    Keyvalue,
}

/// How a phone proves itself when it fetches its device file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthScheme {
    Digest,
    Basic,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    vendor: String,
    ouis: Vec<String>,
    notify_event: String,
    auth: AuthScheme,
    https: bool,
    user_agents: Vec<String>,
    example_user_agents: Vec<String>,
    #[serde(default)]
    models: HashMap<String, String>,
    files: Vec<FileManifest>,
    phonebook: PhonebookManifest,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileManifest {
    pattern: String,
    kind: FileKind,
    template: String,
    #[serde(default)]
    bootstrap: Option<String>,
    /// Regex on the model: the file is only for these (Gigaset's Nx70 format).
    #[serde(default)]
    models: Option<String>,
    format: Format,
    content_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhonebookManifest {
    file: String,
    template: String,
    format: Format,
    content_type: String,
}

/// One file name pattern of a vendor, compiled.
#[derive(Debug)]
pub struct FileDef {
    pub pattern: Regex,
    pub kind: FileKind,
    pub template: String,
    /// Device files: the secret-free stand-in served over TFTP.
    pub bootstrap: Option<String>,
    /// The models this file is for (whole-name match); `None`: every model.
    pub models: Option<Regex>,
    pub format: Format,
    /// Ready to send, so answering a request does not parse it.
    pub content_type: axum::http::HeaderValue,
}

/// One vendor family, compiled.
#[derive(Debug)]
pub struct VendorDef {
    pub vendor: Vendor,
    pub ouis: Vec<String>,
    pub notify_event: String,
    pub auth: AuthScheme,
    pub https: bool,
    pub user_agents: Vec<Regex>,
    pub example_user_agents: Vec<String>,
    /// Model name → the code some vendors put in common file names.
    pub models: HashMap<String, String>,
    pub files: Vec<FileDef>,
    pub phonebook: FileDef,
    /// The phonebook's name under `/phonebook/<token>/`.
    pub phonebook_file: String,
    /// Template name → source (shipped, or the admin's override).
    pub templates: HashMap<String, String>,
}

impl VendorDef {
    /// The model whose code is `code` (Yealink's `y0000000000XX.cfg`).
    pub fn model_for_code(&self, code: &str) -> Option<&str> {
        self.models
            .iter()
            .filter(|(_, c)| c.eq_ignore_ascii_case(code))
            .map(|(m, _)| m.as_str())
            .min()
    }

    pub fn has_oui(&self, mac: &str) -> bool {
        self.ouis.iter().any(|o| mac.starts_with(o.as_str()))
    }
}

/// Every vendor zentrale can provision, in the order of [`Vendor::ALL`].
#[derive(Debug)]
pub struct Catalog {
    pub vendors: Vec<VendorDef>,
    /// Every file pattern of every vendor at once: one pass over a requested name finds the
    /// few patterns worth capturing with.
    names: regex::RegexSet,
    /// For each pattern in `names`: (vendor index, file index).
    owners: Vec<(usize, usize)>,
}

impl Catalog {
    /// The shipped definitions, with templates from `overrides/<vendor>/` where present.
    pub fn load(overrides: Option<&Path>) -> Result<Catalog, ProvisioningError> {
        let vendors: Vec<VendorDef> = Vendor::ALL
            .iter()
            .map(|&v| load_vendor(v, overrides))
            .collect::<Result<_, _>>()?;
        let mut owners = Vec::new();
        let mut patterns = Vec::new();
        for (v, def) in vendors.iter().enumerate() {
            for (f, file) in def.files.iter().enumerate() {
                owners.push((v, f));
                patterns.push(file.pattern.as_str());
            }
        }
        let names = regex::RegexSet::new(patterns)
            .map_err(|e| ProvisioningError::Manifest(format!("file patterns: {e}")))?;
        Ok(Catalog {
            vendors,
            names,
            owners,
        })
    }

    /// The (vendor, file) pairs whose pattern matches `name`, in catalog order.
    pub fn files_matching<'c>(
        &'c self,
        name: &str,
    ) -> impl Iterator<Item = (&'c VendorDef, &'c FileDef)> + 'c {
        let hits: Vec<usize> = self.names.matches(name).into_iter().collect();
        hits.into_iter().map(move |i| {
            let (v, f) = self.owners[i];
            (&self.vendors[v], &self.vendors[v].files[f])
        })
    }

    pub fn get(&self, vendor: Vendor) -> &VendorDef {
        self.vendors
            .iter()
            .find(|d| d.vendor == vendor)
            .expect("the catalog holds every vendor")
    }
}

fn bad(vendor: Vendor, msg: impl std::fmt::Display) -> ProvisioningError {
    ProvisioningError::Manifest(format!("{vendor}: {msg}"))
}

fn load_vendor(vendor: Vendor, overrides: Option<&Path>) -> Result<VendorDef, ProvisioningError> {
    let dir = SHIPPED
        .get_dir(vendor.as_str())
        .ok_or_else(|| bad(vendor, "no folder in provisioning-templates/"))?;
    let text = shipped_text(dir, "manifest.toml").ok_or_else(|| bad(vendor, "no manifest.toml"))?;
    let m: Manifest = toml::from_str(text).map_err(|e| bad(vendor, e))?;
    if m.vendor != vendor.as_str() {
        return Err(bad(vendor, format!("manifest names vendor {:?}", m.vendor)));
    }
    let files = m
        .files
        .into_iter()
        .map(|f| compile_file(vendor, f))
        .collect::<Result<Vec<_>, _>>()?;
    if files.iter().filter(|f| f.kind == FileKind::Device).count() != 1 {
        return Err(bad(vendor, "needs exactly one file of kind \"device\""));
    }
    let phonebook_file = m.phonebook.file.clone();
    let phonebook = FileDef {
        pattern: regex(vendor, &format!("^{}$", regex::escape(&m.phonebook.file)))?,
        kind: FileKind::Common,
        template: m.phonebook.template,
        bootstrap: None,
        models: None,
        format: m.phonebook.format,
        content_type: header(vendor, &m.phonebook.content_type)?,
    };
    // Every file beside the manifest is a template (includes too), overridable by name.
    let mut names: Vec<String> = dir
        .files()
        .filter_map(|f| f.path().file_name()?.to_str().map(str::to_owned))
        .filter(|n| n != "manifest.toml" && n != FACTS_FILE)
        .collect();
    names.sort();
    let templates: HashMap<String, String> = names
        .into_iter()
        .map(|name| {
            Ok((
                name.clone(),
                template_source(vendor, dir, &name, overrides)?,
            ))
        })
        .collect::<Result<_, ProvisioningError>>()?;
    let used = files
        .iter()
        .flat_map(|f| std::iter::once(&f.template).chain(f.bootstrap.as_ref()))
        .chain(std::iter::once(&phonebook.template));
    if let Some(missing) = used.into_iter().find(|t| !templates.contains_key(*t)) {
        return Err(bad(vendor, format!("template {missing} is not shipped")));
    }
    Ok(VendorDef {
        vendor,
        ouis: m.ouis.iter().map(|o| o.to_ascii_lowercase()).collect(),
        notify_event: m.notify_event,
        auth: m.auth,
        https: m.https,
        user_agents: m
            .user_agents
            .iter()
            .map(|p| regex(vendor, p))
            .collect::<Result<_, _>>()?,
        example_user_agents: m.example_user_agents,
        models: m.models,
        files,
        phonebook,
        phonebook_file,
        templates,
    })
}

fn compile_file(vendor: Vendor, f: FileManifest) -> Result<FileDef, ProvisioningError> {
    let pattern = regex(vendor, &f.pattern)?;
    let has_mac = pattern.capture_names().flatten().any(|n| n == "mac");
    if f.kind == FileKind::Device && !has_mac {
        return Err(bad(
            vendor,
            format!("device file {:?} has no `mac` group", f.pattern),
        ));
    }
    if f.kind == FileKind::Device && f.bootstrap.is_none() {
        return Err(bad(
            vendor,
            "the device file needs a bootstrap template for TFTP",
        ));
    }
    let models = match &f.models {
        Some(m) => Some(regex(vendor, &format!("^(?:{m})$"))?),
        None => None,
    };
    Ok(FileDef {
        pattern,
        kind: f.kind,
        template: f.template,
        bootstrap: f.bootstrap,
        models,
        format: f.format,
        content_type: header(vendor, &f.content_type)?,
    })
}

fn header(vendor: Vendor, value: &str) -> Result<axum::http::HeaderValue, ProvisioningError> {
    axum::http::HeaderValue::from_str(value).map_err(|_| {
        bad(
            vendor,
            format!("content type {value:?} is not a header value"),
        )
    })
}

fn regex(vendor: Vendor, pattern: &str) -> Result<Regex, ProvisioningError> {
    Regex::new(pattern).map_err(|e| bad(vendor, format!("pattern {pattern:?}: {e}")))
}

fn shipped_text<'a>(dir: &'a Dir<'a>, name: &str) -> Option<&'a str> {
    dir.get_file(dir.path().join(name))?.contents_utf8()
}

/// The admin's override if there is one, else the shipped template.
fn template_source(
    vendor: Vendor,
    dir: &Dir<'_>,
    name: &str,
    overrides: Option<&Path>,
) -> Result<String, ProvisioningError> {
    if let Some(root) = overrides {
        let path = root.join(vendor.as_str()).join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                tracing::info!(
                    "provisioning: using the template override {}",
                    path.display()
                );
                return Ok(text);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bad(vendor, format!("reading {}: {e}", path.display()))),
        }
    }
    shipped_text(dir, name)
        .map(str::to_owned)
        .ok_or_else(|| bad(vendor, format!("template {name} is not shipped")))
}
