//! Copies readable by their owner only. Every copy holds every customer's data, so on the
//! destinations that are file systems with owners (a folder, an SFTP server) a copy and its
//! manifest are made 0600 and the folder that holds them 0700, whatever the umask there.
//! OpenDAL writes with the library's default modes, so this runs after each upload: on a
//! folder with the file system's calls, on SFTP with `chmod` over the same OpenSSH client
//! (and key, and known hosts) that OpenDAL's SFTP service uses.

use std::path::{Path, PathBuf};

use crate::destination::KnownHosts;
use crate::error::{Error, ErrorCode, Result};

/// How to make objects of one destination private.
#[derive(Debug, Clone)]
pub enum Private {
    /// A local or mounted folder.
    Folder(PathBuf),
    /// An SFTP server: where, as whom, and the folder objects are under.
    Sftp {
        host: String,
        port: u16,
        username: String,
        key_file: String,
        known_hosts: KnownHosts,
        root: String,
    },
    /// Object storage (S3, WebDAV, Drive): access is the bucket's or the account's.
    Nothing,
}

impl Private {
    /// Makes `objects` (paths under the destination's root) 0600 and the root 0700. Best
    /// effort on file systems that keep no modes (a mounted SMB share); an SFTP server that
    /// refuses is reported.
    pub async fn apply(&self, objects: &[&str]) -> Result<()> {
        match self {
            Private::Nothing => Ok(()),
            Private::Folder(root) => {
                folder(root, objects);
                Ok(())
            }
            Private::Sftp {
                host,
                port,
                username,
                key_file,
                known_hosts,
                root,
            } => {
                let root = if root.is_empty() { "." } else { root.as_str() };
                let mut script = format!("chmod 700 -- {}", quote(root));
                for object in objects {
                    script.push_str(&format!(
                        " && chmod 600 -- {}",
                        quote(&format!("{}/{}", root.trim_end_matches('/'), object))
                    ));
                }
                let mut ssh = tokio::process::Command::new("ssh");
                ssh.arg("-i")
                    .arg(key_file)
                    .arg("-p")
                    .arg(port.to_string())
                    .arg("-o")
                    .arg("BatchMode=yes")
                    .arg("-o")
                    .arg(match known_hosts {
                        KnownHosts::AcceptNew => "StrictHostKeyChecking=accept-new",
                        KnownHosts::Strict => "StrictHostKeyChecking=yes",
                    })
                    .arg("-l")
                    .arg(username)
                    // `--`: a host name is never read as an option.
                    .arg("--")
                    .arg(host)
                    .arg(script)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped());
                let out = ssh.output().await.map_err(|e| {
                    Error::new(
                        ErrorCode::StorageFailed,
                        format!("cannot run ssh to make the copy private: {e}"),
                    )
                })?;
                if out.status.success() {
                    return Ok(());
                }
                Err(Error::new(
                    ErrorCode::StorageFailed,
                    format!(
                        "the SFTP server did not let the copy be made private (chmod 600): {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                )
                .with_hint("check that the SSH account owns the destination folder"))
            }
        }
    }
}

fn folder(root: &Path, objects: &[&str]) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700));
        for object in objects {
            let path = root.join(object);
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            // Folders between the root and the object (OpenDAL creates them 0755).
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| d.starts_with(root) && *d != root) {
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
                dir = d.parent();
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (root, objects);
    }
}

/// One argument for the remote shell, in single quotes.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn a_name_with_quotes_stays_one_shell_word() {
        assert_eq!(
            quote("a'b"),
            r"'a'\''b'",
            "a quote ends, is escaped, reopens"
        );
        assert_eq!(
            quote("$(rm -rf /)"),
            "'$(rm -rf /)'",
            "nothing expands in single quotes"
        );
    }
}
