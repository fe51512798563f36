//! The `zentrale` binary: parse the command line, set up logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use zentrale::cli::{Cli, Command, load_config};
use zentrale::config::Config;

/// See Cargo.toml: glibc's malloc was a third of the SIP thread's time under load.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The import's reading child: no runtime, no logging, limits first.
    if matches!(cli.command, Command::ImportRead) {
        return zentrale::import::child_main();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Check(arg) => check(arg.config.as_deref()),
        command => match run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("zentrale: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn check(path: Option<&std::path::Path>) -> ExitCode {
    let result = match path {
        Some(p) => Config::load(p),
        None => Ok(Config::default()),
    };
    match result {
        Ok(config) => match zentrale::provisioning::check::check_templates(&config)
            .map_err(|e| e.to_string())
            .and_then(|_| zentrale::mail::check(&config).map_err(|e| e.to_string()))
        {
            Ok(()) => {
                println!("config ok");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            for problem in e.problems() {
                eprintln!("{problem}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            Command::Serve(arg) => {
                let config = load_config(&arg)?;
                if arg.config.is_none() {
                    let https = config.http.https_listen.map(|a| a.to_string());
                    println!(
                        "no config file: embedded defaults, data in {}, HTTP {}, HTTPS {}, TFTP {}, SIP {} (UDP and TCP)",
                        config.server.data_dir.display(),
                        config.http.listen,
                        https.as_deref().unwrap_or("off"),
                        config.tftp.listen,
                        config.sip.listen,
                    );
                }
                zentrale::app::serve(config, CancellationToken::new()).await
            }
            other => zentrale::cli::run_offline(other).await,
        }
    })
}
