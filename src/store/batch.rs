//! One batch of writes in one transaction, with multi-row statements for the hot parts (replay
//! keys, opt-out lookups, inbound messages): a statement costs far more than a row.

use std::collections::{HashMap, HashSet};

use sqlx::{AnyConnection, Row};

use super::model::{Effect, InboundMessage, Outcome, WebhookWrite, now_millis};
use super::outbox::OutboxUpdate;
use super::writer::{Write, apply_effect};
use super::{Backend, StoreError};

/// Rows per multi-row statement; keeps every statement far below both databases' parameter limits.
const CHUNK: usize = 128;

/// Splits `rows` into runs of 128, 64, ..., 2 or 1 rows. A multi-row statement's text depends on
/// its row count, and each connection keeps every text it prepared: with only these eight sizes,
/// a connection prepares a few dozen statements once, instead of one for each batch size seen
/// (each a statement's worth of memory for as long as the connection lives).
fn chunks<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let n = rows.len().min(CHUNK);
        let size = 1 << n.ilog2();
        let (chunk, rest) = rows.split_at(size);
        rows = rest;
        Some(chunk)
    })
}

/// `($1, $2, $3), ($4, $5, $6), ...` for `rows` rows of `cols` columns. SQLite gets plain `?`:
/// finding a named parameter's index there is a linear scan, quadratic over a big statement.
fn values(b: Backend, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match b {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    s.push('$');
                    s.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

/// Rows up to which a multi-row statement stays prepared on its connection. Bigger ones come
/// only with bursts, where preparing again is small beside the rows, and each kept one would
/// hold its program and a slot per parameter (2,176 for 128 messages) for the connection's life.
const KEEP_PREPARED: usize = 8;

/// A statement over `rows` rows of a batch.
fn statement(
    sql: &str,
    rows: usize,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(sql).persistent(rows <= KEEP_PREPARED)
}

/// `$1, $2, ...` (or `?, ?, ...`) for an `IN` list.
pub(super) fn list(b: Backend, n: usize) -> String {
    let v = values(b, 1, n);
    v[1..v.len() - 1].to_owned()
}

pub async fn apply(
    tx: &mut AnyConnection,
    b: Backend,
    writes: &[&Write],
) -> Result<Vec<Outcome>, StoreError> {
    let hooks: Vec<(usize, &WebhookWrite)> = writes
        .iter()
        .enumerate()
        .filter_map(|(i, w)| match w {
            Write::Webhook(h) => Some((i, h)),
            Write::Effects(_) | Write::Claim { .. } => None,
        })
        .collect();
    let opted = opted_out(tx, b, &hooks).await?;
    // The answer each webhook gives, chosen by the opt-out state inside this transaction.
    let responses: HashMap<usize, &str> = hooks
        .iter()
        .map(|(i, h)| {
            let r = match &h.response_if_opted_out {
                Some(c) if opted.contains(&(c.scope.as_str(), c.number.as_str())) => {
                    c.response.as_str()
                }
                _ => h.response.as_str(),
            };
            (*i, r)
        })
        .collect();
    // The first write of a key in the batch owns it; a later one in the same batch is its replay.
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, h) in &hooks {
        owner.entry(h.replay_key.as_str()).or_insert(*i);
    }
    let owners: Vec<(usize, &WebhookWrite)> = hooks
        .iter()
        .copied()
        .filter(|(i, h)| owner[h.replay_key.as_str()] == *i)
        .collect();
    let fresh = insert_replay_keys(tx, b, &owners, &responses).await?;
    let stale: Vec<&str> = owners
        .iter()
        .map(|(_, h)| h.replay_key.as_str())
        .filter(|k| !fresh.contains(*k))
        .collect();
    let stored = stored_responses(tx, b, &stale).await?;

    let mut messages: Vec<&InboundMessage> = Vec::new();
    let mut sent: Vec<(&str, &str, &str)> = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        let effects = match w {
            Write::Webhook(h)
                if owner[h.replay_key.as_str()] == i && fresh.contains(h.replay_key.as_str()) =>
            {
                &h.effects
            }
            Write::Webhook(_) | Write::Claim { .. } => continue,
            Write::Effects(e) => e,
        };
        for e in effects {
            match e {
                Effect::InboundMessage(m) => messages.push(m),
                Effect::OutboxUpdate(OutboxUpdate::Sent {
                    id,
                    message_sid,
                    detail,
                }) => {
                    sent.push((id, message_sid, detail));
                }
                other => apply_effect(tx, b, other).await?,
            }
        }
    }
    insert_messages(tx, b, &messages).await?;
    mark_sent(tx, b, &sent).await?;

    let mut outcomes = Vec::with_capacity(writes.len());
    for (i, w) in writes.iter().enumerate() {
        outcomes.push(match w {
            Write::Effects(_) => Outcome::Fresh(String::new()),
            Write::Claim { limit, lease_ms } => {
                Outcome::Claimed(super::outbox::claim(tx, b, *limit, *lease_ms).await?)
            }
            Write::Webhook(h) => {
                let key = h.replay_key.as_str();
                let first = owner[key];
                if first == i && fresh.contains(key) {
                    Outcome::Fresh(responses[&i].to_owned())
                } else if fresh.contains(key) {
                    Outcome::Replay(responses[&first].to_owned())
                } else {
                    let r = stored
                        .get(key)
                        .ok_or_else(|| StoreError::Database(sqlx::Error::RowNotFound))?;
                    Outcome::Replay(r.clone())
                }
            }
        });
    }
    Ok(outcomes)
}

