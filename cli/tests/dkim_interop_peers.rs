//! Interoperability of `mailward dkim sign|verify` with OpenDKIM and Mail::DKIM, both ways.
//!
//! For every message in [`messages`] (the hard messages of `dkim_interop.rs` plus a few more:
//! trailing whitespace on an unterminated last line, whitespace before the colon, empty header
//! values, upper-case field names), every algorithm the peer supports and each of the four
//! canonicalization pairs:
//! - the message signed by `mailward dkim sign` must verify in the peer;
//! - the message signed by the peer must verify with `mailward dkim verify`.
//!
//! Peers (each runs one batch through a script in `dkim/tests/interop/`, same JSON job protocol
//! as the dkimpy peer; keys never come from DNS):
//! - OpenDKIM 2.11 test mode (`opendkim -t`, Debian `opendkim`): rsa-sha256 and ed25519-sha256;
//!   keys through its `TestPublicKeys` file option (`opendkim_peer.py`).
//! - Mail::DKIM (Debian `libmail-dkim-perl`): rsa-sha256 only (the Debian 12 build has no
//!   Ed25519 algorithm module); keys through a replaced `Mail::DKIM::DNS::query`
//!   (`maildkim_peer.pl`).
//!
//! Mailward gets keys through `--zone`. A missing peer skips its tests with a printed reason,
//! unless `MAILWARD_REQUIRE_PEERS=1` (CI), where it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mailward_dkim::{SigningKey, key_record_text, master_file_entry};

#[path = "support/hard_messages.rs"]
mod hard_messages;

const BIN: &str = env!("CARGO_BIN_EXE_mailward");
const DOMAIN: &str = "interop.example";
/// (algorithm, selector, key file in `dkim/tests/data`).
const RSA: (&str, &str, &str) = ("rsa-sha256", "rsa", "interop_rsa2048.pem");
const ED25519: (&str, &str, &str) = ("ed25519-sha256", "ed", "interop_ed25519.seed");
const CANONS: [&str; 4] = [
    "simple/simple",
    "simple/relaxed",
    "relaxed/simple",
    "relaxed/relaxed",
];

/// One external DKIM implementation.
struct Peer {
    name: &'static str,
    /// Interpreter and script (under `dkim/tests/interop/`).
    interpreter: &'static str,
    script: &'static str,
    /// A command that succeeds when the peer is installed.
    probe: &'static [&'static str],
    algorithms: &'static [(&'static str, &'static str, &'static str)],
}

const OPENDKIM: Peer = Peer {
    name: "opendkim",
    interpreter: "python3",
    script: "opendkim_peer.py",
    probe: &["opendkim", "-V"],
    algorithms: &[RSA, ED25519],
};

const MAIL_DKIM: Peer = Peer {
    name: "mail-dkim",
    interpreter: "perl",
    script: "maildkim_peer.pl",
    probe: &[
        "perl",
        "-MMail::DKIM::Signer",
        "-MMail::DKIM::Verifier",
        "-MNet::DNS",
        "-MJSON::PP",
        "-e1",
    ],
    algorithms: &[RSA],
};

/// A disagreement found by this test and analysed: the peer departs from RFC 6376 (or its test
/// harness changes the message), Mailward follows the RFC. Fields: peer, direction
/// (`mailward-signs`, `peer-signs` or `*`), messages (`*` = all), algorithm, header
/// canonicalization, body canonicalization (`*` = any), why.
///
/// A failure matching an entry is reported but tolerated; any other failure fails the test. An
/// entry that stops failing is printed (the peer may have been fixed).
struct Known {
    peer: &'static str,
    direction: &'static str,
    messages: &'static [&'static str],
    algorithm: &'static str,
    header: &'static str,
    body: &'static str,
    why: &'static str,
}

const NO_FINAL_NEWLINE: &[&str] = &[
    "no_final_newline",
    "no_final_newline_trailing_ws",
    "no_final_newline_ws_only",
    "lf_only_no_final_newline",
];

