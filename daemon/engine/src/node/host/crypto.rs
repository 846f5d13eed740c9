//! Digests, HMACs, PBKDF2 and random bytes for node:crypto, with Node's algorithm names.

use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The algorithms Node accepts under each of these names (OpenSSL's aliases included).
#[derive(Clone, Copy)]
enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

fn algorithm(name: &str) -> Result<Algorithm, String> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "md5" | "rsa-md5" => Algorithm::Md5,
        "sha1" | "sha-1" | "rsa-sha1" => Algorithm::Sha1,
        "sha224" | "sha-224" | "rsa-sha224" => Algorithm::Sha224,
        "sha256" | "sha-256" | "rsa-sha256" => Algorithm::Sha256,
        "sha384" | "sha-384" | "rsa-sha384" => Algorithm::Sha384,
        "sha512" | "sha-512" | "rsa-sha512" => Algorithm::Sha512,
        _ => return Err("Digest method not supported".to_string()),
    })
}

pub fn hash(name: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match algorithm(name)? {
        Algorithm::Md5 => Md5::digest(data).to_vec(),
        Algorithm::Sha1 => Sha1::digest(data).to_vec(),
        Algorithm::Sha224 => Sha224::digest(data).to_vec(),
        Algorithm::Sha256 => Sha256::digest(data).to_vec(),
        Algorithm::Sha384 => Sha384::digest(data).to_vec(),
        Algorithm::Sha512 => Sha512::digest(data).to_vec(),
    })
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    match <M as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

pub fn hmac(name: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(
        match algorithm(name).map_err(|_| format!("Invalid digest: {name}"))? {
            Algorithm::Md5 => mac::<Hmac<Md5>>(key, data),
            Algorithm::Sha1 => mac::<Hmac<Sha1>>(key, data),
            Algorithm::Sha224 => mac::<Hmac<Sha224>>(key, data),
            Algorithm::Sha256 => mac::<Hmac<Sha256>>(key, data),
            Algorithm::Sha384 => mac::<Hmac<Sha384>>(key, data),
            Algorithm::Sha512 => mac::<Hmac<Sha512>>(key, data),
        },
    )
}

/// PBKDF2 (RFC 8018) over HMAC-`name`, written out: a few lines, one fewer crate.
pub fn pbkdf2(
    name: &str,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    length: usize,
) -> Result<Vec<u8>, String> {
    let digest = algorithm(name).map_err(|_| format!("Invalid digest: {name}"))?;
    let prf = |data: &[u8]| hmac_with(digest, password, data);
    let mut out = Vec::with_capacity(length);
    let mut block: u32 = 1;
    while out.len() < length {
        let mut input = salt.to_vec();
        input.extend_from_slice(&block.to_be_bytes());
        let mut u = prf(&input);
        let mut t = u.clone();
        for _ in 1..iterations.max(1) {
            u = prf(&u);
            for (a, b) in t.iter_mut().zip(&u) {
                *a ^= b;
            }
        }
        out.extend_from_slice(&t);
        block = block.wrapping_add(1);
    }
    out.truncate(length);
    Ok(out)
}

fn hmac_with(digest: Algorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    match digest {
        Algorithm::Md5 => mac::<Hmac<Md5>>(key, data),
        Algorithm::Sha1 => mac::<Hmac<Sha1>>(key, data),
        Algorithm::Sha224 => mac::<Hmac<Sha224>>(key, data),
        Algorithm::Sha256 => mac::<Hmac<Sha256>>(key, data),
        Algorithm::Sha384 => mac::<Hmac<Sha384>>(key, data),
        Algorithm::Sha512 => mac::<Hmac<Sha512>>(key, data),
    }
}

/// `size` bytes from the operating system's generator.
pub fn random_bytes(size: usize) -> Result<Vec<u8>, String> {
    const MAX: usize = 1 << 31;
    if size > MAX {
        return Err(format!(
            "The value of \"size\" is out of range. It must be >= 0 && <= {MAX}. Received {size}"
        ));
    }
    let mut bytes = vec![0u8; size];
    getrandom::fill(&mut bytes).map_err(|e| format!("random bytes unavailable: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digests_and_macs_match_known_vectors() {
        assert_eq!(
            hex(&hash("md5", b"abc").unwrap()),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex(&hash("SHA1", b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&hmac(
                "sha256",
                b"key",
                b"The quick brown fox jumps over the lazy dog"
            )
            .unwrap()),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        // RFC 6070's second vector.
        assert_eq!(
            hex(&pbkdf2("sha1", b"password", b"salt", 2, 20).unwrap()),
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"
        );
        assert!(hash("whirlpool", b"").is_err());
        assert_eq!(random_bytes(16).unwrap().len(), 16);
    }
}
