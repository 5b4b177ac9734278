//! SSH tunnels to database servers whose port is not open to the office.
//!
//! Billora's database usually listens only on its server (or its private network), reached by
//! admins through SSH, as DBeaver, HeidiSQL or TablePlus do. A profile with [`SshTunnel`]
//! settings opens one SSH session (russh, pure Rust: no `ssh` binary) the first time one of
//! its server targets (`connection.rs`) connects, and closes it when the last clone of that
//! target is dropped, so a backup, a restore, a verification or a connection test each use
//! their own tunnel and none outlives its job.
//!
//! The database driver is synchronous and speaks TCP, so the tunnel's near end is a listener
//! on 127.0.0.1 with a port the OS picks; each connection accepted there becomes a
//! `direct-tcpip` channel to the database's host and port as the SSH server sees them. Other
//! users of this computer could connect to that port too: on Linux a connection is only
//! forwarded when the kernel says it comes from this process's own user
//! (`/proc/net/tcp`), and anywhere the database's own password is still needed.
//!
//! The server's host key is trusted on first use, like a TLS certificate under `pinned`: the
//! first successful test records its SHA-256 fingerprint (OpenSSH's `SHA256:…`), and another
//! key is refused before anything is sent ([`ErrorCode::HostKeyChanged`]). Nothing about the
//! SSH password or key passphrase is stored outside the keyring.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};

/// How long opening the SSH session (TCP, key exchange, login) may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);

/// A profile's SSH tunnel: the SSH server, its user, and how that user logs in.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, optional_fields))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshTunnel {
    /// The SSH server's host name or address.
    pub host: String,
    /// Its port (22 when not given).
    #[serde(default = "default_port")]
    pub port: u16,
    pub username: String,
    /// A private key file (OpenSSH or PEM); its passphrase, if any, is the SSH secret in the
    /// keyring. Without one, the SSH secret is the user's password.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The server's host key fingerprint (`SHA256:…`), recorded on the first successful use;
    /// another key is refused.
    #[serde(default)]
    pub host_key: Option<String>,
}

fn default_port() -> u16 {
    22
}

/// The keyring key of a profile's SSH password or key passphrase.
pub fn secret_key(profile_name: &str) -> String {
    format!("ssh:{profile_name}")
}

/// The SSH password or key passphrase kept for profile `profile`. A key without a passphrase
/// needs none, so a keyring that cannot be read is no error for a key file.
pub(crate) fn kept_secret(
    settings: &SshTunnel,
    secrets: &dyn crate::secrets::SecretStore,
    profile: &str,
) -> Result<Option<String>> {
    match secrets.get(&secret_key(profile)) {
        Ok(secret) => Ok(secret),
        Err(_) if settings.key_file.is_some() => Ok(None),
        Err(e) => Err(e),
    }
}

impl SshTunnel {
    /// Checks the settings a form or the CLI gave; errors name the field (`ssh_host`, …).
    pub fn validate(&self) -> Result<()> {
        let host = self.host.trim();
        if host.is_empty()
            || host.len() > 253
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@' | '\\'))
        {
            return Err(Error::invalid(
                "ssh_host",
                "enter the SSH server's host name or address (no spaces, no user@ or port)",
            ));
        }
        if self.port == 0 {
            return Err(Error::invalid(
                "ssh_port",
                "the SSH port is a number from 1 to 65535 (usually 22)",
            ));
        }
        if self.username.trim().is_empty()
            || self.username.len() > 128
            || self
                .username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::invalid(
                "ssh_username",
                "enter the user name you log in to the SSH server with",
            ));
        }
        if let Some(file) = &self.key_file {
            check_key_file(file)?;
        }
        if let Some(pin) = &self.host_key {
            normalize_host_key("ssh_host_key", pin)?;
        }
        Ok(())
    }

    fn address(&self) -> String {
        format!("{}:{}", self.host.trim(), self.port)
    }
}

/// A key file must be a readable file that is not empty (read again when the tunnel opens).
fn check_key_file(file: &Path) -> Result<()> {
    match std::fs::metadata(file) {
        Ok(meta) if meta.is_file() && meta.len() > 0 => Ok(()),
        Ok(_) => Err(Error::invalid(
            "ssh_key_file",
            format!("{} is not a private key file", file.display()),
        )),
        Err(e) => Err(Error::invalid(
            "ssh_key_file",
            format!("cannot read the key file {}: {e}", file.display()),
        )
        .with_hint("choose the private key file (for example ~/.ssh/id_ed25519), not its .pub")),
    }
}

