//! `mailward dkim verify|sign|keygen`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use mailward_dkim::{
    CanonicalizationPair, CryptoProvider, SignatureResult, Signer, SigningAlgorithm, SigningKey,
    Verifier, VerifyOptions, key_record_text, master_file_entry, split_txt_strings,
};
use mailward_types::Domain;

use crate::global::GlobalArgs;

/// Arguments of `mailward dkim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Verify every DKIM-Signature of a message; one line (or JSON object) per signature.
    /// Exit status 0 when at least one signature passes, 1 otherwise.
    Verify(VerifyArgs),
    /// Sign a message; writes the signed message to stdout, keeping its line endings.
    Sign(SignArgs),
    /// Generate a key pair: the private key (PKCS#8 PEM) and the TXT record to publish.
    Keygen(KeygenArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The message file (`-` for standard input).
    message: PathBuf,
    /// Verification time in seconds since the epoch (default: now).
    #[arg(long)]
    now: Option<u64>,
    /// Accept rsa-sha1 signatures (RFC 8301 forbids them by default).
    #[arg(long)]
    allow_sha1: bool,
    /// Treat signatures with l= as policy failures.
    #[arg(long)]
    reject_body_length: bool,
    /// Most signatures checked.
    #[arg(long, default_value_t = mailward_dkim::DEFAULT_MAX_SIGNATURES)]
    max_signatures: usize,
    /// Crypto backend: rust-crypto (default) or aws-lc-rs.
    #[arg(long, default_value = "rust-crypto")]
    crypto: String,
}

#[derive(Debug, clap::Args)]
struct SignArgs {
    /// Private key file: PEM (PKCS#1 or PKCS#8), DER, or an Ed25519 seed (raw or base64).
    #[arg(long)]
    key: PathBuf,
    /// Signing domain (d=).
    #[arg(long)]
    domain: String,
    /// Selector (s=).
    #[arg(long)]
    selector: String,
    /// rsa-sha256 or ed25519-sha256 (default: from the key).
    #[arg(long)]
    algorithm: Option<String>,
    /// header/body canonicalization.
    #[arg(long, default_value = "relaxed/relaxed")]
    canonicalization: String,
    /// Colon-separated header names to sign (default: a standard set with over-signing).
    #[arg(long)]
    headers: Option<String>,
    /// Agent or user identifier (i=).
    #[arg(long)]
    identity: Option<String>,
    /// Add x= this many seconds after t=.
    #[arg(long, value_name = "SECONDS")]
    expire: Option<u64>,
    /// Signing time in seconds since the epoch (default: now).
    #[arg(long)]
    now: Option<u64>,
    /// Crypto backend that signs: rust-crypto (default) or aws-lc-rs (same signature octets).
    #[arg(long, default_value = "rust-crypto")]
    crypto: String,
    /// The message file (`-` for standard input).
    message: PathBuf,
}

