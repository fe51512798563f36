//! What templates see: the site (addresses, time, language) and, for a device file, that
//! device's account. The field names here are the template contract documented in
//! provisioning-templates/README.md.

use serde::Serialize;

use super::manifest::VendorDef;
use crate::config::{Config, TimeZone};
use crate::store::provisioning::{PhonebookLine, ProvDevice};

/// Where phones reach this server, filled in once the sockets are bound.
#[derive(Debug, Clone)]
pub struct Urls {
    pub host: String,
    /// `http://host[:port]`
    pub http: String,
    /// `https://host[:port]` when HTTPS is on.
    pub https: Option<String>,
}

impl Urls {
    pub fn new(host: &str, http_port: u16, https_port: Option<u16>) -> Urls {
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let with_port = |scheme: &str, port: u16, default: u16| {
            if port == default {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}:{port}")
            }
        };
        Urls {
            http: with_port("http", http_port, 80),
            https: https_port.map(|p| with_port("https", p, 443)),
            host,
        }
    }

    /// The base phones of `def` should use: HTTPS where both they and we can.
    pub fn base_for(&self, def: &VendorDef) -> &str {
        match &self.https {
            Some(https) if def.https => https,
            _ => &self.http,
        }
    }
}

/// Everything from the config that goes into phone files.
#[derive(Debug, Clone)]
pub struct Site {
    pub urls: Urls,
    pub sip_registrar: String,
    pub sip_port: u16,
    pub timezone: &'static TimeZone,
    pub ntp: Vec<String>,
    pub dns: Vec<String>,
    pub language: String,
}

impl Site {
    pub fn new(config: &Config, urls: Urls) -> Site {
        Site {
            urls,
            sip_registrar: config.sip.domain.clone(),
            sip_port: config.sip.listen.port(),
            timezone: config.provisioning.timezone,
            ntp: config.provisioning.ntp_servers.clone(),
            dns: config.provisioning.dns_servers.clone(),
            language: config.server.language.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CommonCtx<'a> {
    vendor: &'a str,
    model: &'a str,
    language: &'a str,
    language_name: &'static str,
    server: ServerCtx,
    timezone: TzCtx,
    ntp: &'a [String],
    dns: &'a [String],
    firmware_url: Option<String>,
}

#[derive(Debug, Serialize)]
struct ServerCtx {
    host: String,
    http_url: String,
    https_url: Option<String>,
    prov_url: String,
    prov_host: String,
    prov_scheme: &'static str,
    prov_path: &'static str,
}

#[derive(Debug, Serialize)]
struct TzCtx {
    name: &'static str,
    offset_minutes: i32,
    offset_hours: String,
    dst: bool,
    posix: &'static str,
    /// Abbreviations of standard and summer time (`CET`, `CEST`; `dst_abbr` empty without DST).
    std_abbr: String,
    dst_abbr: String,
    /// When summer time starts and ends, from the POSIX rule; `none` without DST.
    dst_start: Option<super::tzrule::Change>,
    dst_end: Option<super::tzrule::Change>,
}

/// A device file's context. Holds secrets: built per render, never logged.
#[derive(Serialize)]
pub struct DeviceCtx<'a> {
    #[serde(flatten)]
    common: CommonCtx<'a>,
    mac: String,
    mac_upper: String,
    account: Account<'a>,
    sip: Sip<'a>,
    prov: Prov<'a>,
    menu_url: String,
    phonebook_url: String,
    provisioning_url: String,
}

impl std::fmt::Debug for DeviceCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCtx")
            .field("mac", &self.mac)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Account<'a> {
    user: &'a str,
    auth_user: &'a str,
    password: &'a str,
    display_name: &'a str,
    label: &'a str,
}

#[derive(Serialize)]
struct Sip<'a> {
    registrar: &'a str,
    port: u16,
    transport: &'static str,
    domain: &'a str,
}

#[derive(Serialize)]
struct Prov<'a> {
    username: &'a str,
    password: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PhonebookCtx<'a> {
    entries: &'a [PhonebookLine],
    title: &'static str,
    language: &'a str,
}

