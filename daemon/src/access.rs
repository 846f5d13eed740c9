//! Who is on the other end of the socket (its peer credentials) and what their role
//! lets them do ([`bolt_shared::access::TABLE`]). With no `[access]` in bolt.toml only
//! boltd's own user (and root) can open the socket, and whoever does is admin; with it,
//! `group` opens the socket to a Unix group and the lists give each user a role.

use bolt_shared::access::{AccessView, Role, TABLE};
use bolt_shared::config::AccessConfig;
use interprocess::local_socket::tokio::Stream;
use interprocess::local_socket::traits::StreamCommon as _;
use nix::unistd::{Gid, Group, Uid, User};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The Unix user on the other end of a socket connection.
#[derive(Debug, Clone)]
pub struct Caller {
    pub uid: u32,
    /// The login name (`uid N` for a uid without one): what audit rows record.
    pub name: String,
    /// The groups the user is a member of, by name (for `group:` entries).
    pub groups: Vec<String>,
}

impl Caller {
    /// The connection's peer, from the kernel (`SO_PEERCRED`).
    pub fn of_stream(stream: &Stream) -> std::io::Result<Caller> {
        let creds = stream.peer_creds()?;
        let uid = creds
            .euid()
            .ok_or_else(|| std::io::Error::other("the system did not report the peer's uid"))?;
        Ok(Caller::of_uid(uid, creds.egid()))
    }

    pub fn of_uid(uid: u32, gid: Option<u32>) -> Caller {
        let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
        let name = user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("uid {uid}"));
        let primary = gid
            .map(Gid::from_raw)
            .or_else(|| user.as_ref().map(|u| u.gid));
        Caller {
            uid,
            groups: groups_of(user.as_ref(), primary),
            name,
        }
    }
}

/// The names of the groups `user` is in (its primary group and the ones listing it).
fn groups_of(user: Option<&User>, primary: Option<Gid>) -> Vec<String> {
    let mut gids: Vec<Gid> = primary.into_iter().collect();
    if let (Some(user), Some(primary)) = (user, primary)
        && let Ok(name) = std::ffi::CString::new(user.name.as_bytes())
        && let Ok(found) = nix::unistd::getgrouplist(&name, primary)
    {
        gids.extend(found);
    }
    gids.sort_by_key(|g| g.as_raw());
    gids.dedup();
    gids.into_iter()
        .filter_map(|gid| Group::from_gid(gid).ok().flatten().map(|g| g.name))
        .collect()
}

/// The roles boltd gives its callers; `bolt access reload` replaces the lists.
pub struct Access {
    config: RwLock<Option<AccessConfig>>,
    daemon_uid: u32,
    /// The bolt.toml `reload` reads again.
    config_path: Option<PathBuf>,
}

impl Access {
    pub fn new(config: Option<AccessConfig>, config_path: Option<PathBuf>) -> Access {
        Access {
            config: RwLock::new(config),
            daemon_uid: bolt_shared::users::current_uid(),
            config_path,
        }
    }

    fn config(&self) -> Option<AccessConfig> {
        self.config.read().ok().and_then(|c| c.clone())
    }

    /// The caller's role: admin for boltd's own user and root, and for everyone when
    /// there is no `[access]`; else the highest role the lists give.
    pub fn role_of(&self, caller: &Caller) -> Option<Role> {
        if caller.uid == 0 || caller.uid == self.daemon_uid {
            return Some(Role::Admin);
        }
        match self.config.read() {
            Ok(config) => match config.as_ref() {
                None => Some(Role::Admin),
                Some(config) => config.role_of(&caller.name, &caller.groups),
            },
            // A writer panicked mid-reload: no role rather than a guess.
            Err(_) => None,
        }
    }

    /// What `bolt access` shows the caller.
    pub fn view(&self, caller: &Caller) -> AccessView {
        let config = self.config();
        let configured = config.is_some();
        let config = config.unwrap_or_default();
        AccessView {
            user: caller.name.clone(),
            role: self.role_of(caller),
            configured,
            viewers: config.viewers,
            editors: config.editors,
            admins: config.admins,
            group: config.group,
            table: TABLE
                .iter()
                .map(|(kind, role)| (kind.to_string(), *role))
                .collect(),
        }
    }

    /// Reads `[access]` from bolt.toml again. The socket's group and modes stay as they
    /// were set at start.
    pub fn reload(&self) -> Result<Option<AccessConfig>, String> {
        let config = match &self.config_path {
            Some(path) => bolt_shared::Config::load(path, true)
                .map_err(|err| format!("{err}; [access] is unchanged"))?,
            None => bolt_shared::Config::default(),
        };
        if let Ok(mut slot) = self.config.write() {
            *slot = config.access.clone();
        }
        Ok(config.access)
    }
}

/// Opens the socket to `group` (`[access] group`): the socket 0660 and its directory
/// 0750, both group-owned; directories above the socket's, up to the data dir when the
/// socket lives in it, get the group's search bit (0710) so its members can reach it.
pub fn open_socket_to_group(socket: &Path, data_dir: &Path, group: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let found = Group::from_name(group)
        .map_err(|err| anyhow::anyhow!("cannot look up the group `{group}` of [access] group: {err}"))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "[access] group = \"{group}\" names no group on this system: create it (`groupadd {group}`) and add the users who may use bolt, or remove the setting"
            )
        })?;
    let me = bolt_shared::users::current_uid();
    let give = |path: &Path, mode: u32| -> anyhow::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::symlink_metadata(path)
            .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?
            .uid();
        // Only boltd's own files and directories: another user's stay as they are.
        if owner != me {
            anyhow::bail!(
                "[access] group: {} belongs to {}, not to boltd's user ({}), so boltd won't give it to the group `{group}`: `chown {} {}`, or put the socket elsewhere (--socket)",
                path.display(),
                bolt_shared::users::describe(owner),
                bolt_shared::users::describe(me),
                bolt_shared::users::chown_name(me),
                path.display()
            );
        }
        nix::unistd::chown(path, None, Some(found.gid)).map_err(|err| {
            anyhow::anyhow!(
                "cannot give {} to the group `{group}` ([access] group): {err}",
                path.display()
            )
        })?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|err| anyhow::anyhow!("cannot set the mode of {}: {err}", path.display()))
    };
    give(socket, 0o660)?;
    let Some(dir) = socket.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    give(dir, 0o750)?;
    if dir.starts_with(data_dir) {
        let mut above = dir.parent();
        while let Some(path) = above.filter(|p| p.starts_with(data_dir)) {
            give(path, 0o710)?;
            above = path.parent();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boltd_s_own_user_and_root_are_admins_whatever_the_lists_say() {
        let access = Access::new(
            Some(AccessConfig {
                viewers: vec!["alice".into()],
                ..AccessConfig::default()
            }),
            None,
        );
        let me = Caller::of_uid(bolt_shared::users::current_uid(), None);
        assert_eq!(access.role_of(&me), Some(Role::Admin));
        let alice = Caller {
            uid: 4242,
            name: "alice".into(),
            groups: vec![],
        };
        assert_eq!(access.role_of(&alice), Some(Role::Viewer));
        let stranger = Caller {
            uid: 4243,
            name: "mallory".into(),
            groups: vec![],
        };
        assert_eq!(access.role_of(&stranger), None);
        let open = Access::new(None, None);
        assert_eq!(open.role_of(&stranger), Some(Role::Admin));
    }
}
