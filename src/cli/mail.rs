//! `zentrale mail queue|retry|delete|test`: the mail spool from the command line. Works on the
//! spool directory itself, with or without a running daemon; a running one picks the changes
//! up within a second.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{ConfigArg, load_config, print};
use crate::clock::UnixTime;
use crate::mail::{MailHandle, templates};
use crate::spool::{Address, Attachment, Id, Kind, Message};

#[derive(Debug, Subcommand)]
pub enum MailCmd {
    /// List the queue: state, attempts, next try, last error of every entry.
    Queue(ConfigArg),
    /// Send an entry again now.
    Retry {
        id: u64,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Remove an entry and its files.
    Delete {
        id: u64,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Queue a test mail; prints the id of each queued message once it is on disk.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[arg(long)]
    to: String,
    /// Attach a copy of this file.
    #[arg(long)]
    attach: Option<PathBuf>,
    /// How many messages (for tests and benchmarks).
    #[arg(long, default_value_t = 1, hide = true)]
    count: u32,
    /// Compose the voicemail mail with this caller name instead (for tests).
    #[arg(long, hide = true)]
    caller_name: Option<String>,
    #[arg(long, hide = true, default_value = "")]
    caller_number: String,
    /// The recipient's display name.
    #[arg(long, hide = true)]
    to_name: Option<String>,
    /// Keep the entry after delivery, as for an owner who keeps voicemails.
    #[arg(long, hide = true)]
    keep: bool,
    #[command(flatten)]
    config: ConfigArg,
}

pub async fn run(cmd: MailCmd) -> anyhow::Result<()> {
    match cmd {
        MailCmd::Queue(config) => {
            let mail = MailHandle::open(&load_config(&config)?)?;
            print(&mail.list()?)
        }
        MailCmd::Retry { id, config } => {
            let mail = MailHandle::open(&load_config(&config)?)?;
            let status = mail.retry(Id(id))?;
            mail.spool.kick()?;
            print(&status.state)
        }
        MailCmd::Delete { id, config } => {
            let mail = MailHandle::open(&load_config(&config)?)?;
            mail.delete(Id(id))?;
            mail.spool.kick()?;
            println!("deleted {id}");
            Ok(())
        }
        MailCmd::Test(args) => test(args).await,
    }
}

async fn test(args: TestArgs) -> anyhow::Result<()> {
    let config = load_config(&args.config)?;
    let mail = MailHandle::open(&config)?;
    let mut out = std::io::stdout().lock();
    for n in 0..args.count {
        let now = UnixTime::now();
        let mut message = match &args.caller_name {
            Some(name) => voicemail(&mail, &config.server.language, name, &args.caller_number)?,
            None => test_message(&mail, &config.server.public_host, now)?,
        };
        message.to = Address {
            email: args.to.clone(),
            name: args.to_name.clone(),
        };
        message.keep = args.keep;
        if let Some(file) = &args.attach {
            message.attachments.push(copy_in(&mail, file, n)?);
        }
        let id = mail.spool.enqueue(message, now).await?;
        writeln!(out, "{id}")?;
        out.flush()?;
    }
    Ok(())
}

fn test_message(mail: &MailHandle, host: &str, now: UnixTime) -> anyhow::Result<Message> {
    let ctx = minijinja::context! { server => host, time => crate::mail::format_utc(now) };
    let text = mail.templates().render("", "test", &ctx)?;
    Ok(message(Kind::Test, text))
}

fn voicemail(mail: &MailHandle, lang: &str, name: &str, number: &str) -> anyhow::Result<Message> {
    let facts = templates::VoicemailFacts {
        caller_name: name.to_owned(),
        caller_number: number.to_owned(),
        ..templates::sample_voicemail()
    };
    let text = mail.templates().render(lang, "voicemail", &facts)?;
    Ok(message(Kind::Voicemail, text))
}

fn message(kind: Kind, text: crate::mail::Rendered) -> Message {
    Message {
        kind,
        to: Address {
            email: String::new(),
            name: None,
        },
        subject: text.subject,
        body: text.body,
        attachments: Vec::new(),
        keep: false,
        reference: None,
    }
}

/// A durable copy of `file` in the spool's `incoming/`, as voicemail and fax write theirs.
fn copy_in(mail: &MailHandle, file: &std::path::Path, n: u32) -> anyhow::Result<Attachment> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .context("--attach needs a file name")?;
    let path = mail
        .spool
        .incoming_dir()
        .join(format!("cli-{}-{n}-{name}", std::process::id()));
    let mut src = std::fs::File::open(file).with_context(|| format!("{}", file.display()))?;
    let mut dst = std::fs::File::create(&path)?;
    let copied = std::io::copy(&mut src, &mut dst).and_then(|_| dst.sync_all());
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&path);
        return Err(crate::spool::SpoolError::from_io(&path, e).into());
    }
    let content_type = match name.rsplit('.').next() {
        Some("wav") => "audio/wav",
        Some("pdf") => "application/pdf",
        Some("tif" | "tiff") => "image/tiff",
        _ => "application/octet-stream",
    };
    Ok(Attachment {
        path,
        filename: name.to_owned(),
        content_type: content_type.into(),
    })
}
