//! `cargo xtask release <patch|minor|major|X.Y.Z> [--execute]`.
//!
//! A dry run (the default) checks a clean tree and a green `cargo xtask ci`,
//! shows the version bump and the changelog section it would write, runs
//! `cargo semver-checks` when installed, and `cargo publish --workspace
//! --dry-run` (which packages every crate and publishes them in dependency
//! order). `--execute` also writes the bump and the changelog, commits, tags
//! `vX.Y.Z` and publishes.

use std::path::Path;
use std::process::Command;

/// The crates, in the order they are published (each depends only on earlier ones).
pub const PUBLISH_ORDER: &[&str] =
    &["oci-auth", "oci-genai-transport", "locus-providers", "locus-agent", "oci-genai-emulator", "locus-cli"];

/// The next version after `current` for `bump` (`patch`, `minor`, `major` or an explicit `X.Y.Z`).
pub fn next_version(current: &str, bump: &str) -> Result<String, String> {
    let parse = |v: &str| -> Result<(u64, u64, u64), String> {
        let parts: Vec<u64> =
            v.split('.').map(|p| p.parse().map_err(|_| format!("`{v}` is not X.Y.Z"))).collect::<Result<_, _>>()?;
        match parts[..] {
            [major, minor, patch] => Ok((major, minor, patch)),
            _ => Err(format!("`{v}` is not X.Y.Z")),
        }
    };
    let (major, minor, patch) = parse(current)?;
    let next = match bump {
        "patch" => (major, minor, patch + 1),
        "minor" => (major, minor + 1, 0),
        "major" => (major + 1, 0, 0),
        explicit => {
            let next = parse(explicit)?;
            if next <= (major, minor, patch) {
                return Err(format!("{explicit} is not after {current}"));
            }
            next
        }
    };
    Ok(format!("{}.{}.{}", next.0, next.1, next.2))
}

/// The workspace version in the root manifest.
pub fn current_version(manifest: &str) -> Result<String, String> {
    let section = manifest.split("[workspace.package]").nth(1).ok_or("no [workspace.package]")?;
    section
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = \"").and_then(|v| v.strip_suffix('"')))
        .map(str::to_owned)
        .ok_or_else(|| "no version in [workspace.package]".into())
}

