//! Reading the small files credentials live in, with a size cap.

use std::io::Read;
use std::path::Path;

/// The most a config, key, token or certificate file may hold: real ones are
/// a few KiB, so anything larger is a mistake (`key_file=/dev/zero`, a log).
pub const MAX_CREDENTIAL_FILE_SIZE: u64 = 1024 * 1024;

/// Reads `path` whole when it is a regular file (symbolic links followed) of
/// at most [`MAX_CREDENTIAL_FILE_SIZE`] bytes; devices, pipes and directories
/// are refused before anything is read.
pub(crate) fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, device or pipe)",
        ));
    }
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(metadata.len().min(MAX_CREDENTIAL_FILE_SIZE) as usize);
    // The file may grow between the check and the read: the cap holds regardless.
    file.take(MAX_CREDENTIAL_FILE_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CREDENTIAL_FILE_SIZE {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "larger than 1 MiB, too large to be one"));
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub(crate) fn read_capped_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_capped(path)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_large_files_are_refused_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let zero = read_capped(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(zero.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(read_capped(dir.path()).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
        let large = dir.path().join("large");
        std::fs::write(&large, vec![b'a'; MAX_CREDENTIAL_FILE_SIZE as usize + 1]).unwrap();
        let error = read_capped(&large).unwrap_err();
        assert!(error.to_string().contains("larger than 1 MiB"), "{error}");
        let fits = dir.path().join("fits");
        std::fs::write(&fits, vec![b'a'; MAX_CREDENTIAL_FILE_SIZE as usize]).unwrap();
        assert_eq!(read_capped(&fits).unwrap().len(), MAX_CREDENTIAL_FILE_SIZE as usize);
    }
}