/// Normalises a host key fingerprint to OpenSSH's `SHA256:` followed by 43 base64 characters.
pub fn normalize_host_key(field: &str, text: &str) -> Result<String> {
    let trimmed = text.trim();
    let body = trimmed
        .strip_prefix("SHA256:")
        .or_else(|| trimmed.strip_prefix("sha256:"))
        .unwrap_or(trimmed)
        .trim_end_matches('=');
    if body.len() != 43
        || !body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
    {
        return Err(Error::invalid(
            field,
            "an SSH host key fingerprint is SHA256: followed by 43 letters, digits, + or / (as `ssh-keygen -lf` prints it)",
        ));
    }
    Ok(format!("SHA256:{body}"))
}

/// What a target needs to open its tunnel, shared by its clones: the settings, the secret
/// read from the keyring, the open tunnel (if any) and what went wrong with it.
pub(crate) struct TunnelSlot {
    settings: SshTunnel,
    secret: Option<String>,
    profile: Option<String>,
    /// The database's host and port as the SSH server sees them.
    destination: (String, u16),
    open: Mutex<Option<OpenTunnel>>,
    /// The host key the server presented on the last attempt.
    seen_host_key: Arc<Mutex<Option<String>>>,
    /// Why the open tunnel broke (the session ended, a channel was refused), once it did.
    broken: Arc<Mutex<Option<Error>>>,
}

impl std::fmt::Debug for TunnelSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(
            f,
            "TunnelSlot({}@{})",
            self.settings.username,
            self.settings.address()
        )
    }
}

impl TunnelSlot {
    /// A saved profile's tunnel, its secret read from the keyring. A key without a passphrase
    /// works where no keyring is (a server's daemon).
    pub(crate) fn for_profile(
        settings: &SshTunnel,
        secrets: &dyn crate::secrets::SecretStore,
        profile: &str,
        destination: (String, u16),
    ) -> Result<TunnelSlot> {
        let secret = kept_secret(settings, secrets, profile)?;
        Ok(TunnelSlot::new(
            settings.clone(),
            secret,
            Some(profile.to_owned()),
            destination,
        ))
    }

    pub(crate) fn new(
        settings: SshTunnel,
        secret: Option<String>,
        profile: Option<String>,
        destination: (String, u16),
    ) -> TunnelSlot {
        TunnelSlot {
            settings,
            secret: secret.filter(|s| !s.is_empty()),
            profile,
            destination,
            open: Mutex::new(None),
            seen_host_key: Arc::default(),
            broken: Arc::default(),
        }
    }

    /// The host key fingerprint the server presented on the last attempt, if one got that far.
    pub(crate) fn seen_host_key(&self) -> Option<String> {
        self.seen_host_key.lock().ok().and_then(|k| k.clone())
    }

    /// The tunnel's near end (opened on first use), or why it cannot be had.
    pub(crate) fn endpoint(&self) -> Result<SocketAddr> {
        let mut open = self
            .open
            .lock()
            .map_err(|_| Error::new(ErrorCode::Internal, "the SSH tunnel's lock is poisoned"))?;
        if let Some(tunnel) = open.as_ref() {
            if let Some(err) = self.broken() {
                return Err(err);
            }
            return Ok(tunnel.addr);
        }
        let tunnel = OpenTunnel::open(self)?;
        let addr = tunnel.addr;
        *open = Some(tunnel);
        Ok(addr)
    }

    /// Why the open tunnel broke, if it did.
    pub(crate) fn broken(&self) -> Option<Error> {
        self.broken.lock().ok().and_then(|b| b.clone())
    }

