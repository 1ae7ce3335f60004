//! `keyring set/get/delete/list` and the `keyring:NAME` credential source.
//!
//! Values live in the OS credential store through the `keyring` crate, under
//! the service name `acme-token` with the entry name as the account:
//!
//! - Linux and other Unix systems: the freedesktop Secret Service over D-Bus
//!   (GNOME Keyring, KWallet, KeePassXC), talked to in pure Rust.
//! - macOS: the user's login keychain.
//! - Windows: the Windows Credential Manager.
//!
//! No store can list entries for us, so the names (never the values) are
//! kept in a small index file under the user's config directory.

use crate::source::{read_bounded, BoundedError};
use acme_token_core::SecretValue;
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Service name of every entry in the OS store.
pub const SERVICE: &str = "acme-token";

/// Maximum wait for the OS store. A locked Secret Service collection may wait
/// for a password prompt that no one can answer in a headless session.
const STORE_TIMEOUT: Duration = Duration::from_secs(20);

/// Maximum length of an entry name.
const MAX_NAME_LEN: usize = 128;

/// Flags of `keyring`.
#[derive(Debug, Clone, Args)]
pub struct KeyringArgs {
    #[command(subcommand)]
    pub command: KeyringCommand,
}

/// Subcommands of `keyring`.
#[derive(Debug, Clone, Subcommand)]
pub enum KeyringCommand {
    /// Store a value under NAME: prompts without echo on a terminal, otherwise
    /// reads stdin (one trailing newline is removed). Replaces an existing value.
    Set {
        /// Entry name: letters, digits, '.', '_' or '-'.
        name: String,
    },
    /// Print the fingerprint and length of the value stored under NAME, never the value.
    Get {
        /// Entry name.
        name: String,
    },
    /// Delete the value stored under NAME.
    Delete {
        /// Entry name.
        name: String,
    },
    /// List the names stored with `keyring set` (names only).
    List,
}

/// Errors of the keyring commands and of the `keyring:NAME` source; all exit 2.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("invalid keyring entry name '{0}': use 1 to 128 letters, digits, '.', '_' or '-'")]
    InvalidName(String),
    #[error("no keyring entry named '{0}': store one with `kubectl acme-token keyring set {0}`")]
    NotFound(String),
    #[error("the OS keyring is locked or not available ({detail}); {hint}")]
    Unavailable { detail: String, hint: &'static str },
    #[error("the OS keyring did not respond within {} s for entry '{name}'; it may be locked and waiting for a password prompt. {hint}", STORE_TIMEOUT.as_secs())]
    TimedOut { name: String, hint: &'static str },
    #[error("the OS keyring failed on entry '{name}': {detail}")]
    Failed { name: String, detail: String },
    #[error("the value for keyring entry '{0}' is empty; nothing was stored")]
    EmptyValue(String),
    #[error("the value for keyring entry '{0}' is larger than 64 KiB; nothing was stored")]
    TooLarge(String),
    #[error("cannot read the value for keyring entry '{name}': {source}")]
    Input {
        name: String,
        source: std::io::Error,
    },
}

#[cfg(target_os = "macos")]
const UNAVAILABLE_HINT: &str = "unlock the login keychain (Keychain Access) and try again";
#[cfg(target_os = "windows")]
const UNAVAILABLE_HINT: &str = "the Windows Credential Manager must be available to this user";
#[cfg(not(any(target_os = "macos", target_os = "windows")))]
const UNAVAILABLE_HINT: &str = "start and unlock a Secret Service in this D-Bus session (GNOME Keyring, KWallet or KeePassXC); headless, run `dbus-run-session -- sh` and then `gnome-keyring-daemon --unlock --components=secrets` with the password on stdin";

/// Checks an entry name.
pub fn validate_name(name: &str) -> Result<(), KeyringError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(KeyringError::InvalidName(name.to_string()))
    }
}

/// A place to keep credential values by name.
pub trait SecretStore: Send + Sync {
    fn set(&self, name: &str, value: &[u8]) -> Result<(), KeyringError>;
    fn get(&self, name: &str) -> Result<Vec<u8>, KeyringError>;
    fn delete(&self, name: &str) -> Result<(), KeyringError>;
}

/// The OS credential store, through the `keyring` crate.
pub struct OsStore;

fn map_error(name: &str, error: keyring::Error) -> KeyringError {
    match error {
        keyring::Error::NoEntry => KeyringError::NotFound(name.to_string()),
        keyring::Error::NoStorageAccess(err) | keyring::Error::PlatformFailure(err) => {
            KeyringError::Unavailable {
                detail: err.to_string(),
                hint: UNAVAILABLE_HINT,
            }
        }
        other => KeyringError::Failed {
            name: name.to_string(),
            detail: other.to_string(),
        },
    }
}

