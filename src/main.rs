//! The `slotsim` binary: parse, run, print `Error: ...` and exit 0, 1 or 2.

use clap::Parser;
use slotsim::cli::{execute, Cli};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Usage errors exit 2; --help and --version print and exit 0.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Err(e) = execute(cli) {
        eprintln!("Error: {e}");
        std::process::exit(e.exit_code());
    }
}
