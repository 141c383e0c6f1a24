//! Local mode's Auth Token: a random token kept in a file only the user can read.
//!
//! With no `TWILIO_AUTH_TOKEN`, the server and `switchboard sign` share this token, so signature
//! checking stays on while a developer drives the server with curl.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use secrecy::SecretString;

const FILE_NAME: &str = "local-token";

/// Reads the token in `dir`, creating the directory (0700) and a fresh token (0600) if needed.
pub fn load_or_create(dir: &Path) -> Result<(SecretString, PathBuf), String> {
    let path = dir.join(FILE_NAME);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim();
            if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{} does not hold a 32-hex-digit token; delete it to make a new one",
                    path.display()
                ));
            }
            ensure_private(&path)?;
            return Ok((SecretString::from(token.to_owned()), path));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let token = random_token();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path);
    if let Err(e) = &file {
        // Another process (the server, or `sign`) created it between our read and our create.
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return load_or_create(dir);
        }
    }
    let file = file
        .as_mut()
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(format!("{token}\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((SecretString::from(token), path))
}

/// Refuses a token file others can read: a leaked local token lets anyone forge webhooks.
fn ensure_private(path: &Path) -> Result<(), String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} is readable by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn creates_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let (a, path) = load_or_create(dir.path()).unwrap();
        let (b, _) = load_or_create(dir.path()).unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn refuses_a_world_readable_or_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = load_or_create(dir.path()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            load_or_create(dir.path())
                .unwrap_err()
                .contains("chmod 600")
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "nope").unwrap();
        assert!(
            load_or_create(dir.path())
                .unwrap_err()
                .contains("32-hex-digit")
        );
    }
}
