//! Encryption of backup files with age, to X25519 recipients (public keys, `age1…`).
//!
//! Why public keys: the machine that makes backups then holds nothing secret. A scheduled run
//! never waits on a passphrase or a locked keyring, and a stolen backup folder (or a copy on a
//! remote store) cannot be read. The matching identity (`AGE-SECRET-KEY-1…`) is kept in the OS
//! keyring for restores on this machine, and in a recovery file the admin prints or stores
//! offline. A backup stays readable without this app:
//! `age -d -i recovery-key.txt backup.sql.zst.age | zstd -d | mysql db`.

use std::io::{self, Read, Write};
use std::str::FromStr;

use age::secrecy::ExposeSecret;

use crate::error::{Error, ErrorCode, Result};
use crate::secrets::SecretStore;

/// The file extension of an encrypted backup (after the compression one).
pub const AGE_EXTENSION: &str = ".age";
/// The first bytes of an age file.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// The `encrypt_to` value that means "with the schedule's passphrase" (kept in the keyring).
pub const PASSPHRASE: &str = "passphrase";
const MIN_PASSPHRASE_CHARS: usize = 12;

/// How a backup file is encrypted.
pub enum Encryption {
    None,
    Recipients(Vec<age::x25519::Recipient>),
    Passphrase(age::secrecy::SecretString),
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Encryption::None => f.write_str("None"),
            Encryption::Recipients(r) => write!(f, "Recipients({})", r.len()),
            Encryption::Passphrase(_) => f.write_str("Passphrase(…)"),
        }
    }
}

/// The keyring key of a schedule's passphrase.
pub fn passphrase_key(schedule_id: i64) -> String {
    format!("passphrase:schedule:{schedule_id}")
}

/// A passphrase must be long enough to resist guessing (age's scrypt slows each guess, but
/// not enough for a short word).
pub fn check_passphrase(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::invalid(
            "passphrase",
            format!("use at least {MIN_PASSPHRASE_CHARS} characters"),
        )
        .with_hint("a few unrelated words make a passphrase that is long and easy to remember"));
    }
    Ok(())
}

/// What a schedule's `encrypt_to` asks for: nothing, public keys, or its passphrase (read from
/// the keyring; a missing one fails the run with what to do).
pub fn encryption_for(
    encrypt_to: Option<&str>,
    schedule_id: i64,
    secrets: &dyn SecretStore,
) -> Result<Encryption> {
    match encrypt_to {
        None => Ok(Encryption::None),
        Some(PASSPHRASE) => match secrets.get(&passphrase_key(schedule_id))? {
            Some(p) => Ok(Encryption::Passphrase(p.into())),
            None => Err(Error::new(
                ErrorCode::InvalidInput,
                "this schedule encrypts with a passphrase, but none is saved for it",
            )
            .with_field("passphrase")
            .with_hint(format!(
                "set it in the schedule editor, or `billora-backup schedule passphrase {schedule_id} --passphrase-stdin`"
            ))),
        },
        Some(keys) => Ok(Encryption::Recipients(parse_recipients("encrypt_to", keys)?)),
    }
}

/// Saves a schedule's passphrase in the keyring (checked first). It is kept when the schedule
/// is deleted: its backups still need it.
pub fn set_passphrase(schedule_id: i64, passphrase: &str, secrets: &dyn SecretStore) -> Result<()> {
    check_passphrase(passphrase)?;
    secrets.set(&passphrase_key(schedule_id), passphrase)
}

/// Parses a list of recipients (separated by commas, spaces or new lines).
pub fn parse_recipients(field: &str, text: &str) -> Result<Vec<age::x25519::Recipient>> {
    let list: Vec<&str> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        return Err(Error::invalid(
            field,
            "enter at least one age public key (age1…)",
        ));
    }
    list.iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r).map_err(|_| {
                Error::invalid(field, format!("`{r}` is not an age public key")).with_hint(
                    "a public key starts with age1; create one with `billora-backup key generate`",
                )
            })
        })
        .collect()
}

