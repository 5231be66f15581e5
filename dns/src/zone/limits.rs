//! The limits of the zone reader and resolver.

/// Largest master file accepted, in octets (16 MiB). Our limit, not an RFC's: a test or offline
/// zone is small, and the whole file is held in memory while it is read.
pub const MAX_ZONE_FILE_SIZE: usize = 16 * 1024 * 1024;

/// Most records one [`ZoneResolver`](super::ZoneResolver) holds, across every file loaded into it. Our limit, to
/// bound memory.
pub const MAX_RECORDS: usize = 200_000;

/// Longest character-string, in octets: RFC 1035 §3.3 gives it a single length octet.
pub const MAX_CHARACTER_STRING: usize = 255;

/// Longest RDATA, in octets: RFC 1035 §3.2.1 gives RDLENGTH 16 bits.
pub const MAX_RDATA_LEN: usize = 65_535;

/// Most tokens in one entry (a TXT record of [`MAX_RDATA_LEN`] empty strings, plus the owner,
/// TTL, class and type).
pub const MAX_TOKENS_PER_ENTRY: usize = MAX_RDATA_LEN + 8;

/// Most CNAMEs followed for one query. RFC 1034 §3.6.2 asks resolvers to detect loops but sets
/// no number; BIND and Unbound stop after 11–16 steps, 8 is plenty for test zones.
pub const MAX_CNAME_CHAIN: usize = 8;