const KNOWN: &[Known] = &[
    Known {
        peer: "mail-dkim",
        direction: "*",
        messages: NO_FINAL_NEWLINE,
        algorithm: "*",
        header: "*",
        body: "simple",
        why: "Mail::DKIM hashes an unterminated last line without adding CRLF under simple body \
              canonicalization; RFC 6376 section 3.4.3: \"If there is no body or no trailing CRLF \
              on the message body, a CRLF is added.\"",
    },
    Known {
        peer: "opendkim",
        direction: "*",
        messages: &[
            "no_final_newline",
            "no_final_newline_trailing_ws",
            "lf_only_no_final_newline",
        ],
        algorithm: "*",
        header: "*",
        body: "relaxed",
        why: "OpenDKIM relaxed body: no CRLF added after an unterminated last line (and a last \
              line with text after inner WSP loses its last word / is refused: \"CRLF at end of \
              body missing\"); RFC 6376 section 3.4.4 (b): \"If the body is non-empty but does not \
              end with a CRLF, a CRLF is added.\"",
    },
    Known {
        peer: "opendkim",
        direction: "*",
        messages: &["folded_whitespace_headers"],
        algorithm: "*",
        header: "simple",
        body: "*",
        why: "opendkim -t passes header values through the milter interface, which drops the \
              leading WSP after the colon and re-joins as \"name: value\", so \"From:   Alice\" is \
              hashed as \"From: Alice\"; RFC 6376 section 3.4.1: simple \"does not change header \
              fields in any way\".",
    },
    Known {
        peer: "opendkim",
        direction: "peer-signs",
        messages: &["*"],
        algorithm: "ed25519-sha256",
        header: "simple",
        body: "*",
        why: "OpenDKIM's ed25519 signer hashes its DKIM-Signature with \"h=...; b=\" on one line \
              but emits it folded before \"b=\"; under simple header canonicalization the \
              signature fails everywhere, OpenDKIM itself included (RFC 6376 section 3.7: the \
              header is hashed as it appears, with only the b= value emptied).",
    },
    Known {
        peer: "opendkim",
        direction: "*",
        messages: &["bare_cr_in_body"],
        algorithm: "*",
        header: "*",
        body: "relaxed",
        why: "OpenDKIM's relaxed body canonicalization deletes a bare CR inside a line (\"bare\\rcr\" \
              is hashed as \"barecr\"); RFC 6376 section 3.4.4 only reduces WSP (SP / HTAB) and \
              removes trailing WSP and trailing empty lines, so the CR stays. (A bare CR is not valid \
              RFC 5322, section 2.3, so this matters only for broken input.)",
    },
    Known {
        peer: "opendkim",
        direction: "*",
        messages: &["tab_before_colon"],
        algorithm: "*",
        header: "*",
        body: "*",
        why: "OpenDKIM rejects a field with HTAB between name and colon (exit 70, message not \
              processed); RFC 5322 section 4.5.3 obs-optional allows WSP there and RFC 6376 \
              section 3.4.2 says to delete WSP before the colon.",
    },
];

/// The [`KNOWN`] entry explaining a failure of `id` (`message/algorithm/header/body`), if any.
fn known(peer: &Peer, direction: &str, id: &str) -> Option<&'static Known> {
    let parts: Vec<&str> = id.split('/').collect();
    let [message, algorithm, header, body] = parts[..] else {
        return None;
    };
    let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
    KNOWN.iter().find(|k| {
        k.peer == peer.name
            && matches(k.direction, direction)
            && (k.messages.contains(&"*") || k.messages.contains(&message))
            && matches(k.algorithm, algorithm)
            && matches(k.header, header)
            && matches(k.body, body)
    })
}

/// Splits failures into known (printed) and unknown (returned), and prints known entries that
/// now pass.
fn unexplained(peer: &Peer, direction: &str, verdicts: &[(String, bool, String)]) -> Vec<String> {
    let mut unknown = Vec::new();
    for (id, ok, detail) in verdicts {
        match (ok, known(peer, direction, id)) {
            (false, Some(k)) => {
                eprintln!("KNOWN {} {direction} {id}: {}", peer.name, k.why);
            }
            (false, None) => unknown.push(format!("{id}: {detail}")),
            (true, Some(_)) => {
                eprintln!(
                    "NOTE {} {direction} {id}: passes despite a known disagreement",
                    peer.name
                );
            }
            (true, None) => {}
        }
    }
    unknown
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dkim/tests/data")
}