/// A new key pair: the public key to encrypt to, and the secret identity.
#[derive(Clone)]
pub struct KeyPair {
    pub recipient: String,
    identity: age::x25519::Identity,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.recipient)
    }
}

impl KeyPair {
    pub fn generate() -> KeyPair {
        let identity = age::x25519::Identity::generate();
        KeyPair {
            recipient: identity.to_public().to_string(),
            identity,
        }
    }

    /// The identity's text (`AGE-SECRET-KEY-1…`): for the keyring and the recovery file only.
    pub fn identity_text(&self) -> String {
        self.identity.to_string().expose_secret().to_owned()
    }

    /// The recovery file: the identity with what it is and how to use it.
    pub fn recovery_text(&self, created: &str) -> String {
        format!(
            "# Billora Backup recovery key, created {created}\n\
             # Keep this file safe and offline (print it, or store it on a USB stick in a safe).\n\
             # Anyone with it can read the backups encrypted to the public key below; without it\n\
             # they cannot be read by anyone.\n\
             # Restore without Billora Backup:\n\
             #   age -d -i this-file.txt BACKUP.sql.zst.age | zstd -d | mysql DATABASE\n\
             # public key: {}\n\
             {}\n",
            self.recipient,
            self.identity_text()
        )
    }
}

/// The keyring key of the identity for a public key.
pub fn identity_key(recipient: &str) -> String {
    format!("age-identity:{recipient}")
}

/// Saves the identity in the keyring (under its public key).
pub fn keep_identity(pair: &KeyPair, secrets: &dyn SecretStore) -> Result<()> {
    secrets.set(&identity_key(&pair.recipient), &pair.identity_text())
}

/// Keeps every identity in a recovery file's text in the keyring (under its public key), so
/// this computer opens the backups encrypted to it; returns their public keys.
pub fn import_identities(text: &str, secrets: &dyn SecretStore) -> Result<Vec<String>> {
    let mut keys = Keys::none();
    keys.add_text(text)?;
    let mut publics = Vec::new();
    for identity in &keys.0 {
        let public = identity.to_public().to_string();
        secrets.set(&identity_key(&public), identity.to_string().expose_secret())?;
        publics.push(public);
    }
    Ok(publics)
}

/// Creates a key pair: the recovery file first (private, never overwriting), so a key never
/// exists only in the keyring; then the keyring. Returns the pair (its public key to use).
pub fn create_key(
    recovery_file: &std::path::Path,
    secrets: &dyn SecretStore,
    now: jiff::Timestamp,
) -> Result<KeyPair> {
    if !recovery_file.is_absolute() {
        return Err(Error::invalid(
            "recovery_file",
            "give the recovery file's full path",
        ));
    }
    let pair = KeyPair::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(recovery_file).map_err(|e| {
        crate::error::io_error(
            e,
            &format!(
                "cannot create the recovery file {}",
                recovery_file.display()
            ),
        )
        .with_field("recovery_file")
    })?;
    let written = file
        .write_all(pair.recovery_text(&now.to_string()).as_bytes())
        .and_then(|_| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(recovery_file);
        return Err(crate::error::io_error(e, "writing the recovery file"));
    }
    keep_identity(&pair, secrets)?;
    Ok(pair)
}

/// Identities that can open files for the given recipients: from the keyring, plus any given
/// as text (a recovery file's content; comment lines are ignored).
#[derive(Clone, Default)]
pub struct Keys(Vec<age::x25519::Identity>, Vec<age::secrecy::SecretString>);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Keys({} identities, {} passphrases)",
            self.0.len(),
            self.1.len()
        )
    }
}

impl Keys {
    pub fn none() -> Keys {
        Keys(Vec::new(), Vec::new())
    }

    /// Adds a passphrase (for files encrypted with one).
    pub fn add_passphrase(&mut self, passphrase: &str) {
        self.1.push(passphrase.to_owned().into());
    }