/// The (scope, number) pairs among the batch's opt-out checks that are opted out now.
async fn opted_out<'a>(
    tx: &mut AnyConnection,
    b: Backend,
    hooks: &[(usize, &'a WebhookWrite)],
) -> Result<HashSet<(&'a str, &'a str)>, StoreError> {
    let checks: Vec<(&str, &str)> = hooks
        .iter()
        .filter_map(|(_, h)| h.response_if_opted_out.as_ref())
        .map(|c| (c.scope.as_str(), c.number.as_str()))
        .collect();
    let hits = opted_out_pairs(tx, b, &checks).await?;
    Ok(checks
        .into_iter()
        .filter(|(s, n)| hits.contains(&((*s).to_owned(), (*n).to_owned())))
        .collect())
}

/// Which (scope, number) pairs are opted out now, in one query per chunk.
pub(super) async fn opted_out_pairs(
    conn: &mut sqlx::AnyConnection,
    b: Backend,
    pairs: &[(&str, &str)],
) -> Result<HashSet<(String, String)>, StoreError> {
    let mut out = HashSet::new();
    let wanted: HashSet<(&str, &str)> = pairs.iter().copied().collect();
    let mut numbers: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    numbers.sort_unstable();
    numbers.dedup();
    for chunk in chunks(&numbers) {
        let sql = format!(
            "SELECT scope, number FROM opt_outs WHERE opted_out = 1 AND number IN ({})",
            list(b, chunk.len())
        );
        let mut q = statement(&sql, chunk.len());
        for n in chunk {
            q = q.bind(*n);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let pair: (String, String) = (r.try_get(0)?, r.try_get(1)?);
            if wanted.contains(&(pair.0.as_str(), pair.1.as_str())) {
                out.insert(pair);
            }
        }
    }
    Ok(out)
}

/// Inserts the keys; returns those that were new (the others were committed before).
async fn insert_replay_keys<'a>(
    tx: &mut AnyConnection,
    b: Backend,
    owners: &[(usize, &'a WebhookWrite)],
    responses: &HashMap<usize, &str>,
) -> Result<HashSet<&'a str>, StoreError> {
    let now = now_millis();
    let mut fresh = HashSet::new();
    for chunk in chunks(owners) {
        let sql = format!(
            "INSERT INTO webhook_replays (replay_key, response, received_at) VALUES {} \
             ON CONFLICT (replay_key) DO NOTHING RETURNING replay_key",
            values(b, chunk.len(), 3)
        );
        let mut q = statement(&sql, chunk.len());
        for (i, h) in chunk {
            q = q.bind(&h.replay_key).bind(responses[i]).bind(now);
        }
        let inserted: HashSet<String> = q
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        fresh.extend(
            chunk
                .iter()
                .map(|(_, h)| h.replay_key.as_str())
                .filter(|k| inserted.contains(*k)),
        );
    }
    Ok(fresh)
}

async fn stored_responses(
    tx: &mut AnyConnection,
    b: Backend,
    keys: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    for chunk in chunks(keys) {
        let sql = format!(
            "SELECT replay_key, response FROM webhook_replays WHERE replay_key IN ({})",
            list(b, chunk.len())
        );
        let mut q = statement(&sql, chunk.len());
        for k in chunk {
            q = q.bind(*k);
        }
        for r in q.fetch_all(&mut *tx).await? {
            out.insert(r.try_get(0)?, r.try_get(1)?);
        }
    }
    Ok(out)
}

pub(super) async fn insert_messages(
    tx: &mut AnyConnection,
    b: Backend,
    messages: &[&InboundMessage],
) -> Result<(), StoreError> {
    for chunk in chunks(messages) {
        let sql = format!(
            "INSERT INTO inbound_messages (message_sid, account_sid, messaging_service_sid, from_number, to_number, \
             body, num_media, num_segments, from_city, from_state, from_zip, from_country, to_city, to_state, to_zip, \
             to_country, received_at) VALUES {} ON CONFLICT (message_sid) DO NOTHING",
            values(b, chunk.len(), 17)
        );
        let mut q = statement(&sql, chunk.len());
        for m in chunk {
            q = q
                .bind(&m.message_sid)
                .bind(&m.account_sid)
                .bind(&m.messaging_service_sid)
                .bind(&m.from)
                .bind(&m.to)
                .bind(&m.body)
                .bind(m.num_media)
                .bind(m.num_segments);
            for g in &m.geo {
                q = q.bind(g);
            }
            q = q.bind(m.received_at);
        }
        q.execute(&mut *tx).await?;
        let media: Vec<(&str, i64, &String, &Option<String>)> = chunk
            .iter()
            .flat_map(|m| {
                m.media
                    .iter()
                    .enumerate()
                    .map(|(i, (u, t))| (m.message_sid.as_str(), i as i64, u, t))
            })
            .collect();
        for media in chunks(&media) {
            let sql = format!(
                "INSERT INTO inbound_media (message_sid, idx, url, content_type) VALUES {} \
                 ON CONFLICT (message_sid, idx) DO NOTHING",
                values(b, media.len(), 4)
            );
            let mut q = statement(&sql, media.len());
            for (sid, i, url, ct) in media {
                q = q.bind(*sid).bind(*i).bind(*url).bind(*ct);
            }
            q.execute(&mut *tx).await?;
        }
    }
    Ok(())
}

/// Sends Twilio accepted: each row's SID set in one UPDATE, their events in one INSERT.
async fn mark_sent(
    tx: &mut AnyConnection,
    b: Backend,
    sent: &[(&str, &str, &str)],
) -> Result<(), StoreError> {
    let now = now_millis();
    for chunk in chunks(sent) {
        let n = chunk.len();
        let mut case = String::from("CASE id");
        for _ in 0..n {
            case.push_str(" WHEN ? THEN ?");
        }
        case.push_str(" END");
        let sql = format!(
            "UPDATE outbox SET status = 'sent', message_sid = {case}, locked_until = NULL, updated_at = ? \
             WHERE id IN ({})",
            vec!["?"; n].join(", ")
        );
        let sql = if b == Backend::Postgres {
            numbered(&sql)
        } else {
            sql
        };
        let mut q = statement(&sql, n);
        for (id, sid, _) in chunk {
            q = q.bind(*id).bind(*sid);
        }
        q = q.bind(now);
        for (id, _, _) in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
        let sql = format!(
            "INSERT INTO outbox_events (outbox_id, status, detail, at) VALUES {}",
            values(b, n, 4)
        );
        let mut q = statement(&sql, n);
        for (id, _, detail) in chunk {
            q = q.bind(*id).bind("sent").bind(*detail).bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// `?` placeholders renumbered `$1, $2, ...` for PostgreSQL.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use sqlx::Execute;

    use super::{Backend, KEEP_PREPARED, chunks, list, numbered, statement, values};

    fn kept(rows: usize) -> bool {
        Execute::persistent(&statement("SELECT 1", rows))
    }

    #[test]
    fn only_small_batch_statements_stay_prepared() {
        assert!(kept(KEEP_PREPARED));
        assert!(!kept(KEEP_PREPARED + 1));
        assert!(!kept(128));
        // Every size a batch is cut into up to the limit is one the connection keeps.
        let rows: Vec<usize> = (0..KEEP_PREPARED).collect();
        assert!(chunks(&rows).all(|c| kept(c.len())));
    }

    #[test]
    fn chunks_are_powers_of_two_in_order() {
        let rows: Vec<usize> = (0..300).collect();
        let sizes: Vec<usize> = chunks(&rows).map(<[usize]>::len).collect();
        assert_eq!(sizes, [128, 128, 32, 8, 4]);
        let back: Vec<usize> = chunks(&rows).flatten().copied().collect();
        assert_eq!(back, rows);
        assert_eq!(
            chunks(&rows[..63]).map(<[usize]>::len).collect::<Vec<_>>(),
            [32, 16, 8, 4, 2, 1]
        );
        assert_eq!(chunks::<usize>(&[]).count(), 0);
    }

    #[test]
    fn question_marks_become_numbered() {
        assert_eq!(
            numbered("a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
    }

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            values(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list(Backend::Postgres, 3), "$1, $2, $3");
        assert_eq!(list(Backend::Sqlite, 1), "?");
    }
}
