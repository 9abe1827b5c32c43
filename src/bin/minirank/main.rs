//! `minirank` — two-stage semantic search from the command line (native builds only).
//!
//!     minirank search --docs FILE --query TEXT [--candidates 20] [--top-k 5] [--min-score S] [--json]
//!     minirank eval --collection DIR [--candidates 100] [--max-length 256] [--json]

#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod hub;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

/// The CLI reads files and spawns threads: on wasm32 there is nothing to run.
#[cfg(target_arch = "wasm32")]
fn main() {}