    /// Adds every identity found in `text` (a recovery file).
    pub fn add_text(&mut self, text: &str) -> Result<()> {
        let mut found = false;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        {
            let identity = age::x25519::Identity::from_str(line).map_err(|_| {
                Error::invalid(
                    "identity",
                    "the key file holds a damaged AGE-SECRET-KEY line",
                )
            })?;
            self.0.push(identity);
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(Error::invalid(
                "identity",
                "no AGE-SECRET-KEY line in the key file",
            ))
        }
    }

    /// Adds the identities the keyring holds for these public keys (missing ones are skipped).
    pub fn add_from_keyring(&mut self, recipients: &[String], secrets: &dyn SecretStore) {
        for r in recipients {
            if let Ok(Some(text)) = secrets.get(&identity_key(r)) {
                let _ = self.add_text(&text);
            }
        }
    }
}

/// Wraps `out` so that what is written is encrypted as asked. Call `finish` on it.
pub fn encrypting_writer<W: Write>(
    encryption: &Encryption,
    out: W,
) -> Result<age::stream::StreamWriter<W>> {
    let encryptor = match encryption {
        Encryption::None => {
            return Err(Error::new(
                ErrorCode::InvalidInput,
                "no encryption asked for",
            ))
        }
        Encryption::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
        Encryption::Recipients(recipients) => {
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot encrypt: {e}")))?
        }
    };
    encryptor
        .wrap_output(out)
        .map_err(|e| crate::error::io_error(e, "starting the encryption"))
}

/// Opens an age file with `keys`. Errors before any plaintext is read when no key fits.
pub fn decrypting_reader<R: Read>(input: R, keys: &Keys) -> Result<age::stream::StreamReader<R>> {
    let decryptor = age::Decryptor::new(input).map_err(|e| decrypt_error(&e))?;
    let scrypt: Vec<age::scrypt::Identity> = keys
        .1
        .iter()
        .map(|p| age::scrypt::Identity::new(p.clone()))
        .collect();
    let identities = keys
        .0
        .iter()
        .map(|i| i as &dyn age::Identity)
        .chain(scrypt.iter().map(|i| i as &dyn age::Identity));
    let with_passphrase = decryptor.is_scrypt();
    decryptor.decrypt(identities).map_err(|e| match e {
        // age cannot tell a wrong passphrase from a damaged header: say the likely one.
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys
            if with_passphrase =>
        {
            Error::new(
                ErrorCode::AuthFailed,
                "this backup is encrypted with a passphrase, and the one given does not open it",
            )
            .with_hint("give the schedule's passphrase (--passphrase-stdin), exactly as it was set")
        }
        other => decrypt_error(&other),
    })
}

fn decrypt_error(e: &age::DecryptError) -> Error {
    match e {
        age::DecryptError::NoMatchingKeys => Error::new(
            ErrorCode::AuthFailed,
            "this backup is encrypted, and none of the keys at hand opens it",
        )
        .with_hint("give its recovery key file (--identity FILE) or its passphrase (--passphrase-stdin), or restore on the machine that holds the key"),
        other => Error::new(ErrorCode::Corrupt, format!("the encrypted backup is damaged: {other}"))
            .with_hint("use another backup; this file is damaged or incomplete"),
    }
}

/// A read error inside an encrypted stream means tampering or truncation, not a disk fault.
pub fn read_error(e: io::Error, what: &str) -> Error {
    if e.kind() == io::ErrorKind::InvalidData {
        Error::new(
            ErrorCode::Corrupt,
            format!("{what}: the encrypted data is damaged ({e})"),
        )
        .with_hint("use another backup; this file is damaged or incomplete")
    } else {
        crate::error::io_error(e, what)
    }
}

