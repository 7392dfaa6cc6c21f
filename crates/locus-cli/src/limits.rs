//! The process's open-file limit: a server raises its soft limit to the
//! hard one (as Go and many servers do), since each connection is a file.

/// Raises the soft open-file limit to the hard one, where it is lower, and
/// returns the limit in force (`None` where it cannot be read).
pub(crate) fn open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        use nix::sys::resource::{Resource, getrlimit, setrlimit};
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
        if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            return Some(hard);
        }
        Some(soft)
    }
    #[cfg(not(unix))]
    None
}
