//! The `zentrale` command line. Subcommands other than `serve` and `check` work offline on the
//! store through the same [`Store`] operations as the API: same validation, same side effects.
//! Results print as JSON, like the API returns them.

mod import;
mod mail;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::config::Config;
use crate::store::secret::Secret;
use crate::store::{
    Auth, DeviceKind, NewAdmin, NewDevice, NewUser, NewWorkplace, Role, Store, Vendor,
    VoicemailMode,
};

#[derive(Debug, Parser)]
#[command(name = "zentrale", version, about = "Phone system appliance daemon")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Config file (TOML); the embedded defaults when absent.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon.
    Serve(ConfigArg),
    /// Check a config file, print every problem, exit non-zero on any.
    Check(ConfigArg),
    /// Admin accounts.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Users [Benutzer].
    #[command(subcommand)]
    User(UserCmd),
    /// Devices [Endgeräte].
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Workplaces [Arbeitsplätze].
    #[command(subcommand)]
    Workplace(WorkplaceCmd),
    /// Import users, phones, workplaces, phonebook, speed dials and action templates from an
    /// xlsx file, or write the template (`--template FILE`).
    Import(ImportArgs),
    /// The mail queue: list, retry, delete, send a test mail.
    #[command(subcommand)]
    Mail(mail::MailCmd),
    /// Reads an xlsx file from stdin under memory and time limits (the import's child process).
    #[command(name = "import-read", hide = true)]
    ImportRead,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The xlsx file to import.
    #[arg(required_unless_present = "template", conflicts_with = "template")]
    file: Option<PathBuf>,
    /// Write the template to this file instead of importing.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
    /// With --template: fill it with what the store holds (passwords and PINs stay empty).
    #[arg(long, requires = "template")]
    with_data: bool,
    /// Check every row and print the plan; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also delete what the file's sheets (those with rows) do not list; needs --yes.
    #[arg(long)]
    prune: bool,
    /// Confirm the deletions of --prune.
    #[arg(long)]
    yes: bool,
    /// Replace passwords and PINs users already have with the file's.
    #[arg(long)]
    reset_secrets: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// List every change, not only the counts (a dry run always does).
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Create an admin account (works with the daemon stopped).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Quick-create a user.
    Add(Box<UserAdd>),
    List(ConfigArg),
    Show {
        username: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    Delete {
        username: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long)]
    username: String,
    #[arg(long)]
    display_name: String,
    #[arg(long)]
    extension: Option<String>,
    #[arg(long, value_enum, default_value = "local")]
    auth: AuthArg,
    #[arg(long)]
    password: Option<String>,
    #[arg(long)]
    pin: Option<String>,
    #[arg(long)]
    fax_extension: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    language: Option<String>,
    #[arg(long, value_enum, default_value = "none")]
    voicemail: VoicemailArg,
    #[arg(long)]
    softphone: bool,
    #[arg(long)]
    mobile_number: Option<String>,
    #[arg(long, value_parser = parse_role)]
    role: Option<Role>,
    #[arg(long)]
    action_template: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    Add(DeviceAdd),
    List(ConfigArg),
}

#[derive(Debug, Args)]
pub struct DeviceAdd {
    #[arg(long, value_parser = parse_kind)]
    kind: DeviceKind,
    #[arg(long)]
    mac: Option<String>,
    #[arg(long, value_parser = parse_vendor)]
    vendor: Option<Vendor>,
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    number: Option<String>,
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    workplace: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, Subcommand)]
pub enum WorkplaceCmd {
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
    },
    List(ConfigArg),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AuthArg {
    Local,
    Ldap,
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum VoicemailArg {
    None,
    External,
    Internal,
    All,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("one of: {}", names(Role::ALL)))
}
fn parse_kind(s: &str) -> Result<DeviceKind, String> {
    DeviceKind::parse(s).ok_or_else(|| format!("one of: {}", names(DeviceKind::ALL)))
}
fn parse_vendor(s: &str) -> Result<Vendor, String> {
    Vendor::parse(s).ok_or_else(|| format!("one of: {}", names(Vendor::ALL)))
}
fn names<T: std::fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl DeviceAdd {
    fn into_new(self) -> NewDevice {
        NewDevice {
            kind: Some(self.kind),
            mac: self.mac,
            vendor: self.vendor,
            model: self.model,
            label: self.label,
            number: self.number,
            user: self.user,
            workplace: self.workplace,
            sip_password: None,
        }
    }
}