#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// rsa or ed25519.
    #[arg(long = "type", default_value = "rsa")]
    key_type: String,
    /// RSA modulus size: 1024, 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048)]
    bits: usize,
    /// Domain the key is for.
    #[arg(long)]
    domain: String,
    /// Selector.
    #[arg(long)]
    selector: String,
    /// Directory for `<selector>.private` and `<selector>.txt` (default: print both to stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) async fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Verify(a) => verify(global, a).await,
        Command::Sign(a) => sign(a),
        Command::Keygen(a) => keygen(a),
    }
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn now_or(given: Option<u64>) -> u64 {
    given.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

fn provider(name: &str) -> anyhow::Result<CryptoProvider> {
    match name {
        "rust-crypto" => Ok(CryptoProvider::rust_crypto()),
        "aws-lc-rs" => aws_provider(),
        other => bail!("unknown crypto backend {other:?} (rust-crypto or aws-lc-rs)"),
    }
}

#[cfg(feature = "aws-lc-rs")]
fn aws_provider() -> anyhow::Result<CryptoProvider> {
    Ok(CryptoProvider::aws_lc_rs())
}

#[cfg(not(feature = "aws-lc-rs"))]
fn aws_provider() -> anyhow::Result<CryptoProvider> {
    bail!("this build has no aws-lc-rs backend (feature aws-lc-rs)")
}

async fn verify(global: &GlobalArgs, a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let message = read_input(&a.message)?;
    let resolver = global.resolver()?;
    let options = VerifyOptions::default()
        .with_allow_sha1(a.allow_sha1)
        .with_reject_body_length(a.reject_body_length)
        .with_max_signatures(a.max_signatures)
        .with_provider(provider(&a.crypto)?);
    let verifier = Verifier::new(options);
    let results = verifier
        .verify(&resolver, &message, now_or(a.now))
        .await
        .context("the message cannot be parsed")?;
    let mut out = std::io::stdout().lock();
    if results.is_empty() {
        if global.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({ "result": "none", "reason": "no DKIM-Signature" })
            )?;
        } else {
            writeln!(out, "none (no DKIM-Signature)")?;
        }
        return Ok(ExitCode::from(1));
    }
    for r in &results {
        if global.json {
            writeln!(out, "{}", json_line(r))?;
        } else {
            writeln!(out, "{}", text_line(r))?;
        }
    }
    Ok(if results.iter().any(|r| r.outcome.is_pass()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn text_line(r: &SignatureResult) -> String {
    let mut line = format!(
        "{} d={} s={}",
        r.outcome.result(),
        r.domain.as_deref().unwrap_or("-"),
        r.selector.as_deref().unwrap_or("-")
    );
    if let Some(sig) = &r.signature {
        line.push_str(&format!(" a={} c={}", sig.algorithm, sig.canonicalization));
    }
    if r.testing {
        line.push_str(" testing");
    }
    line.push_str(&format!(" ({})", r.outcome));
    line
}

fn json_line(r: &SignatureResult) -> serde_json::Value {
    serde_json::json!({
        "result": r.outcome.result(),
        "reason": r.outcome.to_string(),
        "d": r.domain,
        "s": r.selector,
        "i": r.signature.as_ref().map(|s| s.auid()),
        "algorithm": r.signature.as_ref().map(|s| s.algorithm.to_string()),
        "canonicalization": r.signature.as_ref().map(|s| s.canonicalization.to_string()),
        "testing": r.testing,
        "key_bits": r.key_bits,
        "authentication_results": r.to_method_result().to_string(),
    })
}

fn sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    let key_data = std::fs::read(&a.key).with_context(|| format!("reading {}", a.key.display()))?;
    let wanted = provider(&a.crypto)?;
    let key = SigningKey::from_bytes(&key_data)
        .with_context(|| format!("loading key {}", a.key.display()))?
        .with_provider(wanted)?;
    if key.provider() != wanted {
        eprintln!(
            "mailward: note: {} does not sign with this key (RSA under 2048 bits); signing with {}",
            wanted.name(),
            key.provider().name()
        );
    }
    let domain: Domain = a
        .domain
        .parse()
        .with_context(|| format!("invalid domain {:?}", a.domain))?;
    let canon: CanonicalizationPair = a
        .canonicalization
        .parse()
        .with_context(|| format!("invalid canonicalization {:?}", a.canonicalization))?;
    let message = read_input(&a.message)?;
    let mut signer = Signer::new(key, domain, &a.selector)?.with_canonicalization(canon);
    if let Some(alg) = &a.algorithm {
        let alg: SigningAlgorithm = alg.parse()?;
        signer = signer.with_algorithm(alg)?;
    }
    if let Some(list) = &a.headers {
        signer = signer.with_headers(list.split(':').map(str::trim).filter(|s| !s.is_empty()))?;
    }
    if let Some(i) = &a.identity {
        signer = signer.with_identity(i)?;
    }
    if let Some(x) = a.expire {
        signer = signer.with_expiration(x);
    }
    // Keep the input's line endings: LF-only input gets an LF-folded field.
    let lf_only = first_line_ending_is_lf(&message);
    signer = signer.with_line_ending(lf_only);
    let field = signer.sign(&message, now_or(a.now)).context("signing")?;
    let mut out = std::io::stdout().lock();
    out.write_all(field.as_bytes())?;
    out.write_all(&message)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn first_line_ending_is_lf(message: &[u8]) -> bool {
    match message.iter().position(|&b| b == b'\n') {
        Some(0) => true,
        Some(p) => message.get(p - 1) != Some(&b'\r'),
        None => false,
    }
}

fn keygen(a: KeygenArgs) -> anyhow::Result<ExitCode> {
    let domain: Domain = a
        .domain
        .parse()
        .with_context(|| format!("invalid domain {:?}", a.domain))?;
    let key = match a.key_type.as_str() {
        "rsa" => SigningKey::generate_rsa(a.bits)?,
        "ed25519" => SigningKey::generate_ed25519()?,
        other => bail!("unknown key type {other:?} (rsa or ed25519)"),
    };
    let pem = key.to_pkcs8_pem()?;
    let record = key_record_text(&key)?;
    let entry = master_file_entry(&a.selector, &domain, &record)?;
    match a.out {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let key_path = dir.join(format!("{}.private", a.selector));
            let txt_path = dir.join(format!("{}.txt", a.selector));
            write_private(&key_path, pem.as_bytes())?;
            std::fs::write(&txt_path, entry.as_bytes())
                .with_context(|| format!("writing {}", txt_path.display()))?;
            outln!("private key: {}", key_path.display())?;
            outln!("DNS record:  {}", txt_path.display())?;
            out!("{entry}")?;
        }
        None => {
            out!("{pem}")?;
            out!("{entry}")?;
        }
    }
    debug_assert!(split_txt_strings(&record).iter().all(|s| s.len() <= 255));
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(data)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}