    /// A database error seen through this tunnel, explained by the tunnel when it broke. The
    /// driver can see its connection end a moment before the tunnel's thread has noticed the
    /// session is gone, so an open tunnel is given up to a second to say so.
    pub(crate) fn explain(&self, err: Error) -> Error {
        if matches!(err.code, ErrorCode::Cancelled) {
            return err;
        }
        let opened = self.open.lock().map(|o| o.is_some()).unwrap_or(false);
        for _ in 0..if opened { 20 } else { 1 } {
            if let Some(broken) = self.broken() {
                return broken;
            }
            if !opened {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        err
    }
}

/// An open tunnel: its near end, and the thread that runs the SSH session. Dropping it ends
/// the session and waits for the thread.
struct OpenTunnel {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for OpenTunnel {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Checks the server's host key against the pin, and records why the session ended.
struct Checker {
    pin: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> std::result::Result<bool, Self::Error> {
        let fingerprint = match key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.fingerprint(HashAlg::Sha256).to_string()
            }
            russh::keys::PublicKeyOrCertificate::Certificate(cert) => {
                cert.public_key().fingerprint(HashAlg::Sha256).to_string()
            }
        };
        let accepted = self.pin.as_ref().is_none_or(|pin| *pin == fingerprint);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(fingerprint);
        }
        Ok(accepted)
    }
}

impl OpenTunnel {
    fn open(slot: &TunnelSlot) -> Result<OpenTunnel> {
        let settings = slot.settings.clone();
        let pin = settings
            .host_key
            .as_deref()
            .map(|k| normalize_host_key("ssh_host_key", k))
            .transpose()?;
        // The key is read (and its passphrase tried) before anything goes on the network.
        let key = match &settings.key_file {
            Some(file) => Some(load_key(file, slot.secret.as_deref())?),
            None => None,
        };
        if key.is_none() && slot.secret.is_none() {
            return Err(Error::invalid(
                "ssh_secret",
                "the SSH tunnel needs a private key file or the SSH user's password",
            )
            .with_hint("choose a key file, or enter the SSH password (kept in the keyring)"));
        }
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<SocketAddr>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let session = Session {
            settings,
            pin,
            key,
            password: slot.secret.clone(),
            destination: slot.destination.clone(),
            seen: Arc::clone(&slot.seen_host_key),
            broken: Arc::clone(&slot.broken),
            profile: slot.profile.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("ssh-tunnel".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::new(
                            ErrorCode::Internal,
                            format!("cannot start the SSH tunnel's runtime: {e}"),
                        )));
                        return;
                    }
                };
                runtime.block_on(session.run(ready_tx, stop_rx));
            })
            .map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("cannot start the SSH tunnel's thread: {e}"),
                )
            })?;
        let mut tunnel = OpenTunnel {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        match ready_rx.recv() {
            Ok(Ok(addr)) => {
                tunnel.addr = addr;
                Ok(tunnel)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::new(
                ErrorCode::Internal,
                "the SSH tunnel's thread ended before it was ready",
            )),
        }
    }
}

/// Reads a private key file, with its passphrase when it has one.
fn load_key(file: &Path, passphrase: Option<&str>) -> Result<russh::keys::PrivateKey> {
    check_key_file(file)?;
    match russh::keys::load_secret_key(file, passphrase) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => Err(Error::invalid(
            "ssh_secret",
            format!("the key file {} is protected by a passphrase", file.display()),
        )
        .with_hint("enter the key's passphrase (kept in the keyring)")),
        Err(e) if passphrase.is_some() && is_decrypt_error(&e) => Err(Error::new(
            ErrorCode::AuthFailed,
            format!("the passphrase does not open the key file {}", file.display()),
        )
        .with_field("ssh_secret")
        .with_hint("enter the key's passphrase again")),
        Err(e) => Err(Error::invalid(
            "ssh_key_file",
            format!("{} is not a private key this app can use: {e}", file.display()),
        )
        .with_hint(
            "use an OpenSSH private key (ed25519, ECDSA or RSA), for example made by `ssh-keygen -t ed25519`",
        )),
    }
}

fn is_decrypt_error(e: &russh::keys::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("decrypt") || text.contains("crypto") || text.contains("padding")
}

/// The SSH session as its thread runs it.
struct Session {
    settings: SshTunnel,
    pin: Option<String>,
    key: Option<russh::keys::PrivateKey>,
    password: Option<String>,
    destination: (String, u16),
    seen: Arc<Mutex<Option<String>>>,
    broken: Arc<Mutex<Option<Error>>>,
    profile: Option<String>,
}

