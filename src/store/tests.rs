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

/// The pool opens its connections together, each on its own thread; before the database was
/// switched to WAL ahead of them, about one start in fifteen logged "database is locked". The
/// pool's connections find the database in WAL mode.
#[test]
fn a_new_sqlite_database_opens_without_lock_errors() {
    // One thread, so every task of the pool logs to this test's subscriber.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let logged = crate::telemetry::warnings_logged_by(|| {
        rt.block_on(async {
            for _ in 0..60 {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/new.db", dir.path().display());
                let store = Store::connect(&url).await.unwrap();
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&store.pool)
                    .await
                    .unwrap();
                assert_eq!(mode, "wal");
            }
        })
    });
    assert!(!logged.contains("locked"), "{logged}");
}