fn available(peer: &Peer) -> bool {
    let probe_ok = Command::new(peer.probe[0])
        .args(&peer.probe[1..])
        .output()
        .is_ok_and(|o| o.status.success());
    let interp_ok = Command::new(peer.interpreter)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let ok = probe_ok && interp_ok;
    if !ok {
        if std::env::var("MAILWARD_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!(
                "MAILWARD_REQUIRE_PEERS=1 but peer {} is not available ({:?} / {})",
                peer.name, peer.probe, peer.interpreter
            );
        }
        eprintln!(
            "skipping: peer {} not found ({:?} failed; set MAILWARD_REQUIRE_PEERS=1 to fail)",
            peer.name, peer.probe
        );
    }
    ok
}

/// The shared hard messages plus the cases only these peers get, CRLF unless the name says LF.
fn messages() -> Vec<(&'static str, Vec<u8>)> {
    let crlf = |s: &str| s.replace('\n', "\r\n").into_bytes();
    let base_headers = "From: Alice Example <alice@interop.example>\n\
                        To: bob@example.net\n\
                        Subject: interop\n\
                        Date: Sat, 28 Nov 2026 10:00:00 +0000\n\
                        Message-ID: <m1@interop.example>\n";
    let mut all = hard_messages::hard_messages();
    all.extend(vec![
        // New here: trailing WSP on the unterminated last line. Under relaxed body
        // canonicalization RFC 6376 section 3.4.4 deletes all WSP at the end of a line; whether an
        // unterminated last line is a "line" is where implementations differ.
        (
            "no_final_newline_trailing_ws",
            crlf(&format!("{base_headers}\nfirst\nlast line \t ")),
        ),
        (
            "no_final_newline_ws_only",
            crlf(&format!("{base_headers}\nfirst\n \t")),
        ),
        // WSP between the field name and the colon (obs-FWS, RFC 5322 section 4.5); relaxed header
        // canonicalization deletes it (RFC 6376 section 3.4.2).
        (
            "wsp_before_colon",
            crlf(
                "From: alice@interop.example\nTo : bob@example.net\nSubject  : spaced colon\n\
                 Date: Sat, 28 Nov 2026 10:00:00 +0000\n\nbody\n",
            ),
        ),
        (
            "tab_before_colon",
            crlf(
                "From: alice@interop.example\nTo: bob@example.net\nSubject\t: tab colon\n\
                 Date: Sat, 28 Nov 2026 10:00:00 +0000\n\nbody\n",
            ),
        ),
        (
            "empty_header_values",
            crlf(&format!(
                "{base_headers}X-Empty:\nX-Blank: \nX-Tab:\t\nKeywords:\n\nbody\n"
            )),
        ),
        (
            "uppercase_names",
            crlf(
                "FROM: alice@interop.example\nto: bob@example.net\nSUBJECT: Caps\n\
                 date: Sat, 28 Nov 2026 10:00:00 +0000\n\nbody\n",
            ),
        ),
        // RFC 6532 raw UTF-8 in a header value.
        (
            "utf8_header",
            crlf(&format!(
                "{base_headers}X-Greeting: Grüße aus Köln, naïve café\n\nbody\n"
            )),
        ),
        // A folded field whose continuation line holds only WSP.
        (
            "wsp_only_continuation",
            crlf(&format!(
                "{base_headers}X-Fold: start\n \t \n  end\n\nbody\n"
            )),
        ),
        // CRLF message with a bare LF inside the body (taken as a line end by all).
        ("bare_lf_in_body", {
            let mut m = crlf(&format!("{base_headers}\nline one\n"));
            m.extend_from_slice(b"bare lf\nthen crlf\r\n");
            m
        }),
        // A bare CR inside a body line: not WSP, so relaxed body canonicalization keeps it.
        ("bare_cr_in_body", {
            let mut m = crlf(&format!("{base_headers}\nline one\n"));
            m.extend_from_slice(b"bare\rcr\r\nlast\r\n");
            m
        }),
        (
            "lf_only_no_final_newline",
            format!("{base_headers}\nfirst  \nlast\t").into_bytes(),
        ),
    ]);
    all
}

