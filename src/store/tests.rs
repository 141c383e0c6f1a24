//! Which storage failures mean the database is out of reach, not one write refused.

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
