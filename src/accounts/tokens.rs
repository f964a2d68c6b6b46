//! One-time tokens for invitation and reset links: 256 random bits, shown once, stored as a hash.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct OneTimeToken {
    /// Goes into the link; never stored.
    pub token: String,
    pub hash: Vec<u8>,
}

pub fn generate() -> OneTimeToken {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    OneTimeToken { token, hash }
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_url_safe_and_hash_to_the_stored_value() {
        let a = generate();
        let b = generate();
        assert_ne!(a.token, b.token);
        assert!(
            a.token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(hash(&a.token), a.hash);
    }
}