fn has_world_writable_ancestor(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors()
        .any(|p| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o002 != 0))
}

fn private_base() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if !has_world_writable_ancestor(&target) {
        return target;
    }
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let base = home.join(".cache").join("mailward-tests");
    std::fs::create_dir_all(&base).unwrap();
    assert!(
        !has_world_writable_ancestor(&base),
        "no directory without world-writable ancestors for OpenDKIM: {}",
        base.display()
    );
    base
}

struct Setup {
    dir: PathBuf,
    zone: PathBuf,
    records: Vec<(String, String)>,
}

fn setup(name: &str) -> Setup {
    // OpenDKIM refuses configuration files below a directory other users may write (such as
    // /tmp), so the work directory must have no world-writable ancestor: the target dir if it
    // qualifies (a clone under /tmp does not), else a private directory under $HOME.
    let dir = private_base().join(format!("mailward-dkim-peers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut zone = format!(
        "$ORIGIN {DOMAIN}.\n$TTL 300\n@ IN SOA ns.{DOMAIN}. hostmaster.{DOMAIN}. 1 7200 3600 1209600 300\n"
    );
    let mut records = Vec::new();
    for (_, sel, key_file) in [RSA, ED25519] {
        let key =
            SigningKey::from_bytes(&std::fs::read(data_dir().join(key_file)).unwrap()).unwrap();
        let record = key_record_text(&key).unwrap();
        zone.push_str(&master_file_entry(sel, &DOMAIN.parse().unwrap(), &record).unwrap());
        records.push((format!("{sel}._domainkey.{DOMAIN}"), record));
    }
    let zone_path = dir.join("interop.zone");
    std::fs::write(&zone_path, zone).unwrap();
    Setup {
        dir,
        zone: zone_path,
        records,
    }
}

fn run_peer(peer: &Peer, setup: &Setup, mut jobs: serde_json::Value) -> serde_json::Value {
    jobs["workdir"] = serde_json::json!(setup.dir.join("peer-work"));
    jobs["keys"] = serde_json::Value::Object(
        setup
            .records
            .iter()
            .map(|(n, r)| (n.clone(), serde_json::Value::String(r.clone())))
            .collect(),
    );
    let jobs_path = setup.dir.join("jobs.json");
    std::fs::write(&jobs_path, serde_json::to_vec(&jobs).unwrap()).unwrap();
    let out = Command::new(peer.interpreter)
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../dkim/tests/interop/{}", peer.script)),
        )
        .arg(&jobs_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} peer failed: {}",
        peer.name,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Pass/fail counts per (algorithm, canonicalization), printed as a matrix row set.
fn report(peer: &Peer, direction: &str, verdicts: &[(String, bool, String)]) {
    let mut rows = Vec::new();
    for (alg, _, _) in peer.algorithms {
        for canon in CANONS {
            let tag = format!("/{alg}/{canon}");
            let (pass, fail) = verdicts
                .iter()
                .filter(|(id, _, _)| id.ends_with(&tag))
                .fold(
                    (0, 0),
                    |(p, f), (_, ok, _)| {
                        if *ok { (p + 1, f) } else { (p, f + 1) }
                    },
                );
            rows.push(format!(
                "MATRIX {} {direction} {alg} {canon}: pass {pass} fail {fail}",
                peer.name
            ));
        }
    }
    eprintln!("{}", rows.join("\n"));
}

fn mailward_signs_peer_verifies(peer: &Peer) {
    if !available(peer) {
        return;
    }
    let setup = setup(&format!("{}-verifies", peer.name));
    let mut verify_jobs = Vec::new();
    for (name, msg) in messages() {
        let input = setup.dir.join(format!("{name}.eml"));
        std::fs::write(&input, &msg).unwrap();
        for (alg, sel, key_file) in peer.algorithms {
            for canon in CANONS {
                let id = format!("{name}/{alg}/{canon}");
                let out = Command::new(BIN)
                    .args(["dkim", "sign", "--domain", DOMAIN, "--selector", sel])
                    .args(["--algorithm", alg])
                    .arg("--key")
                    .arg(data_dir().join(key_file))
                    .args(["--canonicalization", canon])
                    .arg(&input)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{id}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(out.stdout.ends_with(&msg), "{id}: message changed");
                let signed = setup.dir.join(format!("{}.mw.eml", id.replace('/', "_")));
                std::fs::write(&signed, &out.stdout).unwrap();
                verify_jobs.push(serde_json::json!({ "id": id, "path": signed }));
            }
        }
    }
    let expected = verify_jobs.len();
    let result = run_peer(peer, &setup, serde_json::json!({ "verify": verify_jobs }));
    let verdicts = result["verify"].as_object().unwrap();
    assert_eq!(verdicts.len(), expected);
    let summary: Vec<(String, bool, String)> = verdicts
        .iter()
        .map(|(k, v)| (k.clone(), v["pass"] == true, v["error"].to_string()))
        .collect();
    report(peer, "mailward-signs", &summary);
    let failed = unexplained(peer, "mailward-signs", &summary);
    assert!(
        failed.is_empty(),
        "{} rejected {} Mailward signatures (not in KNOWN):\n{}",
        peer.name,
        failed.len(),
        failed.join("\n")
    );
    let _ = std::fs::remove_dir_all(&setup.dir);
}

fn peer_signs_mailward_verifies(peer: &Peer) {
    if !available(peer) {
        return;
    }
    let setup = setup(&format!("{}-signs", peer.name));
    let mut sign_jobs = Vec::new();
    let mut expected = Vec::new();
    for (name, msg) in messages() {
        let input = setup.dir.join(format!("{name}.eml"));
        std::fs::write(&input, &msg).unwrap();
        let lf = !msg.windows(2).any(|w| w == b"\r\n");
        for (alg, sel, key_file) in peer.algorithms {
            for canon in CANONS {
                let id = format!("{name}/{alg}/{canon}");
                let out = setup.dir.join(format!("{}.peer.eml", id.replace('/', "_")));
                sign_jobs.push(serde_json::json!({
                    "id": id, "path": input, "out": out, "key": data_dir().join(key_file),
                    "domain": DOMAIN, "selector": sel, "algorithm": alg, "canonicalization": canon,
                    "linesep": if lf { "\n" } else { "\r\n" },
                }));
                expected.push((id, out));
            }
        }
    }
    let result = run_peer(peer, &setup, serde_json::json!({ "sign": sign_jobs }));
    let mut summary = Vec::new();
    for (id, path) in expected {
        let signed = &result["sign"][&id];
        if signed["ok"] != true {
            let detail = format!("{} could not sign: {}", peer.name, signed["error"]);
            summary.push((id, false, detail));
            continue;
        }
        let out = Command::new(BIN)
            .arg("--zone")
            .arg(&setup.zone)
            .args(["--json", "dkim", "verify"])
            .arg(&path)
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let v: serde_json::Value =
            serde_json::from_str(line.lines().next().unwrap_or("{}")).unwrap_or_default();
        let ok = v["result"] == "pass" && out.status.success();
        let detail = format!("{line}{}", String::from_utf8_lossy(&out.stderr));
        summary.push((id, ok, detail));
    }
    report(peer, "peer-signs", &summary);
    let failed = unexplained(peer, "peer-signs", &summary);
    assert!(
        failed.is_empty(),
        "Mailward rejected {} {} signatures (not in KNOWN):\n{}",
        failed.len(),
        peer.name,
        failed.join("\n")
    );
    let _ = std::fs::remove_dir_all(&setup.dir);
}

#[test]
fn mailward_signs_opendkim_verifies() {
    mailward_signs_peer_verifies(&OPENDKIM);
}

#[test]
fn opendkim_signs_mailward_verifies() {
    peer_signs_mailward_verifies(&OPENDKIM);
}

#[test]
fn mailward_signs_mail_dkim_verifies() {
    mailward_signs_peer_verifies(&MAIL_DKIM);
}

#[test]
fn mail_dkim_signs_mailward_verifies() {
    peer_signs_mailward_verifies(&MAIL_DKIM);
}
