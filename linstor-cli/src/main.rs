//! `linstor`: parses the command line, runs the command, exits with LINSTOR's exit codes.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use clap::Parser as _;
use linstor_cli::args::Cli;
use linstor_cli::client::Client;
use linstor_cli::cmd::{self, Ctx};
use linstor_cli::error::{CliError, exit};
use linstor_cli::table::Style;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ARGPARSE_ERROR
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(run(cli));
}

fn run(cli: Cli) -> i32 {
    let color =
        !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
    let env = std::env::var("LS_CONTROLLERS").ok();
    let controllers = match linstor_cli::conf::resolve(
        cli.controllers.as_deref(),
        env.as_deref(),
        &linstor_cli::conf::config_paths(),
    ) {
        Ok(c) => c,
        Err(e) => return fail(&e, color),
    };
    let ctx = Ctx {
        client: Client::new(controllers.urls, Duration::from_secs(cli.timeout.max(1))),
        machine: cli.machine,
        style: Style {
            utf8: !cli.no_utf8 && utf8_terminal(),
            color,
        },
    };
    match cmd::run(&ctx, cli.object) {
        Ok(code) => code,
        Err(e) => fail(&e, color),
    }
}

/// Box-drawing frames only where they show: a terminal whose locale is UTF-8 (pipes and
/// files get ASCII, as LINBIT's client gives them).
fn utf8_terminal() -> bool {
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default()
        .to_ascii_uppercase();
    std::io::stdout().is_terminal() && (locale.contains("UTF-8") || locale.contains("UTF8"))
}

/// Prints an error as ERROR / correction on stderr and returns its exit code.
fn fail(e: &CliError, color: bool) -> i32 {
    let head = if color {
        "\x1b[1;31mERROR:\x1b[0m"
    } else {
        "ERROR:"
    };
    let text = format!("{head}\n    {e}\nCorrection:\n    {}\n", e.correction());
    let _ = std::io::stderr().write_all(text.as_bytes());
    e.exit_code()
}
