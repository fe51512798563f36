//! The one integration-test binary: the real `zentrale` binary, real HTTP, real files.

mod call_records;
mod calls;
mod cli;
mod devices;
mod harness;
mod import;
mod import_hostile;
mod mail;
mod mail_crash;
mod menu;
mod mwi;
mod phone;
mod provisioning;
mod provisioning_tftp;
mod robustness;
mod roles;
mod sip;
mod sip_baresip;
mod sip_flood;
mod sip_rfc4475;
mod smtp;
mod team_calls;
mod teams;
mod tftp;
mod trunks;
mod users;
