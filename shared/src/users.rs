//! Unix users as bolt names them in messages: "alice (uid 1000)".

use nix::unistd::{Uid, User, geteuid};

/// The effective uid of this process.
pub fn current_uid() -> u32 {
    geteuid().as_raw()
}

/// The login name of `uid`, if the system knows one.
pub fn name_of(uid: u32) -> Option<String> {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// `alice (uid 1000)`, or `uid 1000` for a uid without a name.
pub fn describe(uid: u32) -> String {
    match name_of(uid) {
        Some(name) => format!("{name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

/// The name to put in a `chown` command: the login name, else the number.
pub fn chown_name(uid: u32) -> String {
    name_of(uid).unwrap_or_else(|| uid.to_string())
}

/// The uid of a user given by name or number (as in `daemon_user`).
pub fn resolve(user: &str) -> Result<u32, String> {
    let user = user.trim();
    if let Ok(uid) = user.parse::<u32>() {
        return Ok(uid);
    }
    match User::from_name(user) {
        Ok(Some(found)) => Ok(found.uid.as_raw()),
        Ok(None) => Err(format!("there is no user named `{user}` on this system")),
        Err(err) => Err(format!("cannot look up the user `{user}`: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_known_by_name_and_number() {
        assert_eq!(resolve("0"), Ok(0));
        assert_eq!(resolve("root"), Ok(0));
        assert_eq!(describe(0), "root (uid 0)");
        assert!(resolve("no-such-user-for-bolt").is_err());
    }
}
