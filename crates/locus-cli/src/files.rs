//! Files only the user may read, written so that nothing planted by
//! another user of the machine is followed: temporary files are created
//! new under a random name (`O_CREAT|O_EXCL` never follows a symlink) and
//! renamed over the target (a rename replaces a link, never writes through
//! it); a directory reached through a symlink is used but not chmod-ed.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Makes `dir` (and its parents), readable only by the user — unless it is
/// a symlink, whose target's permissions are its owner's business.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    if std::fs::symlink_metadata(dir)?.file_type().is_dir() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// A new directory `<parent>/<prefix><random>`, `0700`; never one that existed.
pub fn new_private_dir(parent: &Path, prefix: &str) -> std::io::Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    loop {
        let dir = parent.join(format!("{prefix}{}", random_hex(8)));
        match builder.create(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            other => return other.map(|()| dir),
        }
    }
}

/// Replaces `path` with `bytes`, readable only by the user: written whole
/// to a new file beside it, then renamed over it.
pub fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (partial, mut file) = loop {
        let partial = path.with_file_name(format!(".{name}.{}.partial", random_hex(8)));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&partial) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            other => break (partial.clone(), other?),
        }
    };
    let written = file.write_all(bytes).and_then(|()| file.sync_all()).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// `count` random bytes (from the OS) as hex: names no one can guess, throwaway keys.
pub(crate) fn random_hex(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("work.json");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        replace_private(&target, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!((std::fs::read_to_string(&target).unwrap().as_str(), mode(&target)), ("{}", 0o600));
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "no partial file is left behind");
    }

    #[test]
    fn a_symlinked_directory_is_used_but_not_chmod_ed() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("locus");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        create_private_dir(&link).unwrap();
        assert_eq!(mode(&shared), 0o755);
        let own = dir.path().join("own/sessions");
        create_private_dir(&own).unwrap();
        assert_eq!(mode(&own), 0o700);
    }

    #[test]
    fn new_private_directories_are_new_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let one = new_private_dir(dir.path(), "locus-emulator-").unwrap();
        let two = new_private_dir(dir.path(), "locus-emulator-").unwrap();
        assert_ne!(one, two);
        assert_eq!(mode(&one), 0o700);
    }
}
