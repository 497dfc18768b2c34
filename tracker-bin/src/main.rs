//! # octotracker
//!
//! The binary: `octotracker` serves (HTTP on 0.0.0.0:6969, memory backend, unless told
//! otherwise); `octotracker announce` / `octotracker scrape` talk to any HTTP tracker;
//! `octotracker load` drives one with a simulated swarm; `octotracker torrent create|info` makes
//! and reads .torrent files.
//! This is the only place that reads files, flags and the environment.

mod access_files;
mod admin_endpoint;
mod admin_stores;
mod backend;
mod cli;
mod client_commands;
mod event_stream;
mod hash_progress;
mod https;
mod keys_command;
mod listen;
mod load_command;
mod metrics_endpoint;
mod serve;
mod side_listener;
mod tls;
mod torrent_commands;
mod transfers;
mod ws_load;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

// The configuration lives in its own crate (octotracker-config); these keep `crate::config` and
// `crate::settings` paths working across the binary.
use octotracker_config::{config, settings};

use crate::cli::{Cli, Command, ServeArgs};

// ALLOCATOR: every connection allocates a few small blocks (hyper's state and buffers, tokio's
// I/O registration, which is 128-byte aligned), and glibc's aligned allocation alone cost about
// a thousand instructions per connection. mimalloc serves all of them from per-thread pages.
// Figures: docs/benchmarks.md, "Connection per request: counts".
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::config::Config;
use crate::settings::Settings;

/// How the binary ends when it does not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The operator's input is wrong (flags, config, addresses): exit code 2.
    Usage(String),
    /// Something failed at run time (a backend unreachable, a transport error): exit code 1.
    Runtime(String),
    /// The outcome was already printed (a tracker's failure reply): exit code 1.
    Reported,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Announce(args)) => runtime().and_then(|rt| rt.block_on(client_commands::announce(args))),
        Some(Command::Scrape(args)) => runtime().and_then(|rt| rt.block_on(client_commands::scrape(args))),
        Some(Command::Load(args)) => load_command::run(args),
        Some(Command::Torrent(command)) => torrent_commands::run(command),
        Some(Command::Keys(command)) => {
            load_settings(&cli.serve).and_then(|s| runtime()?.block_on(keys_command::run(&s, command)))
        }
        Some(Command::Serve) | None => run_server(&cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("octotracker: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("octotracker: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Reported) => ExitCode::from(1),
    }
}

fn run_server(args: &ServeArgs) -> Result<(), Failure> {
    if args.print_config {
        print!("{}", config::TEMPLATE);
        return Ok(());
    }
    let settings = load_settings(args)?;
    init_logging(&settings.log_level)?;
    runtime()?.block_on(serve::serve(settings))
}

/// The configuration file (if any) with the environment and flags laid over it, checked.
fn load_settings(args: &ServeArgs) -> Result<Settings, Failure> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("cannot read config {}: {e}", path.display())))?;
            Config::from_toml(&text).map_err(|e| Failure::Usage(format!("invalid config {}: {e}", path.display())))?
        }
        None => Config::default(),
    };
    args.apply(&mut config);
    Settings::from_config(&config).map_err(Failure::Usage)
}

fn init_logging(level: &str) -> Result<(), Failure> {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(env),
        _ => EnvFilter::try_new(level),
    }
    .map_err(|e| Failure::Usage(format!("invalid log filter: {e}")))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))
}
