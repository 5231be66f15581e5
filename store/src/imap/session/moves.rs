//! After the store's acknowledgements: moving messages (MOVE, or UIDPLUS copy and expunge),
//! waiting in IDLE, and the small IMAP syntax helpers.

use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use tokio::time::timeout;

use super::{Connected, ImapError, MOVE_CHUNK, POLL_WITHOUT_IDLE, State};

impl State {
    /// Takes the acknowledgements that arrived; with a wait, blocks up to `wait` for all
    /// outstanding ones.
    pub(super) fn collect_acks(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        loop {
            let next = if wait.is_zero() || self.unacked.is_empty() {
                match self.acks_rx.try_recv() {
                    Ok(a) => a,
                    Err(_) => return,
                }
            } else {
                match self
                    .acks_rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                {
                    Ok(a) => a,
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return,
                }
            };
            let (validity, uid) = next;
            if Some(validity) == self.uid_validity && self.unacked.remove(&uid) {
                self.to_move.push(uid);
            }
        }
    }

    pub(super) async fn move_acknowledged(&mut self) -> Result<(), ImapError> {
        let Some(folder) = self.peer.opts.move_to.clone() else {
            self.to_move.clear();
            return Ok(());
        };
        if self.to_move.is_empty() {
            return Ok(());
        }
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let target = quote(&self.server_name(&folder));
        let mut result = Ok(());
        self.to_move.sort_unstable();
        for chunk in self.to_move.chunks(MOVE_CHUNK) {
            let set = uid_set(chunk.iter().copied());
            result = self.move_set(&mut conn, &set, &target).await;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            self.to_move.clear();
            self.conn = Some(conn);
        }
        result
    }

    pub(super) async fn move_set(
        &self,
        conn: &mut Connected,
        set: &str,
        target: &str,
    ) -> Result<(), ImapError> {
        let session = &mut conn.session;
        if conn.capabilities.has("MOVE") {
            return self
                .peer
                .timed(
                    "moving",
                    session.run_command_and_check_ok(format!("UID MOVE {set} {target}")),
                )
                .await;
        }
        // UIDPLUS: copy, flag exactly these, expunge exactly these.
        self.peer
            .timed(
                "copying",
                session.run_command_and_check_ok(format!("UID COPY {set} {target}")),
            )
            .await?;
        {
            let flagged = self
                .peer
                .timed(
                    "flagging",
                    session.uid_store(set, "+FLAGS.SILENT (\\Deleted)"),
                )
                .await?;
            self.peer
                .collect("flagging", flagged, 2 * MOVE_CHUNK + 16)
                .await?;
        }
        let expunged = self
            .peer
            .timed("expunging", session.uid_expunge(set))
            .await?;
        self.peer
            .collect("expunging", expunged, 2 * MOVE_CHUNK + 16)
            .await?;
        Ok(())
    }

    /// Waits in IDLE until the server reports a change, the renewal time passes, or the stop
    /// signal.
    pub(super) async fn idle(&mut self) -> Result<(), ImapError> {
        let Some(conn) = self.conn.take() else {
            return Ok(());
        };
        let Connected {
            session,
            capabilities,
        } = conn;
        let unsolicited = session.unsolicited_responses.clone();
        let mut changed = std::mem::take(&mut self.saw_exists);
        while let Ok(r) = unsolicited.try_recv() {
            changed |= matches!(r, async_imap::types::UnsolicitedResponse::Exists(_));
        }
        if changed {
            self.conn = Some(Connected {
                session,
                capabilities,
            });
            return Ok(());
        }
        if !capabilities.has("IDLE") {
            // RFC 2177: no IDLE unless the server offers it. Poll instead: the next step
            // lists again.
            self.conn = Some(Connected {
                session,
                capabilities,
            });
            let stop = self.peer.opts.stop.clone();
            tokio::select! {
                () = tokio::time::sleep(self.peer.opts.idle_renew.min(POLL_WITHOUT_IDLE)) => {}
                () = stop.stopped() => {}
            }
            return Ok(());
        }
        let mut handle = session.idle();
        self.peer.timed("starting IDLE", handle.init()).await?;
        while let Ok(r) = unsolicited.try_recv() {
            changed |= matches!(r, async_imap::types::UnsolicitedResponse::Exists(_));
        }
        if !changed {
            let renew = self.peer.opts.idle_renew;
            let stop = self.peer.opts.stop.clone();
            let (wait, interrupt) = handle.wait_with_timeout(renew + Duration::from_secs(60));
            let waited = tokio::select! {
                r = wait => r.map(|_| ()),
                () = tokio::time::sleep(renew) => Ok(()),
                () = stop.stopped() => Ok(()),
            };
            drop(interrupt);
            waited.map_err(|e| self.peer.session_error("waiting in IDLE", e))?;
        }
        let session = self.peer.timed("ending IDLE", handle.done()).await?;
        self.conn = Some(Connected {
            session,
            capabilities,
        });
        Ok(())
    }

    /// Reads the unsolicited answers that piled up (async-imap keeps 100 and drops the rest),
    /// remembering whether one announced new mail.
    pub(super) fn drain_unsolicited(&mut self) {
        if let Some(conn) = &self.conn {
            while let Ok(r) = conn.session.unsolicited_responses.try_recv() {
                self.saw_exists |= matches!(r, async_imap::types::UnsolicitedResponse::Exists(_));
            }
        }
    }

    pub(super) async fn logout(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = timeout(Duration::from_secs(5), conn.session.logout()).await;
        }
    }
}

/// An IMAP quoted string.
pub(super) fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// A UID set (`1:4,7,9:10`) from UIDs in any order.
pub(super) fn uid_set(uids: impl Iterator<Item = u32>) -> String {
    let mut sorted: Vec<u32> = uids.collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&start) = sorted.get(i) {
        let mut end = start;
        while sorted.get(i + 1) == Some(&end.wrapping_add(1)) && end != u32::MAX {
            end += 1;
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn uid_sets() {
        assert_eq!(uid_set([9, 1, 2, 3, 7, 10, 2].into_iter()), "1:3,7,9:10");
        assert_eq!(uid_set([5].into_iter()), "5");
        assert_eq!(
            uid_set([u32::MAX - 1, u32::MAX].into_iter()),
            "4294967294:4294967295"
        );
        assert_eq!(uid_set(std::iter::empty()), "");
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