/// The keys to open `backup`: the keyring's identities for the public keys its manifest names,
/// and the identities in `identity_file` (a recovery file) when given.
pub fn keys_for(
    backup: &std::path::Path,
    secrets: &dyn SecretStore,
    identity_file: Option<&std::path::Path>,
) -> Result<Keys> {
    let mut keys = Keys::none();
    if let Some(manifest) = crate::manifest::Manifest::read_beside(backup)? {
        keys.add_from_keyring(&manifest.encrypted_for, secrets);
        if let (true, Some(id)) = (manifest.encrypted_with_passphrase, manifest.schedule_id) {
            if let Ok(Some(p)) = secrets.get(&passphrase_key(id)) {
                keys.add_passphrase(&p);
            }
        }
    }
    if let Some(path) = identity_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            crate::error::io_error(e, &format!("cannot read the key file {}", path.display()))
                .with_field("identity")
        })?;
        keys.add_text(&text)?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt(encryption: &Encryption, plain: &[u8]) -> Vec<u8> {
        let mut w = encrypting_writer(encryption, Vec::new()).expect("encryptor");
        w.write_all(plain).expect("write");
        w.finish().expect("finish")
    }

    fn decrypt(data: &[u8], keys: &Keys) -> Result<Vec<u8>> {
        let mut r = decrypting_reader(data, keys)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| read_error(e, "reading"))?;
        Ok(out)
    }

    #[test]
    fn round_trip_wrong_key_and_tampering() {
        let pair = KeyPair::generate();
        let recipients = parse_recipients("encrypt_to", &pair.recipient).expect("own key parses");
        let plain = b"INSERT INTO t VALUES (1);\n".repeat(10_000);
        let data = encrypt(&Encryption::Recipients(recipients), &plain);
        assert!(
            data.starts_with(AGE_MAGIC),
            "an age file starts with its magic"
        );

        let mut keys = Keys::none();
        keys.add_text(&pair.recovery_text("now"))
            .expect("the recovery file holds the identity");
        assert_eq!(
            decrypt(&data, &keys).expect("the right key opens it"),
            plain,
            "round trip"
        );

        let mut other = Keys::none();
        other
            .add_text(&KeyPair::generate().identity_text())
            .expect("identity");
        let wrong = decrypt(&data, &other).expect_err("another key cannot open it");
        assert_eq!(
            wrong.code,
            ErrorCode::AuthFailed,
            "a wrong key is an authentication error"
        );
        assert!(wrong.hint.is_some(), "the error says what to do");

        let mut tampered = data.clone();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 0x01;
        let bad = decrypt(&tampered, &keys).expect_err("a flipped byte is detected");
        assert_eq!(
            bad.code,
            ErrorCode::Corrupt,
            "tampering is reported as a damaged file"
        );

        let truncated = &data[..data.len() - 100];
        let cut = decrypt(truncated, &keys).expect_err("a truncated file is detected");
        assert_eq!(
            cut.code,
            ErrorCode::Corrupt,
            "truncation is reported as a damaged file"
        );
    }

    #[test]
    fn a_passphrase_round_trips_and_a_wrong_one_is_refused() {
        let data = encrypt(
            &Encryption::Passphrase("correct horse battery staple".to_owned().into()),
            b"SELECT 1;\n",
        );
        let mut keys = Keys::none();
        keys.add_passphrase("correct horse battery staple");
        assert_eq!(
            decrypt(&data, &keys).expect("opens"),
            b"SELECT 1;\n",
            "round trip"
        );
        let mut wrong = Keys::none();
        wrong.add_passphrase("incorrect horse battery staple");
        assert_eq!(
            decrypt(&data, &wrong).expect_err("refused").code,
            ErrorCode::AuthFailed,
            "a wrong passphrase is an authentication error"
        );
        assert!(
            check_passphrase("short").is_err(),
            "a short passphrase is refused"
        );
        assert!(
            check_passphrase("long enough words").is_ok(),
            "twelve characters or more pass"
        );
    }

    #[test]
    fn recipients_are_checked() {
        let a = KeyPair::generate().recipient;
        let b = KeyPair::generate().recipient;
        assert_eq!(
            parse_recipients("encrypt_to", &format!("{a}, {b}\n"))
                .expect("two keys")
                .len(),
            2,
            "comma and newline separated keys"
        );
        let err = parse_recipients("encrypt_to", "age1notakey").expect_err("refused");
        assert_eq!(
            err.field.as_deref(),
            Some("encrypt_to"),
            "the error names the field"
        );
        assert!(
            parse_recipients("encrypt_to", " , ").is_err(),
            "an empty list is refused"
        );
    }
}
