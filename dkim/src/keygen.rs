//! Key generation and the DNS record to publish (RFC 6376 §3.6.1, §3.6.2.2).

use mailward_types::Domain;

use crate::crypto::{KeyGenError, SigningKey};
use crate::tag_value::b64_encode;

/// Longest character-string in a TXT record (RFC 1035 §3.3: one length octet).
pub const MAX_TXT_STRING: usize = 255;

/// The key record text for a signing key: `v=DKIM1; k=<type>; p=<base64>`.
///
/// # Errors
///
/// [`KeyGenError::Encoding`] when the public key cannot be encoded.
///
/// # Examples
///
/// ```
/// use mailward_dkim::{SigningKey, key_record_text};
///
/// let key = SigningKey::ed25519_from_seed(&[0; 32]);
/// assert!(key_record_text(&key)?.starts_with("v=DKIM1; k=ed25519; p="));
/// # Ok::<(), mailward_dkim::KeyGenError>(())
/// ```
pub fn key_record_text(key: &SigningKey) -> Result<String, KeyGenError> {
    Ok(format!(
        "v=DKIM1; k={}; p={}",
        key.key_type(),
        b64_encode(&key.public_key_data()?)
    ))
}

/// Splits record text into TXT character-strings of at most [`MAX_TXT_STRING`] octets
/// (RFC 6376 §3.6.2.2: verifiers concatenate them).
pub fn split_txt_strings(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(MAX_TXT_STRING);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// The RFC 1035 master-file line publishing `record` at `<selector>._domainkey.<domain>.`,
/// as a parenthesised list of quoted ≤255-octet strings.
///
/// # Errors
///
/// A [`mailward_types::DomainError`] when the owner name is too long.
///
/// # Examples
///
/// ```
/// use mailward_dkim::master_file_entry;
///
/// let line = master_file_entry("sel", &"example.com".parse()?, "v=DKIM1; p=");
/// assert_eq!(line?, "sel._domainkey.example.com. IN TXT ( \"v=DKIM1; p=\" )\n");
/// # Ok::<(), mailward_types::DomainError>(())
/// ```
pub fn master_file_entry(
    selector: &str,
    domain: &Domain,
    record: &str,
) -> Result<String, mailward_types::DomainError> {
    let owner = crate::signature::key_name(selector, domain)?;
    let strings = split_txt_strings(record);
    let mut out = format!("{owner}. IN TXT (");
    if strings.len() == 1 {
        for s in strings {
            out.push_str(&format!(" \"{}\"", escape(s)));
        }
        out.push_str(" )\n");
    } else {
        for s in strings {
            out.push_str(&format!("\n  \"{}\"", escape(s)));
        }
        out.push_str(" )\n");
    }
    Ok(out)
}

/// Escapes `"` and `\` for a master-file character-string (RFC 1035 §5.1).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Generates a key: RSA of `bits` or Ed25519.
///
/// # Errors
///
/// A [`KeyGenError`] for unsupported sizes or RNG failure.
pub fn generate_key(ed25519: bool, bits: usize) -> Result<SigningKey, KeyGenError> {
    if ed25519 {
        SigningKey::generate_ed25519()
    } else {
        SigningKey::generate_rsa(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_255() {
        let text = "a".repeat(600);
        let parts = split_txt_strings(&text);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [255, 255, 90]
        );
        assert_eq!(parts.concat(), text);
        assert!(split_txt_strings("").is_empty());
    }

    #[test]
    fn master_file_multi_string() {
        let rec = format!("v=DKIM1; k=rsa; p={}", "A".repeat(400));
        let entry = master_file_entry("s1", &"example.org".parse().unwrap(), &rec).unwrap();
        assert!(
            entry.starts_with("s1._domainkey.example.org. IN TXT (\n  \"v=DKIM1; k=rsa; p=AAA")
        );
        let strings: Vec<&str> = entry.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.len(), 2);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(strings.concat(), rec);
    }

    #[test]
    fn ed25519_record_round_trips() {
        let key = SigningKey::ed25519_from_seed(&[1; 32]);
        let rec = crate::KeyRecord::parse(&key_record_text(&key).unwrap()).unwrap();
        assert_eq!(rec.key_type(), crate::KeyType::Ed25519);
        assert_eq!(rec.public_key.len(), 32);
    }
}