impl Session {
    async fn run(
        self,
        ready: std::sync::mpsc::Sender<Result<SocketAddr>>,
        mut stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        let (handle, listener) = match tokio::time::timeout(OPEN_TIMEOUT, self.connect()).await {
            Ok(Ok(open)) => open,
            Ok(Err(e)) => {
                let _ = ready.send(Err(e));
                return;
            }
            Err(_) => {
                let _ = ready.send(Err(
                    self.unreachable("the SSH server did not finish logging in within 20 seconds")
                ));
                return;
            }
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(e) => {
                let _ = ready.send(Err(Error::from(e)));
                return;
            }
        };
        let _ = ready.send(Ok(addr));
        let handle = Arc::new(handle);
        let own_uid = own_uid();
        let mut watch = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = &mut stop => break,
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    if !same_user(own_uid, peer, addr) {
                        tracing::warn!("SSH tunnel: refused a connection from {peer}, which another user of this computer opened");
                        continue;
                    }
                    let handle = Arc::clone(&handle);
                    let broken = Arc::clone(&self.broken);
                    let destination = self.destination.clone();
                    let via = self.settings.address();
                    tokio::spawn(async move {
                        forward(&handle, stream, peer, destination, &via, &broken).await;
                    });
                }
                _ = watch.tick() => {
                    if handle.is_closed() {
                        self.record(self.unreachable("the SSH connection closed (the SSH server stopped, or the network between went down)"));
                        // Nothing more can be forwarded; the near end stays until stopped,
                        // and `broken` says why connections through it fail.
                        let _ = (&mut stop).await;
                        return;
                    }
                }
            }
        }
        let _ = handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        // The session's own task sends the goodbye and closes the socket: wait for it (a
        // little), or ending this runtime would drop it first and the server would see the
        // connection reset instead of closed.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !handle.is_closed() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn connect(&self) -> Result<(client::Handle<Checker>, tokio::net::TcpListener)> {
        let config = Arc::new(client::Config {
            inactivity_timeout: None,
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 4,
            nodelay: true,
            ..Default::default()
        });
        let checker = Checker {
            pin: self.pin.clone(),
            seen: Arc::clone(&self.seen),
        };
        let address = (self.settings.host.trim().to_owned(), self.settings.port);
        let mut handle = match client::connect(config, address, checker).await {
            Ok(handle) => handle,
            Err(e) => return Err(self.connect_error(e)),
        };
        let user = self.settings.username.trim().to_owned();
        let accepted = match &self.key {
            Some(key) => {
                let hash = handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|e| self.unreachable(&format!("the SSH login failed: {e}")))?
                    .flatten();
                handle
                    .authenticate_publickey(
                        user.clone(),
                        PrivateKeyWithHashAlg::new(Arc::new(key.clone()), hash),
                    )
                    .await
            }
            None => {
                handle
                    .authenticate_password(user.clone(), self.password.clone().unwrap_or_default())
                    .await
            }
        }
        .map_err(|e| self.unreachable(&format!("the SSH login failed: {e}")))?;
        if !accepted.success() {
            let (field, what, hint) = match &self.settings.key_file {
                Some(file) => (
                    "ssh_key_file",
                    format!("the key {}", file.display()),
                    "check the SSH user name, and that the key's public half (the .pub file) is in that user's ~/.ssh/authorized_keys on the SSH server",
                ),
                None => (
                    "ssh_secret",
                    "the password".to_owned(),
                    "check the SSH user name and password (many servers accept only keys: then choose a key file)",
                ),
            };
            return Err(Error::new(
                ErrorCode::AuthFailed,
                format!(
                    "the SSH server {} refused user {user} with {what}",
                    self.settings.address()
                ),
            )
            .with_field(field)
            .with_hint(hint));
        }
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorCode::Io,
                    format!("cannot open the SSH tunnel's local end on 127.0.0.1: {e}"),
                )
            })?;
        Ok((handle, listener))
    }

    /// Says why the SSH session could not be had.
    fn connect_error(&self, e: russh::Error) -> Error {
        let seen = self.seen.lock().ok().and_then(|s| s.clone());
        match (&self.pin, seen, &e) {
            (Some(pin), Some(seen), russh::Error::UnknownKey) if *pin != seen => host_key_changed(
                &self.settings.address(),
                pin,
                &seen,
                self.profile.as_deref(),
            ),
            (_, _, russh::Error::IO(io)) => self.unreachable(&format!("cannot reach it: {io}")),
            (_, _, russh::Error::ConnectionTimeout | russh::Error::KeepaliveTimeout) => {
                self.unreachable("it did not answer")
            }
            _ => self.unreachable(&format!("the SSH handshake failed: {e}")),
        }
    }

    fn unreachable(&self, why: &str) -> Error {
        Error::new(
            ErrorCode::Unreachable,
            format!("SSH tunnel through {}: {why}", self.settings.address()),
        )
        .with_field("ssh_host")
        .with_hint("check the SSH host and port (22 by default), and that this computer can reach the SSH server")
    }

    fn record(&self, err: Error) {
        if let Ok(mut broken) = self.broken.lock() {
            broken.get_or_insert(err);
        }
    }
}