/// The root manifest with the workspace version and our crates' dependency versions set to `next`.
pub fn bump_manifest(manifest: &str, current: &str, next: &str) -> String {
    let old = format!("version = \"{current}\"");
    let new = format!("version = \"{next}\"");
    let mut in_package = false;
    manifest
        .lines()
        .map(|line| {
            if line.starts_with('[') {
                in_package = line.trim() == "[workspace.package]";
            }
            let ours = PUBLISH_ORDER.iter().any(|c| line.starts_with(&format!("{c} = {{")));
            if (in_package && line.trim() == old) || ours { line.replace(&old, &new) } else { line.to_owned() }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if manifest.ends_with('\n') { "\n" } else { "" }
}

/// The changelog with the Unreleased section moved under `version` and `date`.
pub fn release_changelog(changelog: &str, version: &str, date: &str) -> Result<String, String> {
    const UNRELEASED: &str = "## [Unreleased]";
    if !changelog.contains(UNRELEASED) {
        return Err("CHANGELOG.md has no `## [Unreleased]` section".into());
    }
    Ok(changelog.replacen(UNRELEASED, &format!("{UNRELEASED}\n\n## [{version}] - {date}"), 1))
}

fn output(command: &mut Command) -> Result<String, String> {
    let out = command.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn release(root: &Path, bump: &str, execute: bool, ci: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let git = |args: &[&str]| output(Command::new("git").current_dir(root).args(args));
    if !git(&["status", "--porcelain"])?.trim().is_empty() {
        return Err("the working tree is not clean: commit or stash first".into());
    }
    ci()?;
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| e.to_string())?;
    let current = current_version(&manifest)?;
    let next = next_version(&current, bump)?;
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"]))?.trim().to_owned();
    let changelog_path = root.join("CHANGELOG.md");
    let changelog =
        release_changelog(&std::fs::read_to_string(&changelog_path).map_err(|e| e.to_string())?, &next, &date)?;
    eprintln!("release {current} -> {next} ({date})");
    eprintln!("publish order: {}", PUBLISH_ORDER.join(" -> "));

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    match Command::new(&cargo).args(["semver-checks", "--version"]).output() {
        Ok(out) if out.status.success() => {
            let status = Command::new(&cargo).current_dir(root).args(["semver-checks", "--workspace"]).status();
            if !status.is_ok_and(|s| s.success()) {
                eprintln!("note: cargo semver-checks reported problems (or found no published baseline)");
            }
        }
        _ => eprintln!("note: cargo semver-checks is not installed; skipped (cargo install cargo-semver-checks)"),
    }
    eprintln!("==> cargo publish --workspace --dry-run");
    let status =
        Command::new(&cargo).current_dir(root).args(["publish", "--workspace", "--dry-run", "--allow-dirty"]).status();
    if !status.is_ok_and(|s| s.success()) {
        return Err("cargo publish --dry-run failed".into());
    }
    if !execute {
        eprintln!("dry run: nothing written; run again with --execute to bump, tag and publish");
        return Ok(());
    }
    std::fs::write(&manifest_path, bump_manifest(&manifest, &current, &next)).map_err(|e| e.to_string())?;
    std::fs::write(&changelog_path, changelog).map_err(|e| e.to_string())?;
    output(Command::new(&cargo).current_dir(root).args(["update", "--workspace"]))?;
    git(&["commit", "-am", &format!("Release {next}")])?;
    git(&["tag", &format!("v{next}")])?;
    let status = Command::new(&cargo).current_dir(root).args(["publish", "--workspace"]).status();
    if status.is_ok_and(|s| s.success()) { Ok(()) } else { Err("cargo publish failed".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(next_version("0.1.0", "patch").unwrap(), "0.1.1");
        assert_eq!(next_version("0.1.9", "minor").unwrap(), "0.2.0");
        assert_eq!(next_version("0.9.3", "major").unwrap(), "1.0.0");
        assert_eq!(next_version("0.1.0", "0.3.0").unwrap(), "0.3.0");
        assert!(next_version("0.1.0", "0.1.0").is_err());
        assert!(next_version("0.1.0", "banana").is_err());
    }

    /// The real manifest and changelog, bumped in memory (a temporary copy of their text).
    #[test]
    fn bumps_the_real_manifest_and_changelog() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let current = current_version(&manifest).unwrap();
        let next = next_version(&current, "patch").unwrap();
        let bumped = bump_manifest(&manifest, &current, &next);
        assert_eq!(current_version(&bumped).unwrap(), next);
        for krate in PUBLISH_ORDER.iter().filter(|c| **c != "locus-cli") {
            let line = bumped.lines().find(|l| l.starts_with(&format!("{krate} = {{"))).unwrap();
            assert!(line.contains(&format!("version = \"{next}\"")), "{line}");
        }
        // Nothing else changed: third-party versions stay.
        assert_eq!(bumped.lines().count(), manifest.lines().count());
        assert!(bumped.contains("ring = \"0.17\""));

        let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
        let released = release_changelog(&changelog, &next, "2026-11-25").unwrap();
        let unreleased = released.find("## [Unreleased]").unwrap();
        let section = released.find(&format!("## [{next}] - 2026-11-25")).unwrap();
        assert!(unreleased < section);
        assert!(released[section..].contains("### Added"));
        assert!(release_changelog("# no sections\n", "1.0.0", "d").is_err());
    }

    #[test]
    fn the_publish_order_follows_dependencies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for (position, krate) in PUBLISH_ORDER.iter().enumerate() {
            let path = root.join("crates").join(krate).join("Cargo.toml");
            let manifest = std::fs::read_to_string(&path).unwrap();
            let deps = manifest.split("[dev-dependencies]").next().unwrap();
            for later in &PUBLISH_ORDER[position + 1..] {
                assert!(
                    !deps.lines().any(|l| l.starts_with(&format!("{later} = ")) || l.starts_with(&format!("{later}."))),
                    "{krate} depends on {later}"
                );
            }
        }
    }
}
