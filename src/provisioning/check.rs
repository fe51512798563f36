//! Renders every template once with a sample device, so a broken override (an undefined
//! variable, a typo in a tag) is reported by `zentrale check` and at start, not to a phone.

use super::ProvisioningError;
use super::context::{Site, Urls};
use super::manifest::{Catalog, FileKind};
use super::render::Renderer;
use crate::config::Config;
use crate::store::provisioning::{PhonebookLine, ProvDevice};
use crate::store::{DeviceKind, ProvState, Vendor};

/// A device as a template sees one; the values are samples, not anyone's secrets.
pub fn sample_device(vendor: Vendor, display_name: &str) -> ProvDevice {
    ProvDevice {
        id: 7,
        kind: DeviceKind::IpPhone,
        mac: Some("001565aabbcc".into()),
        vendor: Some(vendor),
        model: Some("M1".into()),
        label: "Desk phone".into(),
        sip_username: "sipuser7".into(),
        sip_password: "SipSecret7".into(),
        prov_username: Some("provuser7".into()),
        prov_password: Some("ProvSecret7".into()),
        token: "0123456789abcdef0123456789abcdef".into(),
        prov_state: ProvState::Provisioned,
        enroll_until: None,
        user_name: Some("anna".into()),
        user_display: Some(display_name.into()),
        user_language: Some("de".into()),
        user_extension: Some("100".into()),
        workplace: None,
        workplace_display: None,
        guest_display: None,
        guest_language: None,
        guest_extension: None,
        user_id: Some(3),
        workplace_id: None,
        guest_id: None,
    }
}

pub fn sample_phonebook(name: &str) -> Vec<PhonebookLine> {
    vec![
        PhonebookLine {
            name: name.into(),
            number: "100".into(),
            company: String::new(),
        },
        PhonebookLine {
            name: "Zentrale".into(),
            number: "+4930123456".into(),
            company: "ACME & Söhne".into(),
        },
    ]
}

/// Every file of every vendor rendered from the samples: (vendor, template, text); a bootstrap
/// is named `<template>.tftp`.
pub fn render_samples(
    catalog: &Catalog,
    renderer: &Renderer,
    site: &Site,
    display_name: &str,
) -> Result<Vec<(Vendor, String, String)>, ProvisioningError> {
    let mut out = Vec::new();
    for def in &catalog.vendors {
        let dev = sample_device(def.vendor, display_name);
        for f in &def.files {
            let text = match f.kind {
                FileKind::Device => renderer.render(
                    def.vendor,
                    &f.template,
                    &site.device(def, &dev, Some("fw.rom")),
                )?,
                FileKind::Common => renderer.render(
                    def.vendor,
                    &f.template,
                    &site.common(def, "M1", "de", Some("fw.rom")),
                )?,
            };
            out.push((def.vendor, f.template.clone(), text));
            if let Some(b) = &f.bootstrap {
                let text = renderer.render(def.vendor, b, &site.common(def, "", "de", None))?;
                out.push((def.vendor, format!("{b}.tftp"), text));
            }
        }
        let entries = sample_phonebook(display_name);
        let text = renderer.render(
            def.vendor,
            &def.phonebook.template,
            &site.phonebook(&entries, "de"),
        )?;
        out.push((def.vendor, def.phonebook.template.clone(), text));
    }
    Ok(out)
}

/// Loads the catalog with the admin's overrides and renders every template once; the daemon
/// serves from what this returns, so nothing unchecked reaches a phone.
pub fn check_templates(config: &Config) -> Result<(Catalog, Renderer), ProvisioningError> {
    let catalog = Catalog::load(Some(&config.server.data_dir.join("templates")))?;
    let renderer = Renderer::new(&catalog)?;
    let https = config.http.https_listen.map(|a| a.port());
    let urls = Urls::new(&config.server.public_host, config.http.listen.port(), https);
    let site = Site::new(config, urls);
    render_samples(&catalog, &renderer, &site, "Anna Schmidt")?;
    Ok((catalog, renderer))
}