/// Runs `operation` on a thread of its own with a deadline. The Secret
/// Service client blocks on its own runtime, which must not run inside the
/// program's Tokio runtime, and a locked store may never answer.
fn with_deadline<T: Send + 'static>(
    name: &str,
    operation: impl FnOnce() -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, KeyringError> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(operation());
    });
    match receiver.recv_timeout(STORE_TIMEOUT) {
        Ok(result) => result,
        Err(_) => Err(KeyringError::TimedOut {
            name: name.to_string(),
            hint: UNAVAILABLE_HINT,
        }),
    }
}

fn entry(name: &str) -> Result<keyring::Entry, KeyringError> {
    keyring::Entry::new(SERVICE, name).map_err(|err| map_error(name, err))
}

impl SecretStore for OsStore {
    fn set(&self, name: &str, value: &[u8]) -> Result<(), KeyringError> {
        let owned_name = name.to_string();
        let value = secrecy::SecretSlice::from(value.to_vec());
        with_deadline(name, move || {
            use secrecy::ExposeSecret;
            entry(&owned_name)?
                .set_secret(value.expose_secret())
                .map_err(|err| map_error(&owned_name, err))
        })
    }

    fn get(&self, name: &str) -> Result<Vec<u8>, KeyringError> {
        let owned_name = name.to_string();
        with_deadline(name, move || {
            entry(&owned_name)?
                .get_secret()
                .map_err(|err| map_error(&owned_name, err))
        })
    }

    fn delete(&self, name: &str) -> Result<(), KeyringError> {
        let owned_name = name.to_string();
        with_deadline(name, move || {
            entry(&owned_name)?
                .delete_credential()
                .map_err(|err| map_error(&owned_name, err))
        })
    }
}

/// Reads the value stored under `name` from the OS store, for `keyring:NAME`.
pub fn read_value(name: &str) -> Result<Vec<u8>, KeyringError> {
    validate_name(name)?;
    OsStore.get(name)
}

/// The index of stored names: one name per line, never a value.
pub struct NameIndex {
    path: Option<PathBuf>,
}

impl NameIndex {
    /// The index under `$XDG_CONFIG_HOME/acme-token/`, else `~/.config/acme-token/`,
    /// else `%APPDATA%\acme-token\`.
    pub fn from_env() -> Self {
        let var = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        let base = var("XDG_CONFIG_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|home| home.join(".config")))
            .or_else(|| var("APPDATA"));
        Self {
            path: base.map(|dir| dir.join("acme-token").join("keyring-names")),
        }
    }

    /// Index at an explicit path, for tests.
    #[cfg(test)]
    pub fn at(path: PathBuf) -> Self {
        Self { path: Some(path) }
    }

    /// Names in the index, sorted; an absent file is an empty index.
    pub fn names(&self) -> std::io::Result<Vec<String>> {
        let Some(path) = &self.path else {
            return Ok(Vec::new());
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut names: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|line| validate_name(line).is_ok())
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn write(&self, names: &[String]) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Err(std::io::Error::other(
                "no config directory: set HOME or XDG_CONFIG_HOME",
            ));
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = path.with_extension("tmp");
        let mut text = names.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, path)
    }

    /// Adds a name.
    pub fn add(&self, name: &str) -> std::io::Result<()> {
        let mut names = self.names()?;
        if !names.iter().any(|known| known == name) {
            names.push(name.to_string());
            names.sort();
        }
        self.write(&names)
    }

    /// Removes a name.
    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        let names: Vec<String> = self.names()?.into_iter().filter(|known| known != name).collect();
        self.write(&names)
    }

    /// Path of the index file, for messages.
    pub fn describe(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(no config directory)".to_string())
    }
}

/// Reads the value to store: a prompt without echo on a terminal, else stdin
/// with one trailing newline removed.
fn read_new_value(name: &str) -> Result<Vec<u8>, KeyringError> {
    let input_error = |source| KeyringError::Input {
        name: name.to_string(),
        source,
    };
    let mut value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Value for keyring entry {name} (input hidden): "))
            .map_err(input_error)?
            .into_bytes()
    } else {
        read_bounded(std::io::stdin().lock(), "stdin").map_err(|err| match err {
            BoundedError::Io(source) => input_error(source),
            BoundedError::TooLarge(_) => KeyringError::TooLarge(name.to_string()),
        })?
    };
    if value.ends_with(b"\n") {
        value.pop();
        if value.ends_with(b"\r") {
            value.pop();
        }
    }
    if value.is_empty() {
        return Err(KeyringError::EmptyValue(name.to_string()));
    }
    Ok(value)
}

/// Describes a stored value: fingerprint and length.
fn describe_value(value: &[u8]) -> String {
    SecretValue::from_bytes(value).to_string()
}

/// Runs a `keyring` subcommand and returns the exit code.
pub fn run(args: &KeyringArgs) -> u8 {
    let index = NameIndex::from_env();
    let mut stdout = std::io::stdout().lock();
    match execute(&args.command, &OsStore, &index, &mut stdout, read_new_value) {
        Ok(()) => 0,
        Err(err) => {
            eprintln!("error: {err}");
            2
        }
    }
}