/// Carries one accepted connection through a `direct-tcpip` channel to the database.
async fn forward(
    handle: &client::Handle<Checker>,
    mut stream: tokio::net::TcpStream,
    peer: SocketAddr,
    (host, port): (String, u16),
    via: &str,
    broken: &Mutex<Option<Error>>,
) {
    let _ = stream.set_nodelay(true);
    let channel = match handle
        .channel_open_direct_tcpip(
            host.clone(),
            u32::from(port),
            peer.ip().to_string(),
            u32::from(peer.port()),
        )
        .await
    {
        Ok(channel) => channel,
        Err(e) => {
            let err = Error::new(
                ErrorCode::Unreachable,
                format!(
                    "SSH tunnel through {via}: the SSH server would not connect to the database at {host}:{port} ({e})"
                ),
            )
            .with_field("host")
            .with_hint(
                "give the database's host and port as the SSH server sees them (often 127.0.0.1 and 3306), and check that the SSH server allows TCP forwarding (AllowTcpForwarding)",
            );
            if let Ok(mut b) = broken.lock() {
                b.get_or_insert(err);
            }
            return;
        }
    };
    let mut channel = channel.into_stream();
    // Either side closing ends both; errors end the connection, which the driver reports.
    let copied = tokio::io::copy_bidirectional(&mut stream, &mut channel).await;
    if copied.is_err() && handle.is_closed() {
        if let Ok(mut b) = broken.lock() {
            b.get_or_insert(Error::new(
                ErrorCode::Unreachable,
                format!("SSH tunnel through {via}: the SSH connection closed (the SSH server stopped, or the network between went down)"),
            )
            .with_field("ssh_host")
            .with_hint("check the SSH host and port (22 by default), and that this computer can reach the SSH server"));
        }
    }
}

#[cfg(target_os = "linux")]
fn own_uid() -> Option<u32> {
    Some(rustix::process::getuid().as_raw())
}

#[cfg(not(target_os = "linux"))]
fn own_uid() -> Option<u32> {
    None
}

/// Whether the connection from `peer` to our near end `local` was opened by this process's
/// user (Linux: the owner of the peer's socket in `/proc/net/tcp`). Elsewhere every local
/// connection is taken (the database's password is still needed).
fn same_user(own_uid: Option<u32>, peer: SocketAddr, local: SocketAddr) -> bool {
    let Some(own) = own_uid else { return true };
    match std::fs::read_to_string("/proc/net/tcp") {
        Ok(table) => socket_owner(&table, peer, local) == Some(own),
        Err(_) => false,
    }
}

/// The uid owning the socket at `peer` connected to `local`, in a `/proc/net/tcp` table.
fn socket_owner(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (SocketAddr::V4(peer), SocketAddr::V4(local)) = (peer, local) else {
        return None;
    };
    // The kernel prints an IPv4 address as the 32-bit value in memory, in hex, and the port
    // as a number in hex.
    let hex = |a: &std::net::SocketAddrV4| {
        format!(
            "{:08X}:{:04X}",
            u32::from_ne_bytes(a.ip().octets()),
            a.port()
        )
    };
    let (want_local, want_remote) = (hex(&peer), hex(&local));
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.len() > 7 && cols[1] == want_local && cols[2] == want_remote)
            .then(|| cols[7].parse().ok())
            .flatten()
    })
}