impl Site {
    pub fn common<'a>(
        &'a self,
        def: &'a VendorDef,
        model: &'a str,
        language: &'a str,
        firmware_file: Option<&str>,
    ) -> CommonCtx<'a> {
        let base = self.urls.base_for(def);
        let prov_url = format!("{base}/prov");
        let (scheme, host) = base.split_once("://").unwrap_or(("http", base));
        CommonCtx {
            vendor: def.vendor.as_str(),
            model,
            language,
            language_name: if language == "de" {
                "German"
            } else {
                "English"
            },
            server: ServerCtx {
                host: self.urls.host.clone(),
                http_url: self.urls.http.clone(),
                https_url: self.urls.https.clone(),
                prov_host: host.to_owned(),
                prov_scheme: if scheme == "https" { "https" } else { "http" },
                prov_path: "/prov",
                prov_url,
            },
            timezone: tz_ctx(self.timezone),
            ntp: &self.ntp,
            dns: &self.dns,
            firmware_url: firmware_file.map(|f| format!("{base}/firmware/{f}")),
        }
    }

    /// The language a device's texts use: its user's (logged in or assigned), else the site's.
    pub fn language_of<'a>(&'a self, dev: &'a ProvDevice) -> &'a str {
        dev.guest_language
            .as_deref()
            .or(dev.user_language.as_deref())
            .unwrap_or(&self.language)
    }

    pub fn device<'a>(
        &'a self,
        def: &'a VendorDef,
        dev: &'a ProvDevice,
        firmware_file: Option<&str>,
    ) -> DeviceCtx<'a> {
        let model = dev.model.as_deref().unwrap_or_default();
        let common = self.common(def, model, self.language_of(dev), firmware_file);
        let base = self.urls.base_for(def);
        let mac = dev.mac.clone().unwrap_or_default();
        let name = shown_name(dev);
        DeviceCtx {
            mac_upper: mac.to_ascii_uppercase(),
            mac,
            account: Account {
                user: &dev.sip_username,
                auth_user: &dev.sip_username,
                password: &dev.sip_password,
                display_name: name,
                label: name,
            },
            sip: Sip {
                registrar: &self.sip_registrar,
                port: self.sip_port,
                transport: "udp",
                domain: &self.sip_registrar,
            },
            prov: Prov {
                username: dev.prov_username.as_deref().unwrap_or_default(),
                password: dev.prov_password.as_deref().unwrap_or_default(),
            },
            menu_url: format!("{base}/menu/{}/", dev.token),
            phonebook_url: format!("{base}/phonebook/{}/{}", dev.token, def.phonebook_file),
            provisioning_url: format!("{base}/prov"),
            common,
        }
    }

    pub fn phonebook<'a>(
        &self,
        entries: &'a [PhonebookLine],
        language: &'a str,
    ) -> PhonebookCtx<'a> {
        PhonebookCtx {
            entries,
            title: if language == "de" {
                "Telefonbuch"
            } else {
                "Phone book"
            },
            language,
        }
    }
}

fn tz_ctx(tz: &'static TimeZone) -> TzCtx {
    let rule = super::tzrule::Rule::parse(tz.posix);
    TzCtx {
        name: tz.name,
        offset_minutes: tz.offset_minutes,
        offset_hours: tz.offset_hours(),
        dst: tz.has_dst(),
        posix: tz.posix,
        std_abbr: rule.std_abbr,
        dst_abbr: rule.dst_abbr,
        dst_start: rule.start,
        dst_end: rule.end,
    }
}

/// The name on the phone: the user's for a directly assigned phone; at a workplace, the
/// logged-in user's, else the workplace's.
pub fn shown_name(dev: &ProvDevice) -> &str {
    dev.user_display
        .as_deref()
        .or(dev.guest_display.as_deref())
        .or(dev.workplace_display.as_deref())
        .unwrap_or(&dev.label)
}