/// Loads the config named by `--config`, or the embedded defaults.
pub fn load_config(arg: &ConfigArg) -> anyhow::Result<Config> {
    match &arg.config {
        Some(path) => {
            Config::load(path).map_err(|e| anyhow::anyhow!("{}", e.problems().join("\n")))
        }
        None => Ok(Config::default()),
    }
}

fn print<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).context("printing JSON")?
    );
    Ok(())
}

async fn store(arg: &ConfigArg) -> anyhow::Result<Store> {
    crate::app::open_store(&load_config(arg)?).await
}

/// Runs an offline subcommand (everything but `serve` and `check`).
pub async fn run_offline(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Admin(AdminCmd::Create {
            username,
            password,
            role,
            config,
        }) => {
            let new = NewAdmin {
                username,
                password: Secret::new(password),
                role,
            };
            print(&store(&config).await?.create_admin(new).await?)
        }
        Command::User(cmd) => user(cmd).await,
        Command::Device(cmd) => device(cmd).await,
        Command::Workplace(WorkplaceCmd::Add {
            name,
            display_name,
            config,
        }) => {
            let new = NewWorkplace {
                name,
                display_name,
                ..Default::default()
            };
            print(&store(&config).await?.create_workplace(new).await?)
        }
        Command::Workplace(WorkplaceCmd::List(config)) => {
            print(&store(&config).await?.workplaces().await?)
        }
        Command::Import(args) => import::run(args).await,
        Command::Mail(cmd) => mail::run(cmd).await,
        Command::Serve(_) | Command::Check(_) | Command::ImportRead => {
            unreachable!("handled by main")
        }
    }
}

async fn user(cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add(add) => {
            let store = store(&add.config).await?;
            let new = NewUser {
                username: add.username,
                display_name: add.display_name,
                extension: add.extension,
                auth: Some(match add.auth {
                    AuthArg::Local => Auth::Local,
                    AuthArg::Ldap => Auth::Ldap,
                    AuthArg::None => Auth::None,
                }),
                password: add.password.map(Secret::new),
                pin: add.pin.map(Secret::new),
                fax_extension: add.fax_extension,
                email: add.email,
                language: add.language,
                voicemail: Some(match add.voicemail {
                    VoicemailArg::None => VoicemailMode::None,
                    VoicemailArg::External => VoicemailMode::External,
                    VoicemailArg::Internal => VoicemailMode::Internal,
                    VoicemailArg::All => VoicemailMode::All,
                }),
                softphone: add.softphone,
                mobile_number: add.mobile_number,
                role: add.role,
                action_template: add.action_template,
            };
            print(&store.create_user(new).await?)
        }
        UserCmd::List(config) => print(&store(&config).await?.users().await?),
        UserCmd::Show { username, config } => print(&store(&config).await?.user(&username).await?),
        UserCmd::Delete { username, config } => {
            store(&config).await?.delete_user(&username).await?;
            println!("deleted {username}");
            Ok(())
        }
    }
}

async fn device(cmd: DeviceCmd) -> anyhow::Result<()> {
    match cmd {
        DeviceCmd::Add(add) => {
            let store = store(&add.config).await?;
            print(&store.create_device(add.into_new()).await?)
        }
        DeviceCmd::List(config) => print(&store(&config).await?.devices().await?),
    }
}
