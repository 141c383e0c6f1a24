//! Which storage failures mean the database is out of reach, not one write refused; a new
//! SQLite database opening cleanly.

use super::*;

#[test]
fn an_unreachable_database_is_told_apart_from_a_refused_write() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    for e in [
        StoreError::Database(sqlx::Error::Io(refused)),
        StoreError::Database(sqlx::Error::PoolTimedOut),
        StoreError::Database(sqlx::Error::PoolClosed),
        StoreError::Unavailable("gone".to_owned()),
    ] {
        assert!(e.is_unavailable(), "{e}");
    }
    for e in [
        StoreError::Database(sqlx::Error::RowNotFound),
        StoreError::Database(sqlx::Error::ColumnNotFound("x".to_owned())),
        StoreError::WriterGone,
        StoreError::BadSetting("x".to_owned()),
    ] {
        assert!(!e.is_unavailable(), "{e}");
    }
}

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The pool opens its connections together, each on its own thread; before the database was
/// switched to WAL ahead of them, about one start in fifteen logged "database is locked".
#[test]
fn a_new_sqlite_database_opens_without_lock_errors() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .finish();
    // One thread, so every task of the pool logs to this test's subscriber.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            for _ in 0..60 {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/new.db", dir.path().display());
                let store = Store::connect(&url).await.unwrap();
                store.ping().await.unwrap();
            }
        })
    });
    let logged = String::from_utf8_lossy(&out.0.lock().unwrap()).into_owned();
    assert!(!logged.contains("locked"), "{logged}");
}
