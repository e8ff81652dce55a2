//! The `slotsim` binary: parse, run, print `Error: ...` and exit 0, 1 or 2.

use clap::Parser;
use slotsim::cli::{execute_leaving, Cli};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Usage errors exit 2; --help and --version print and exit 0.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match execute_leaving(cli) {
        // The command has written, published and printed everything (its output is
        // flushed): what it still holds is left to the operating system, which takes the
        // whole process's memory back at once on exit, instead of being freed allocation by
        // allocation first (a measurable part of a large sweep's run). Only here, at the
        // top of the program, is that safe: nothing runs after it but the exit.
        Ok(leftovers) => std::mem::forget(leftovers),
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
