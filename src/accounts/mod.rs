//! Staff accounts: roles, passwords, sign-in, sessions, invitations and reset links.

pub mod auth;
pub mod guard;
pub mod hashing;
pub mod routes;
pub mod service;
pub mod store;
pub mod tokens;

use std::sync::LazyLock;

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString, rand_core::OsRng},
};
use serde::{Deserialize, Serialize};

pub const PASSWORD_MIN_CHARS: usize = 12;

/// The command that creates the first admin: `serve` logs it on a site without one, and the home
/// page shows it to a browser on the same machine.
pub const FIRST_ADMIN_COMMAND: &str =
    "carethread user add --email you@example.org --name \"Your Name\" --role admin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, clap::ValueEnum)]
#[sqlx(type_name = "staff_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Midwife,
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Midwife, Role::Moderator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Midwife => "midwife",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Midwife => "Midwife",
            Role::Moderator => "Moderator",
            Role::Admin => "Admin",
        }
    }

    /// "a midwife", "an admin": as a sentence names it.
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Midwife => "a midwife",
            Role::Moderator => "a moderator",
            Role::Admin => "an admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// A signed-in member of staff.
#[derive(Clone)]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub verified: bool,
    /// Sessions remember a digest of this, so changing the password ends every other session.
    password_hash: String,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Staff {
    /// Approve, hide and unhide comments: every staff role, except a midwife account that no
    /// admin has verified yet, which may look but not publish anything.
    pub fn can_moderate(&self) -> bool {
        self.role != Role::Midwife || self.verified
    }

    /// Publish replies under the midwife label: verified midwives, and admins who are themselves
    /// verified (an admin account is not a clinician unless an admin has verified it as one).
    pub fn can_reply(&self) -> bool {
        self.verified && matches!(self.role, Role::Midwife | Role::Admin)
    }

    /// Add, edit and delete the saved replies: whoever writes replies, and admins.
    pub fn can_keep_saved_replies(&self) -> bool {
        self.can_reply() || self.is_admin()
    }

    /// Waiting for an admin to verify them before they can reply.
    pub fn awaiting_verification(&self) -> bool {
        self.role == Role::Midwife && !self.verified
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl axum_login::AuthUser for Staff {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// A password that meets the policy: long enough and not easy to guess.
pub struct NewPassword(String);

impl NewPassword {
    /// `context` holds words a guesser would try first: the person's email and name.
    pub fn parse(password: &str, confirm: &str, context: &[&str]) -> Result<Self, &'static str> {
        if password.chars().count() < PASSWORD_MIN_CHARS {
            return Err("Please choose a password of at least 12 characters.");
        }
        if password != confirm {
            return Err("The two passwords are not the same. Please type them again.");
        }
        if password.chars().count() > 256 {
            return Err("Please choose a password of at most 256 characters.");
        }
        // zxcvbn checks against lists of common passwords, names and words, and keyboard patterns.
        if u8::from(zxcvbn::zxcvbn(password, context).score()) < 3 {
            return Err("This password is too easy to guess. Try a few unrelated words together.");
        }
        Ok(Self(password.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Hashes with argon2id and OWASP's parameters (19 MiB, 2 passes, 1 lane). Slow on purpose: call
/// it through [`hashing::run`].
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let fail = |e: argon2::password_hash::Error| {
        anyhow::Error::msg(e.to_string()).context("could not hash the password")
    };
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let output = compute(
        Algorithm::Argon2id,
        Version::V0x13,
        &params,
        password,
        salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
    )
    .map_err(fail)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(fail)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

thread_local! {
    /// Each thread's argon2 working memory, allocated once and used for every hash it computes:
    /// the allocator would otherwise keep a freed 19 MiB block per heap it ever used.
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// argon2 of `password` with `salt`, in this thread's reusable memory.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &str,
    salt: argon2::password_hash::Salt<'_>,
    output_len: usize,
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    Output::init_with(output_len, |out| {
        MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < params.block_count() {
                memory.resize(params.block_count(), Block::new());
            }
            argon2
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    salt,
                    out,
                    &mut memory[..params.block_count()],
                )
                .map_err(argon2::password_hash::Error::from)
        })
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right, but hashed with older parameters: store a fresh hash.
    YesButRehash,
}

pub fn verify_password(password: &str, stored: &str) -> Verified {
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Verified::No;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else {
        return Verified::No;
    };
    let version = hash.version.map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return Verified::No;
    };
    // `Output`'s equality is constant-time.
    match compute(algorithm, version, &params, password, salt, expected.len()) {
        Ok(computed) if computed == expected => {}
        _ => return Verified::No,
    }
    let current = Params::default();
    let up_to_date = algorithm == Algorithm::Argon2id
        && params.m_cost() >= current.m_cost()
        && params.t_cost() >= current.t_cost()
        && params.p_cost() >= current.p_cost();
    if up_to_date {
        Verified::Yes
    } else {
        Verified::YesButRehash
    }
}

/// Verifying against this when an email is unknown makes a failed sign-in take as long either way.
pub static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no account has this password").unwrap_or_default());

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn passwords_shorter_than_12_characters_are_refused() {
        assert!(NewPassword::parse("short pass", "short pass", &[]).is_err());
    }

    #[test]
    fn common_passwords_are_refused_even_when_long() {
        for common in ["password1234", "123456789012", "qwertyuiopasdf", "iloveyou1234"] {
            assert!(NewPassword::parse(common, common, &[]).is_err(), "{common}");
        }
    }

    #[test]
    fn a_password_made_of_the_persons_email_is_refused() {
        let p = "alex.morgan@example.org";
        assert!(NewPassword::parse(p, p, &["alex.morgan@example.org", "Alex Morgan"]).is_err());
    }

    #[test]
    fn a_long_unusual_password_is_accepted_when_confirmed() {
        let p = "lantern orbit velvet marsh";
        assert!(NewPassword::parse(p, p, &[]).is_ok());
        assert!(NewPassword::parse(p, "something else entirely", &[]).is_err());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_password("lantern orbit velvet marsh").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            verify_password("lantern orbit velvet marsh", &hash),
            Verified::Yes
        );
        assert_eq!(verify_password("wrong", &hash), Verified::No);
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hasher_both_ways() {
        let ours = hash_password("lantern orbit velvet marsh").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"lantern orbit velvet marsh", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"something else", &parsed)
                .is_err()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"lantern orbit velvet marsh", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_password("lantern orbit velvet marsh", &theirs),
            Verified::Yes
        );
        assert_eq!(verify_password("something else", &theirs), Verified::No);
        assert_eq!(verify_password("anything", "not a hash"), Verified::No);
    }

    #[test]
    fn hashes_with_weaker_parameters_are_upgraded() {
        let weak = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let hash = weak
            .hash_password(b"lantern orbit velvet marsh", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_password("lantern orbit velvet marsh", &hash),
            Verified::YesButRehash
        );
    }

    #[test]
    fn only_verified_midwives_and_verified_admins_can_reply() {
        let staff = |role, verified| Staff {
            id: 1,
            email: "a@example.org".into(),
            display_name: "A".into(),
            role,
            verified,
            password_hash: String::new(),
        };
        assert!(staff(Role::Midwife, true).can_reply());
        assert!(!staff(Role::Midwife, false).can_reply());
        assert!(!staff(Role::Moderator, true).can_reply());
        assert!(staff(Role::Admin, true).can_reply());
        assert!(!staff(Role::Admin, false).can_reply());
        assert!(staff(Role::Midwife, false).awaiting_verification());
    }
}
