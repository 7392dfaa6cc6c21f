//! `cargo xtask`: the project's own automation.
//!
//! - `cargo xtask codegen [--check]`: the GenAI wire types from `spec/`.
//! - `cargo xtask bench`: end-to-end figures against the emulator, beside the
//!   official OCI Python SDK, written to `docs/perf.md`.
//! - `cargo xtask release <patch|minor|major|X.Y.Z> [--execute]`: checks,
//!   packages and (with `--execute`) bumps, tags and publishes.
//! - `cargo xtask ci`: formatting, clippy (`-D warnings`), stale generated
//!   code, docs (`-D warnings`), a build of `oci-auth` with no features, the
//!   dependency and layout checks, and every test; ends with one `N passed, N failed` line.
//! - `cargo xtask deps`: `oci-auth` without features pulls no runtime or HTTP
//!   stack; every license is allowed; duplicate versions listed.
//! - `cargo xtask layout`: no import cycle between a crate's files, no
//!   hand-written file over 400 lines of code.
//! - `cargo xtask man`: the man pages (`locus.1`, `locus-chat.1`, …) into
//!   `target/man`, from the same clap definition as the parser.
//! - `cargo xtask interop`: the official `openai` Python package (API key and
//!   OCI signing) against the emulator's OpenAI-compatible API.

mod bench;
mod codegen;
mod deps;
mod interop;
mod layout;
mod release;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("codegen") => codegen::run(&root(), args.iter().any(|a| a == "--check")),
        Some("bench") => bench::bench(&root()),
        Some("deps") => deps::deps(&root()),
        Some("interop") => interop::interop(&root()),
        Some("layout") => layout::layout(&root()),
        Some("man") => man(),
        Some("release") => match args.get(1) {
            Some(bump) => release::release(&root(), bump, args.iter().any(|a| a == "--execute"), ci),
            None => Err("usage: cargo xtask release <patch|minor|major|X.Y.Z> [--execute]".into()),
        },
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\ntasks:\n  ci                 fmt check, clippy, codegen check, docs, tests\n  \
                 codegen [--check]  regenerate (or check) the GenAI wire types\n  \
                 bench              end-to-end figures against the emulator, beside the OCI Python SDK (docs/perf.md)\n  \
                 release <bump>     check, package and publish (dry run unless --execute)\n  \
                 deps               dependency hygiene: oci-auth's tree, licenses, duplicates\n  \
                 layout             no import cycle between a crate's files, no long hand-written file\n  \
                 man                the man pages, into target/man (from the CLI's own definition)\n  \
                 interop            the official openai package against the emulator's /openai/v1"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The man pages, written by the `locus` binary's hidden `man` command.
fn man() -> Result<(), String> {
    let dir = root().join("target/man");
    step("man pages", cargo().args(["run", "-q", "-p", "locus-cli", "--bin", "locus", "--", "man"]).arg(&dir))
}

fn step(name: &str, command: &mut Command) -> Result<(), String> {
    eprintln!("\n==> {name}");
    let status = command.status().map_err(|e| format!("{name}: cannot run: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{name} failed ({status})")) }
}

fn ci() -> Result<(), String> {
    step("fmt", cargo().args(["fmt", "--all", "--check"]))?;
    eprintln!("\n==> codegen --check");
    codegen::run(&root(), true)?;
    step("clippy", cargo().args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]))?;
    step("oci-auth without features", cargo().args(["check", "-p", "oci-auth", "--no-default-features"]))?;
    step("oci-auth core tests", cargo().args(["test", "-q", "-p", "oci-auth", "--no-default-features", "--lib"]))?;
    eprintln!("\n==> dependencies");
    deps::deps(&root())?;
    eprintln!("\n==> layout");
    layout::layout(&root())?;
    step(
        "docs",
        cargo().args(["doc", "--workspace", "--no-deps", "--all-features"]).env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    tests()
}

/// Runs every test, echoing the output, and sums the `test result:` lines.
fn tests() -> Result<(), String> {
    eprintln!("\n==> tests");
    let mut child = cargo()
        .args(["test", "--workspace", "--all-features", "--no-fail-fast"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tests: cannot run: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count(rest, " passed");
                failed += count(rest, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("tests: {e}"))?;
    println!("\nxtask ci: {passed} passed, {failed} failed");
    if status.success() && failed == 0 { Ok(()) } else { Err(format!("tests failed ({status})")) }
}

/// The number before `label` in a `test result:` line.
fn count(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| {
            part.trim_start_matches(|c: char| !c.is_ascii_digit()).strip_suffix(label.trim_start()).map(str::trim)
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_test_result_lines() {
        let line = "ok. 39 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.04s";
        assert_eq!(super::count(line, " passed"), 39);
        assert_eq!(super::count(line, " failed"), 2);
    }
}