/// The refusal of a host key other than the pinned one.
pub fn host_key_changed(what: &str, pinned: &str, seen: &str, profile: Option<&str>) -> Error {
    let accept = match profile {
        Some(name) => format!(
            "`billora-backup connection trust-host-key {} --fingerprint {seen}` (or Connections → Accept the new host key in the app)",
            crate::sql::text::comment_name(name).trim_matches('`')
        ),
        None => "the connection's Accept the new host key action".to_owned(),
    };
    Error::new(
        ErrorCode::HostKeyChanged,
        format!(
            "SSH tunnel through {what}: the SSH server presented a different host key than the one pinned for it \
             (pinned {pinned}, now {seen}); nothing was sent"
        ),
    )
    .with_field("ssh_host_key")
    .with_hint(format!(
        "if the SSH server was reinstalled or its key replaced on purpose (ask whoever runs it to confirm the \
         new fingerprint), accept it with {accept}; otherwise someone may be intercepting the connection"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel() -> SshTunnel {
        SshTunnel {
            host: "db.example.com".into(),
            port: 22,
            username: "admin".into(),
            key_file: None,
            host_key: None,
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused_on_their_field() {
        for (change, field) in [
            (
                SshTunnel {
                    host: " ".into(),
                    ..tunnel()
                },
                "ssh_host",
            ),
            (
                SshTunnel {
                    host: "root@db".into(),
                    ..tunnel()
                },
                "ssh_host",
            ),
            (
                SshTunnel {
                    host: "db\nx".into(),
                    ..tunnel()
                },
                "ssh_host",
            ),
            (
                SshTunnel {
                    port: 0,
                    ..tunnel()
                },
                "ssh_port",
            ),
            (
                SshTunnel {
                    username: "".into(),
                    ..tunnel()
                },
                "ssh_username",
            ),
            (
                SshTunnel {
                    username: "a b".into(),
                    ..tunnel()
                },
                "ssh_username",
            ),
            (
                SshTunnel {
                    key_file: Some("/nonexistent/id_ed25519".into()),
                    ..tunnel()
                },
                "ssh_key_file",
            ),
            (
                SshTunnel {
                    host_key: Some("SHA256:short".into()),
                    ..tunnel()
                },
                "ssh_host_key",
            ),
        ] {
            let err = change
                .validate()
                .expect_err("these settings should be refused");
            assert_eq!(
                err.field.as_deref(),
                Some(field),
                "{change:?} should be refused on {field}, got {err}"
            );
        }
        tunnel()
            .validate()
            .expect("a host, port 22 and a user should be accepted");
    }

    #[test]
    fn host_key_fingerprints_are_normalised_to_openssh_form() {
        let body = "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
        for text in [
            format!("SHA256:{body}"),
            format!(" sha256:{body}= "),
            body.to_owned(),
        ] {
            assert_eq!(
                normalize_host_key("f", &text).expect("a fingerprint should be accepted"),
                format!("SHA256:{body}"),
                "{text:?} should read as the OpenSSH form"
            );
        }
        assert!(
            normalize_host_key("f", "AA:BB").is_err(),
            "a TLS-style fingerprint is not a host key fingerprint"
        );
    }

    #[test]
    fn the_owner_of_a_loopback_connection_is_read_from_proc_net_tcp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:A1B2 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 20 4 30 10 -1\n\
   1: 0100007F:9C40 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1\n";
        let local: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
        let peer: SocketAddr = "127.0.0.1:41394".parse().expect("an address");
        if cfg!(target_endian = "little") {
            assert_eq!(
                socket_owner(table, peer, local),
                Some(1000),
                "the peer's socket (local 41394, remote 40000) belongs to uid 1000"
            );
            let stranger: SocketAddr = "127.0.0.1:41395".parse().expect("an address");
            assert_eq!(
                socket_owner(table, stranger, local),
                None,
                "a connection the table does not list has no known owner"
            );
        }
    }

    #[test]
    fn a_changed_host_key_names_both_fingerprints_and_how_to_accept() {
        let err = host_key_changed(
            "ssh.example.com:22",
            "SHA256:old",
            "SHA256:new",
            Some("office"),
        );
        assert_eq!(
            err.code,
            ErrorCode::HostKeyChanged,
            "the code should say the key changed"
        );
        assert!(
            err.message.contains("SHA256:old") && err.message.contains("SHA256:new"),
            "both fingerprints should be named: {}",
            err.message
        );
        let hint = err.hint.unwrap_or_default();
        assert!(
            hint.contains("trust-host-key office --fingerprint SHA256:new"),
            "the hint should give the command that accepts the new key: {hint}"
        );
        assert!(
            err.hint_th.is_some(),
            "the hint should have a Thai sentence"
        );
    }
}
