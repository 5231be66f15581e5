//! Loopback ports for the servers the tests start (PostgreSQL, Dovecot, `mailward serve`, a
//! token endpoint).
//!
//! Asking the kernel for port 0 and releasing it races with everything else that takes
//! ephemeral ports: the tests' own client connections, and a server of another test that
//! stopped for a moment (Dovecot restarted mid-fetch) and whose port the kernel hands out
//! again. So ports come from below the ephemeral range (32768 and up on Linux), each one at
//! most once per test process, and only after a bind shows it free right now.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The range handed out: clear of the well-known ports and of Linux's default ephemeral range.
const LOW: u32 = 20_000;
const HIGH: u32 = 32_000;

/// The next candidate, as an offset into the range; 0 means not yet seeded.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A TCP port on 127.0.0.1 that no other caller in this process has been given and that is
/// free at the time of the call.
pub(crate) fn free_port() -> u16 {
    let span = HIGH - LOW;
    // Seed from the process id and the clock so that test processes running side by side
    // start in different places.
    let seed = {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        (std::process::id().wrapping_mul(7919) ^ nanos) % span + 1
    };
    let _ = NEXT.compare_exchange(0, seed, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..span {
        let offset = NEXT.fetch_add(1, Ordering::SeqCst) % span;
        let port = u16::try_from(LOW + offset).unwrap_or_else(|_| unreachable!("below 32000"));
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LOW}..{HIGH}");
}
