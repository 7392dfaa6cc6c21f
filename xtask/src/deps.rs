//! `cargo xtask deps` (part of `ci`): dependency hygiene without extra tools.
//!
//! - `oci-auth` with no features pulls no async runtime and no HTTP stack;
//! - every dependency's license allows our `UPL-1.0 OR Apache-2.0` release;
//! - duplicate versions in the tree are listed (for information).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Licenses whose terms fit a UPL-1.0/Apache-2.0 release.
const ALLOWED: &[&str] = &[
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "CC0-1.0",
    "UPL-1.0",
    "BSL-1.0",
    "CDLA-Permissive-2.0",
    "0BSD",
];

/// Crates `oci-auth` must not pull in without features (no runtime, no HTTP
/// stack, and none of the principals' certificate or key-generation code).
const NOT_IN_OCI_AUTH: &[&str] = &["tokio", "reqwest", "hyper", "hyper-util", "h2", "x509-parser", "rsa", "futures"];

/// Whether an SPDX expression (or an old `A/B` form) allows use under the allow list.
pub fn license_ok(expression: &str) -> bool {
    let normalised = expression.replace(['(', ')'], " ").replace(" / ", " OR ").replace('/', " OR ");
    normalised.split(" OR ").any(|alternative| {
        alternative.split(" AND ").all(|part| {
            let part = part.trim();
            ALLOWED.contains(&part) || part.split(" WITH ").next().is_some_and(|base| ALLOWED.contains(&base.trim()))
        })
    })
}

fn output(root: &Path, args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo).current_dir(root).args(args).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn deps(root: &Path) -> Result<(), String> {
    let tree = output(root, &["tree", "-p", "oci-auth", "--no-default-features", "-e", "normal", "--prefix", "none"])?;
    let names: BTreeSet<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let banned: Vec<&&str> = NOT_IN_OCI_AUTH.iter().filter(|n| names.contains(**n)).collect();
    if !banned.is_empty() {
        return Err(format!("oci-auth without features depends on {banned:?}"));
    }
    eprintln!("oci-auth without features: {} crates, none of {NOT_IN_OCI_AUTH:?}", names.len());

    let metadata: serde_json::Value =
        serde_json::from_str(&output(root, &["metadata", "--format-version", "1"])?).map_err(|e| e.to_string())?;
    let mut refused = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let license = package["license"].as_str().unwrap_or("");
        if !license_ok(license) {
            refused.push(format!(
                "{} {} ({license})",
                package["name"].as_str().unwrap_or("?"),
                package["version"].as_str().unwrap_or("?")
            ));
        }
    }
    if !refused.is_empty() {
        return Err(format!("licenses outside the allow list: {}", refused.join(", ")));
    }
    eprintln!("licenses: all {} packages allowed", metadata["packages"].as_array().map_or(0, Vec::len));

    let duplicates = output(root, &["tree", "-d", "--workspace", "-e", "normal", "--prefix", "none", "--depth", "0"])?;
    let mut seen = BTreeSet::new();
    for line in duplicates.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(name) = line.split_whitespace().next() {
            seen.insert(name.to_owned());
        }
    }
    if !seen.is_empty() {
        eprintln!("note: crates present in more than one version: {}", seen.into_iter().collect::<Vec<_>>().join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::license_ok;

    #[test]
    fn license_expressions() {
        for ok in [
            "MIT OR Apache-2.0",
            "MIT/Apache-2.0",
            "Apache-2.0 / MIT",
            "(MIT OR Apache-2.0) AND Unicode-3.0",
            "Apache-2.0 AND ISC",
            "Apache-2.0 WITH LLVM-exception OR MIT",
            "MIT OR Apache-2.0 OR LGPL-2.1-or-later",
        ] {
            assert!(license_ok(ok), "{ok}");
        }
        for bad in ["GPL-3.0", "LGPL-2.1-or-later", "MIT AND GPL-2.0", ""] {
            assert!(!license_ok(bad), "{bad}");
        }
    }
}
