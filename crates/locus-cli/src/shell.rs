//! `locus completions SHELL` and the man pages, from the same clap
//! definition as the parser, so they never drift from the flags.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory, ValueEnum};

use crate::error::{CliError, ExitCode};

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// Bash: `locus completions bash > ~/.local/share/bash-completion/completions/locus`.
    Bash,
    /// Zsh: `locus completions zsh > "${fpath[1]}/_locus"`.
    Zsh,
    /// Fish: `locus completions fish > ~/.config/fish/completions/locus.fish`.
    Fish,
    /// PowerShell: `locus completions powershell >> $PROFILE`.
    Powershell,
    /// Elvish.
    Elvish,
}

/// The arguments of `locus completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to `out`.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "locus", &mut script);
    out.write_all(&script)?;
    Ok(ExitCode::Ok)
}

/// The arguments of the hidden `locus man` (what `cargo xtask man` runs).
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory to write `locus.1` and one page per subcommand into.
    pub dir: PathBuf,
}

/// Writes `locus.1` and `locus-<command>.1` for every subcommand (and
/// theirs) into `args.dir`.
pub fn man(args: &ManArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    std::fs::create_dir_all(&args.dir)?;
    clap_mangen::generate_to(crate::Cli::command(), &args.dir)?;
    let written = std::fs::read_dir(&args.dir)?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "1"))
        .count();
    writeln!(out, "{written} man pages in {}", args.dir.display())?;
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands() {
        for shell in Shell::value_variants() {
            let mut out = Vec::new();
            completions(&CompletionsArgs { shell: *shell }, &mut out).unwrap();
            let script = String::from_utf8(out).unwrap();
            assert!(script.contains("doctor") && script.contains("compartment-id"), "{shell:?}");
        }
    }

    #[test]
    fn man_pages_are_written_for_the_command_and_each_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        man(&ManArgs { dir: dir.path().to_owned() }, &mut out).unwrap();
        let page = std::fs::read_to_string(dir.path().join("locus-chat.1")).unwrap();
        assert!(page.contains(".TH") && page.contains("compartment"), "{page}");
        assert!(dir.path().join("locus.1").exists());
    }
}
