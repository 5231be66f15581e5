//! `mailward report parse | summarize | generate`, end to end, and hostile inputs under a fixed
//! memory cap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mailward");

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/tests/data/golden")
        .join(name)
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mailward-cli-report-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn parse_json_and_exit_codes() {
    let base = golden("base.xml");
    let out = run(&["report", "parse", "--json", base.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    // Values from base.xml itself.
    let r = &v[0]["reports"][0]["report"];
    assert_eq!(r["policy_published"]["domain"], "example.com");
    assert_eq!(r["records"][0]["row"]["count"], 3);
    assert_eq!(r["records"][0]["row"]["source_ip"], "192.0.2.1");
    assert_eq!(v[0]["reports"][0]["defects"], Value::Array(vec![]));

    // One good input, one rejected: both listed, exit status 1.
    let bad = golden("reject_billion_laughs.xml");
    let out = run(&[
        "report",
        "parse",
        "--json",
        base.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(v[1]["error"].as_str().unwrap().contains("[doctype]"));

    // Human output names the defect classes.
    let out = run(&[
        "report",
        "parse",
        golden("defect_uppercase.xml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("upper_case_token at feedback/record[1]/row/policy_evaluated/disposition")
    );

    // A missing file is a rejected input too.
    let out = run(&["report", "parse", "/nonexistent/report.xml"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn parse_reads_failure_reports() {
    let arf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/data/rfc9991_appendix_a.eml");
    let out = run(&["report", "parse", "--json", arf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let f = &v[0]["failure_report"];
    assert_eq!(f["auth_failure"], "dmarc");
    assert_eq!(f["dkim_selector"], "epsilon");
    assert_eq!(f["source_ip"], "192.0.2.2");
}

/// A minimal RFC 9990 report, records `(ip, count, dkim, spf)`.
fn report_xml(org: &str, id: &str, records: &[(&str, u64, &str, &str)]) -> String {
    let mut x = format!(
        r#"<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><report_metadata><org_name>{org}</org_name>
<email>d@{org}</email><report_id>{id}</report_id><date_range><begin>0</begin><end>86399</end></date_range>
</report_metadata><policy_published><domain>example.com</domain><p>none</p></policy_published>"#
    );
    for (ip, count, dkim, spf) in records {
        x.push_str(&format!(
            r#"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>
<disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>
<identifiers><header_from>example.com</header_from></identifiers><auth_results/></record>"#
        ));
    }
    x.push_str("</feedback>");
    x
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn summarize_directory() {
    let dir = tmpdir("summarize");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("a.xml"),
        report_xml(
            "a.example",
            "1",
            &[
                ("192.0.2.1", 60, "pass", "pass"),
                ("203.0.113.5", 15, "fail", "fail"),
            ],
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("sub/b.xml.gz"),
        gz(report_xml(
            "b.example",
            "7",
            &[
                ("192.0.2.1", 20, "pass", "fail"),
                ("198.51.100.3", 5, "fail", "fail"),
            ],
        )
        .as_bytes()),
    )
    .unwrap();
    std::fs::write(dir.join("junk.txt"), "not a report").unwrap();
    let out = run(&["report", "summarize", "--json", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["reports"], 2);
    assert_eq!(v["rejected"].as_array().unwrap().len(), 1);
    let d = &v["domains"][0];
    // By hand: volume 60+15+20+5 = 100; DKIM aligned pass 80; SPF aligned pass 60; failing 20
    // (203.0.113.5: 15, 198.51.100.3: 5).
    assert_eq!(d["domain"], "example.com");
    assert_eq!(d["volume"], 100);
    assert_eq!(d["dkim_aligned_pass"], 80);
    assert_eq!(d["spf_aligned_pass"], 60);
    assert_eq!(
        d["sources"]["192.0.2.1"]["reporters"],
        serde_json::json!(["a.example", "b.example"])
    );
    let q = &d["verdicts"][0];
    assert_eq!(q["policy"], "quarantine");
    assert_eq!(q["affected"], 20);
    assert_eq!(q["affected_share"], 0.2);
    assert_eq!(
        q["failing_sources"][0],
        serde_json::json!(["203.0.113.5", 15, 1.0])
    );
    assert_eq!(
        q["failing_sources"][1],
        serde_json::json!(["198.51.100.3", 5, 1.0])
    );
    assert_eq!(d["verdicts"][1]["policy"], "reject");

    // Human output has the verdict table.
    let out = run(&["report", "summarize", dir.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("p=quarantine 20 of 100 messages (20.0%) would be quarantined"),
        "{text}"
    );
    assert!(
        text.contains("p=reject     20 of 100 messages (20.0%) would be rejected"),
        "{text}"
    );
    assert!(
        text.contains("203.0.113.5: 15 messages (100.0% of its volume)"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const OUTCOMES: &str = r#"{"policy":{"domain":"example.com","p":"none"},"source_ip":"192.0.2.1","header_from":"example.com","disposition":"none","dkim_aligned":"pass","spf_aligned":"fail","dkim":[{"domain":"example.com","selector":"s1","result":"pass"}]}
{"policy":{"domain":"example.com","p":"none"},"source_ip":"192.0.2.1","header_from":"example.com","disposition":"none","dkim_aligned":"pass","spf_aligned":"fail","dkim":[{"domain":"example.com","selector":"s1","result":"pass"}]}

{"policy":{"domain":"example.net","p":"reject"},"source_ip":"198.51.100.1","header_from":"example.net","disposition":"reject","dkim_aligned":"fail","spf_aligned":"fail","count":4}
"#;

#[test]
fn generate_from_outcomes() {
    let dir = tmpdir("generate");
    let input = dir.join("outcomes.jsonl");
    std::fs::write(&input, OUTCOMES).unwrap();
    let common = [
        "report",
        "generate",
        input.to_str().unwrap(),
        "--org-name",
        "Receiver",
        "--email",
        "dmarc@receiver.example",
        "--receiver",
        "receiver.example",
        "--begin",
        "1700000000",
        "--end",
        "1700086399",
    ];
    // To stdout: two reports, example.com (2 messages, one row) and example.net (4).
    let out = run(&common);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.matches("<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">")
            .count(),
        2
    );

    // To files, gzip, named per RFC 9990 §3.5.2.
    let files = dir.join("files");
    let mut args = common.to_vec();
    args.extend(["--out-dir", files.to_str().unwrap(), "--gzip"]);
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0));
    let com = files.join("receiver.example!example.com!1700000000!1700086399.xml.gz");
    let net = files.join("receiver.example!example.net!1700000000!1700086399.xml.gz");
    assert!(com.exists() && net.exists());
    let parsed = run(&["report", "parse", "--json", com.to_str().unwrap()]);
    let v = json(&parsed);
    let r = &v[0]["reports"][0]["report"];
    assert_eq!(r["records"].as_array().unwrap().len(), 1);
    assert_eq!(r["records"][0]["row"]["count"], 2);
    assert_eq!(
        r["report_metadata"]["report_id"],
        "1700000000.example.com@receiver.example"
    );

    // As e-mails.
    let mails = dir.join("mails");
    let mut args = common.to_vec();
    args.extend([
        "--out-dir",
        mails.to_str().unwrap(),
        "--email-to",
        "rua@example.net",
    ]);
    assert_eq!(run(&args).status.code(), Some(0));
    let eml = mails.join("receiver.example!example.net!1700000000!1700086399.eml");
    let mail = std::fs::read_to_string(&eml).unwrap();
    assert!(mail.contains("Subject: Report Domain: example.net\r\n Submitter: receiver.example\r\n Report-ID: 1700000000.example.net@receiver.example\r\n"));
    let v = json(&run(&["report", "parse", "--json", eml.to_str().unwrap()]));
    assert_eq!(
        v[0]["reports"][0]["report"]["records"][0]["row"]["count"],
        4
    );

    // A bad line is a usage error naming the line.
    std::fs::write(&input, "{\"nope\":1}\n").unwrap();
    let out = run(&common);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// 1 MiB of zeros compressed once with a sync flush, repeated: a raw deflate stream of `mib`
/// MiB without its final block (valid: back-references only reach zeros).
fn deflate_zeros(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut chunk = Vec::with_capacity(1 << 16);
    c.compress_vec(&zeros, &mut chunk, flate2::FlushCompress::Sync)
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

/// Runs `mailward report parse --json FILE` with the address space capped at 256 MiB.
fn parse_capped(file: &Path) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 262144 && exec \"$0\" report parse --json \"$1\"")
        .arg(BIN)
        .arg(file)
        .output()
        .unwrap();
    (out, start.elapsed())
}

#[test]
fn bombs_fail_fast_under_a_memory_cap() {
    let dir = tmpdir("bombs");
    // gzip of 4 GiB of zeros (~4 MB).
    let mut gzip_bomb = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    gzip_bomb.extend_from_slice(&deflate_zeros(4096));
    gzip_bomb.extend_from_slice(&[0; 8]);
    std::fs::write(dir.join("bomb.xml.gz"), &gzip_bomb).unwrap();
    // Billion laughs: 10^30 "lol"s if expanded.
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n<!ENTITY a0 \"lol\">\n");
    for i in 1..30 {
        laughs.push_str(&format!(
            "<!ENTITY a{i} \"{}\">\n",
            format!("&a{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]>\n<feedback>&a29;</feedback>\n");
    std::fs::write(dir.join("laughs.xml"), laughs).unwrap();
    // 100 000 nested elements.
    let deep = format!(
        "<feedback><report_metadata>{}</report_metadata></feedback>",
        "<a>".repeat(100_000)
    );
    std::fs::write(dir.join("deep.xml"), deep).unwrap();

    for (file, kind) in [
        ("bomb.xml.gz", "[limit:compression_ratio]"),
        ("laughs.xml", "[doctype]"),
        ("deep.xml", "[limit:xml_depth]"),
    ] {
        let (out, took) = parse_capped(&dir.join(file));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        let v = json(&out);
        assert!(
            v[0]["error"].as_str().unwrap().ends_with(kind),
            "{file}: {v}"
        );
        assert!(took < Duration::from_secs(20), "{file} took {took:?}");
    }

    // Control: the same cap is no obstacle to a legitimate report of 20 000 records (~6 MB).
    let records: Vec<(String, u64)> = (0..20_000u32)
        .map(|i| (format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255), 1))
        .collect();
    let recs: Vec<(&str, u64, &str, &str)> = records
        .iter()
        .map(|(ip, n)| (ip.as_str(), *n, "pass", "fail"))
        .collect();
    let big = report_xml("big.example", "big", &recs);
    std::fs::write(dir.join("big.xml.gz"), gz(big.as_bytes())).unwrap();
    let (out, _) = parse_capped(&dir.join("big.xml.gz"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every golden input goes through `mailward report parse --json` as the held-out corpus
/// will: the valid ones exit 0 with exactly the hand-written expected reports (see
/// `reports/tests/data/golden/make.py`), the `reject_*` ones exit 1 with the expected error
/// kind named in the reason.
#[test]
fn parse_every_golden_input() {
    let dir = golden("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".json") && !n.ends_with(".failed") && !n.ends_with(".py"))
        .collect();
    names.sort();
    assert!(names.len() >= 80, "golden inputs missing: {names:?}");
    for name in &names {
        let path = dir.join(name);
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let out = run(&["report", "parse", "--json", path.to_str().unwrap()]);
        let v = json(&out);
        let entry = &v[0];
        if let Some(kind) = expected["error"].as_str() {
            assert_eq!(out.status.code(), Some(1), "{name}: {entry}");
            let reason = entry["error"].as_str().unwrap_or_default();
            assert!(
                reason.ends_with(&format!("[{kind}]")),
                "{name}: expected [{kind}], got {reason:?}"
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{name}: {entry}");
            assert_eq!(entry["reports"], expected["reports"], "{name}");
        }
    }
}

/// `mailward report parse … | head` ends quietly: the reader closing the pipe is no error
/// (it used to print "error: Broken pipe"). The output (several hundred KB) is far larger
/// than a pipe's buffer, so the writes after the reader left do fail.
#[test]
fn closed_pipe_ends_quietly() {
    use std::io::Read;
    let dir = tmpdir("pipe");
    let ips: Vec<String> = (0..5000)
        .map(|i| format!("10.0.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let records: Vec<(&str, u64, &str, &str)> = ips
        .iter()
        .map(|ip| (ip.as_str(), 1, "pass", "fail"))
        .collect();
    let file = dir.join("big.xml");
    std::fs::write(&file, report_xml("pipe.example", "p-1", &records)).unwrap();
    for json in [false, true] {
        let mut cmd = Command::new(BIN);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .args(["report", "parse"])
            .arg(&file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 100];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The read end is dropped here: the rest of the output goes to a closed pipe.
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "json={json}: {:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "json={json}");
    }
}

#[test]
fn large_report_reads_whole_on_every_path() {
    // 20 000 records (about 7 MB): the file is read in two halves, its records on two
    // threads, and its JSON rendered a window at a time on every core. The .gz copy of the
    // same document is small enough to take none of those paths.
    let dir = tmpdir("large");
    let ips: Vec<String> = (0..20_000u32)
        .map(|i| format!("10.{}.{}.{}", i / 62_500, (i / 250) % 250, i % 250 + 1))
        .collect();
    let results = ["pass", "fail"];
    let records: Vec<(&str, u64, &str, &str)> = ips
        .iter()
        .enumerate()
        .map(|(i, ip)| {
            (
                ip.as_str(),
                i as u64 + 1,
                results[i % 2],
                results[i % 3 % 2],
            )
        })
        .collect();
    let xml = report_xml("large.example", "l-1", &records);
    assert!(xml.len() > 4 << 20, "{} bytes", xml.len());
    let plain = dir.join("large.xml");
    let zipped = dir.join("large.xml.gz");
    std::fs::write(&plain, &xml).unwrap();
    std::fs::write(&zipped, gz(xml.as_bytes())).unwrap();
    let out = run(&[
        "--json",
        "report",
        "parse",
        plain.to_str().unwrap(),
        zipped.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let read = &v[0]["reports"][0]["report"]["records"];
    assert_eq!(read.as_array().unwrap().len(), records.len());
    // Every record as written above, in order.
    for (i, (ip, count, dkim, spf)) in records.iter().enumerate() {
        let r = &read[i]["row"];
        assert_eq!(r["source_ip"], *ip, "record {i}");
        assert_eq!(r["count"], *count, "record {i}");
        assert_eq!(r["policy_evaluated"]["dkim"], *dkim, "record {i}");
        assert_eq!(r["policy_evaluated"]["spf"], *spf, "record {i}");
    }
    assert_eq!(v[0]["reports"][0]["defects"], Value::Array(vec![]));
    assert_eq!(v[1]["reports"][0]["report"], v[0]["reports"][0]["report"]);
}
