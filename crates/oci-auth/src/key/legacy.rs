//! OpenSSL's legacy PEM encryption (`Proc-Type: 4,ENCRYPTED` + `DEK-Info`).
//!
//! The key is derived with `EVP_BytesToKey(MD5, salt = first 8 bytes of the
//! IV, one iteration)`, then the DER is decrypted with the named CBC cipher.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

/// Why a legacy-encrypted body could not be decrypted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LegacyError {
    /// `DEK-Info` is missing or malformed.
    BadHeader(String),
    /// A cipher we do not implement.
    UnsupportedCipher(String),
    /// Padding did not check out: almost always a wrong passphrase.
    Decrypt,
}

/// Decrypts the body of a legacy-encrypted PEM block, given its `DEK-Info`
/// header value (`AES-256-CBC,<iv hex>`).
pub(super) fn decrypt(dek_info: &str, body: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let (cipher, iv_hex) =
        dek_info.split_once(',').ok_or_else(|| LegacyError::BadHeader("DEK-Info must be `CIPHER,IV`".into()))?;
    let iv = decode_hex(iv_hex.trim()).ok_or_else(|| LegacyError::BadHeader("DEK-Info IV is not hex".into()))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let (key_len, iv_len) = match cipher.as_str() {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        other => return Err(LegacyError::UnsupportedCipher(other.to_owned())),
    };
    if iv.len() != iv_len {
        return Err(LegacyError::BadHeader(format!("{cipher} needs a {iv_len}-byte IV")));
    }
    let key = evp_bytes_to_key(passphrase, &iv[..8], key_len);
    let plain = match cipher.as_str() {
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key, &iv, body),
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key, &iv, body),
        "AES-256-CBC" => cbc_decrypt::<aes::Aes256>(&key, &iv, body),
        _ => cbc_decrypt::<des::TdesEde3>(&key, &iv, body),
    };
    plain.map(Zeroizing::new)
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], body: &[u8]) -> Result<Vec<u8>, LegacyError>
where
    C: aes::cipher::BlockDecrypt + aes::cipher::BlockCipher + aes::cipher::KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| LegacyError::Decrypt)?
        .decrypt_padded_vec_mut::<Pkcs7>(body)
        .map_err(|_| LegacyError::Decrypt)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<[u8; 16]> = None;
    while key.len() < len {
        let mut hasher = Md5::new();
        if let Some(previous) = previous {
            hasher.update(previous);
        }
        hasher.update(passphrase);
        hasher.update(salt);
        let block: [u8; 16] = hasher.finalize().into();
        key.extend_from_slice(&block);
        previous = Some(block);
    }
    key.truncate(len);
    key
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -S 0102030405060708 -pass pass:secret` prints this key.
        let key = evp_bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        assert_eq!(
            key.iter().map(|b| format!("{b:02X}")).collect::<String>(),
            "C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB"
        );
    }

    #[test]
    fn bad_headers_are_reported() {
        assert!(matches!(decrypt("AES-256-CBC", b"", b"p"), Err(LegacyError::BadHeader(_))));
        assert!(matches!(decrypt("AES-256-CBC,zz", b"", b"p"), Err(LegacyError::BadHeader(_))));
        assert!(matches!(decrypt("AES-256-CBC,0011", b"", b"p"), Err(LegacyError::BadHeader(_))));
        assert!(matches!(decrypt("BF-CBC,0011223344556677", b"", b"p"), Err(LegacyError::UnsupportedCipher(_))));
        assert!(matches!(decrypt("DES-EDE3-CBC,0011223344556677", &[0u8; 7], b"p"), Err(LegacyError::Decrypt)));
    }
}