/// Runs a subcommand against `store` and `index`, writing to `out`.
pub fn execute(
    command: &KeyringCommand,
    store: &dyn SecretStore,
    index: &NameIndex,
    out: &mut dyn Write,
    read_input: impl FnOnce(&str) -> Result<Vec<u8>, KeyringError>,
) -> Result<(), KeyringError> {
    match command {
        KeyringCommand::Set { name } => {
            validate_name(name)?;
            let value = read_input(name)?;
            store.set(name, &value)?;
            let _ = writeln!(out, "stored keyring entry {name}: {}", describe_value(&value));
            if let Err(err) = index.add(name) {
                eprintln!(
                    "warning: the value is stored, but the name index {} could not be updated: {err}; `keyring list` will not show {name}",
                    index.describe()
                );
            }
        }
        KeyringCommand::Get { name } => {
            validate_name(name)?;
            let value = store.get(name)?;
            let _ = writeln!(out, "{name}: {}", describe_value(&value));
        }
        KeyringCommand::Delete { name } => {
            validate_name(name)?;
            store.delete(name)?;
            let _ = writeln!(out, "deleted keyring entry {name}");
            if let Err(err) = index.remove(name) {
                eprintln!(
                    "warning: the entry is deleted, but the name index {} could not be updated: {err}",
                    index.describe()
                );
            }
        }
        KeyringCommand::List => {
            let names = index.names().map_err(|source| KeyringError::Input {
                name: index.describe(),
                source,
            })?;
            if names.is_empty() {
                eprintln!(
                    "no keyring entries stored with `keyring set` (index {})",
                    index.describe()
                );
            }
            for name in names {
                let _ = writeln!(out, "{name}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// An in-memory store standing in for the OS store.
    #[derive(Default)]
    struct MemoryStore(Mutex<BTreeMap<String, Vec<u8>>>);

    impl SecretStore for MemoryStore {
        fn set(&self, name: &str, value: &[u8]) -> Result<(), KeyringError> {
            self.0.lock().unwrap().insert(name.into(), value.to_vec());
            Ok(())
        }
        fn get(&self, name: &str) -> Result<Vec<u8>, KeyringError> {
            self.0
                .lock()
                .unwrap()
                .get(name)
                .cloned()
                .ok_or_else(|| KeyringError::NotFound(name.into()))
        }
        fn delete(&self, name: &str) -> Result<(), KeyringError> {
            self.0
                .lock()
                .unwrap()
                .remove(name)
                .map(|_| ())
                .ok_or_else(|| KeyringError::NotFound(name.into()))
        }
    }

    const CANARY: &str = "CANARYcanary0123456789CANARYcanary012345";

    fn run_command(
        command: KeyringCommand,
        store: &MemoryStore,
        index: &NameIndex,
    ) -> Result<String, KeyringError> {
        let mut out = Vec::new();
        execute(&command, store, index, &mut out, |_| Ok(CANARY.as_bytes().to_vec()))?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn set_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let index = NameIndex::at(dir.path().join("names"));
        let store = MemoryStore::default();
        let set = run_command(KeyringCommand::Set { name: "cf-next".into() }, &store, &index).unwrap();
        assert!(set.contains("(40 bytes)"), "{set}");
        let get = run_command(KeyringCommand::Get { name: "cf-next".into() }, &store, &index).unwrap();
        assert!(get.starts_with("cf-next: sha256:"), "{get}");
        assert!(!get.contains(CANARY));
        assert!(!set.contains(CANARY));
        let list = run_command(KeyringCommand::List, &store, &index).unwrap();
        assert_eq!(list, "cf-next\n");
        let index_text = std::fs::read_to_string(dir.path().join("names")).unwrap();
        assert!(!index_text.contains(CANARY), "{index_text}");
        run_command(KeyringCommand::Delete { name: "cf-next".into() }, &store, &index).unwrap();
        assert_eq!(run_command(KeyringCommand::List, &store, &index).unwrap(), "");
        let missing = run_command(KeyringCommand::Get { name: "cf-next".into() }, &store, &index).unwrap_err();
        assert!(matches!(missing, KeyringError::NotFound(_)), "{missing}");
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_name("cf-next_2.prod").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn empty_value_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let index = NameIndex::at(dir.path().join("names"));
        let store = MemoryStore::default();
        let mut out = Vec::new();
        let err = execute(
            &KeyringCommand::Set { name: "x".into() },
            &store,
            &index,
            &mut out,
            |name| Err(KeyringError::EmptyValue(name.into())),
        )
        .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        assert!(index.names().unwrap().is_empty());
    }

    #[test]
    fn crate_mock_store_round_trips() {
        // The keyring crate's own mock credential keeps a value per entry object.
        let mock = keyring::mock::MockCredential::default();
        let entry = keyring::Entry::new_with_credential(Box::new(mock));
        entry.set_secret(CANARY.as_bytes()).unwrap();
        assert_eq!(entry.get_secret().unwrap(), CANARY.as_bytes());
        entry.delete_credential().unwrap();
        assert!(matches!(
            map_error("x", entry.get_secret().unwrap_err()),
            KeyringError::NotFound(_)
        ));
    }
}
