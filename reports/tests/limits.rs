//! Hostile inputs: decompression bombs, zip tricks, deep nesting, entity expansion, huge
//! strings. Each must fail fast with the typed limit error; the bombs are built here, in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::time::{Duration, Instant};

use flate2::{Compress, Compression, FlushCompress};
use mailward_reports::{DefectKind, Error, Limit, Limits, parse_with};

const BASE: &str = include_str!("data/golden/base.xml");

/// A raw deflate stream of `mib` MiB of zeros, without the final block: a 1 MiB chunk is
/// compressed once with a sync flush (byte-aligned, non-final blocks) and repeated. The repeats
/// are valid because their back-references only reach zeros.
fn deflate_zeros(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let mut chunk = Vec::with_capacity(1 << 16);
    c.compress_vec(&zeros, &mut chunk, FlushCompress::Sync)
        .unwrap();
    assert!(chunk.len() < 8 << 10, "1 MiB of zeros must compress well");
    let mut out = Vec::with_capacity(chunk.len() * mib + 8);
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    // Final empty fixed-Huffman block: BFINAL=1, BTYPE=01, end-of-block code (7 zero bits).
    out.extend_from_slice(&[0x03, 0x00]);
    out
}

fn gzip_bomb(mib: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&deflate_zeros(mib));
    out.extend_from_slice(&[0; 8]); // CRC and ISIZE (never reached)
    out
}

/// A minimal zip writer (APPNOTE.TXT local header, central directory, EOCD) so tests can lie in
/// headers. `entries`: (name, method, data, declared uncompressed size, local offset override).
fn zip(entries: &[(&str, u16, &[u8], u32)], extra_cd_pointing_to_first: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    let mut count = 0u16;
    let mut first_offset = None;
    for (name, method, data, usize_claim) in entries {
        let offset = out.len() as u32;
        first_offset.get_or_insert((offset, *name, *method, data.len() as u32, *usize_claim));
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0]);
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // time, date, crc
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&usize_claim.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        cd_entry(
            &mut cd,
            name,
            *method,
            data.len() as u32,
            *usize_claim,
            offset,
        );
        count += 1;
    }
    if let Some((offset, name, method, csize, usize_claim)) = first_offset {
        for _ in 0..extra_cd_pointing_to_first {
            cd_entry(&mut cd, name, method, csize, usize_claim, offset);
            count += 1;
        }
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&cd);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn cd_entry(cd: &mut Vec<u8>, name: &str, method: u16, csize: u32, usize_claim: u32, offset: u32) {
    cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    cd.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
    cd.extend_from_slice(&method.to_le_bytes());
    cd.extend_from_slice(&[0; 8]);
    cd.extend_from_slice(&csize.to_le_bytes());
    cd.extend_from_slice(&usize_claim.to_le_bytes());
    cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
    cd.extend_from_slice(&[0; 12]); // extra, comment, disk, internal attrs, external attrs
    cd.extend_from_slice(&offset.to_le_bytes());
    cd.extend_from_slice(name.as_bytes());
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}: not failing fast",
        start.elapsed()
    );
    out
}

#[test]
fn gzip_bomb_hits_the_ratio_limit_after_the_grace() {
    // 4 GiB of zeros in about 4 MB of gzip.
    let bomb = gzip_bomb(4096);
    assert!(bomb.len() < 16 << 20);
    let err = timed(|| parse_with(&bomb, &Limits::default())).unwrap_err();
    assert_eq!(err, Error::Limit(Limit::CompressionRatio));
}

#[test]
fn gzip_bomb_hits_the_size_limit_when_the_ratio_is_allowed() {
    let bomb = gzip_bomb(64);
    let limits = Limits {
        max_compression_ratio: u64::MAX,
        max_decompressed_bytes: 8 << 20,
        ..Limits::default()
    };
    let err = timed(|| parse_with(&bomb, &limits)).unwrap_err();
    assert_eq!(err, Error::Limit(Limit::DecompressedSize));
}

#[test]
fn zip_bomb_with_lying_sizes_is_stopped() {
    // The headers claim 100 bytes; the entry inflates to 1 GiB.
    let data = deflate_zeros(1024);
    let archive = zip(&[("report.xml", 8, &data, 100)], 0);
    let err = timed(|| parse_with(&archive, &Limits::default())).unwrap_err();
    assert_eq!(err, Error::Limit(Limit::CompressionRatio));
    let limits = Limits {
        max_compression_ratio: u64::MAX,
        max_decompressed_bytes: 4 << 20,
        ..Limits::default()
    };
    let err = timed(|| parse_with(&archive, &limits)).unwrap_err();
    assert_eq!(err, Error::Limit(Limit::DecompressedSize));
}

#[test]
fn overlapping_zip_entries_are_rejected() {
    let data = gz(BASE.as_bytes());
    let archive = zip(&[("a.xml.gz", 0, &data, data.len() as u32)], 10);
    let err = parse_with(&archive, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, Error::Zip { ref message, .. } if message.contains("overlapping")),
        "{err:?}"
    );
}

#[test]
fn the_decompressed_budget_is_shared_by_all_entries() {
    // Ten entries of 1 MiB each (stored), budget 4 MiB: fails part-way, whatever each entry is.
    let mut xml = BASE.as_bytes().to_vec();
    xml.resize(1 << 20, b' ');
    let names: Vec<String> = (0..10).map(|i| format!("r{i}.xml")).collect();
    let entries: Vec<(&str, u16, &[u8], u32)> = names
        .iter()
        .map(|n| (n.as_str(), 0u16, xml.as_slice(), xml.len() as u32))
        .collect();
    let archive = zip(&entries, 0);
    let limits = Limits {
        max_decompressed_bytes: 4 << 20,
        ..Limits::default()
    };
    assert_eq!(
        parse_with(&archive, &limits).unwrap_err(),
        Error::Limit(Limit::DecompressedSize)
    );
    // With the default budget the ten copies parse.
    assert_eq!(parse_with(&archive, &Limits::default()).unwrap().len(), 10);
}

#[test]
fn too_many_zip_entries() {
    let names: Vec<String> = (0..65).map(|i| format!("r{i}.xml")).collect();
    let entries: Vec<(&str, u16, &[u8], u32)> = names
        .iter()
        .map(|n| (n.as_str(), 0u16, BASE.as_bytes(), BASE.len() as u32))
        .collect();
    let archive = zip(&entries, 0);
    assert_eq!(
        parse_with(&archive, &Limits::default()).unwrap_err(),
        Error::Limit(Limit::ZipEntries)
    );
}

#[test]
fn a_compressed_size_beyond_the_input_is_truncation_not_allocation() {
    let mut archive = zip(&[("a.xml", 0, BASE.as_bytes(), BASE.len() as u32)], 0);
    // Patch the central directory's compressed size to 4 GB - 2.
    let cd = archive
        .windows(4)
        .rposition(|w| w == b"PK\x01\x02")
        .unwrap();
    archive[cd + 20..cd + 24].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    let err = parse_with(&archive, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Truncated(_)), "{err:?}");
}

#[test]
fn nested_gzip_is_bounded() {
    let mut data = BASE.as_bytes().to_vec();
    for _ in 0..4 {
        data = gz(&data);
    }
    assert_eq!(parse_with(&data, &Limits::default()).unwrap().len(), 1);
    for _ in 0..2 {
        data = gz(&data);
    }
    assert_eq!(
        parse_with(&data, &Limits::default()).unwrap_err(),
        Error::Limit(Limit::Nesting)
    );
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n<!ENTITY a0 \"lol\">\n");
    for i in 1..40 {
        xml.push_str(&format!(
            "<!ENTITY a{i} \"{}\">\n",
            format!("&a{};", i - 1).repeat(10)
        ));
    }
    xml.push_str("]>\n<feedback>&a39;</feedback>\n");
    let err = timed(|| parse_with(xml.as_bytes(), &Limits::default())).unwrap_err();
    assert_eq!(err, Error::Doctype);
    // Without a DTD the reference is just an unknown entity inside an unknown element.
    let no_dtd = BASE.replace("</policy_published>", "</policy_published><x>&a39;</x>");
    let parsed = parse_with(no_dtd.as_bytes(), &Limits::default()).unwrap();
    assert!(
        parsed[0]
            .defects
            .iter()
            .any(|d| d.kind == DefectKind::UnknownElement)
    );
}

#[test]
fn deep_xml_is_refused() {
    let deep = format!("<a>{}", "<b>".repeat(10_000));
    let xml = BASE.replace(
        "</policy_published>",
        &format!("</policy_published><extension>{deep}"),
    );
    let err = timed(|| parse_with(xml.as_bytes(), &Limits::default())).unwrap_err();
    assert_eq!(err, Error::Limit(Limit::XmlDepth));
}

#[test]
fn long_strings_are_refused() {
    let long = "x".repeat(100 << 10);
    let xml = BASE.replace("receiver.example</org_name>", &format!("{long}</org_name>"));
    let err = parse_with(xml.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(err, Error::Limit(Limit::StringLength));
}

#[test]
fn records_are_bounded() {
    let start = BASE.find("  <record>").unwrap();
    let end = BASE.find("</record>\n").unwrap() + "</record>\n".len();
    let record = &BASE[start..end];
    let xml = format!("{}{}{}", &BASE[..end], record.repeat(2), &BASE[end..]);
    let limits = Limits {
        max_records: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse_with(xml.as_bytes(), &limits).unwrap_err(),
        Error::Limit(Limit::Records)
    );
    assert_eq!(
        parse_with(xml.as_bytes(), &Limits::default()).unwrap()[0]
            .report
            .records
            .len(),
        3
    );
}

#[test]
fn children_are_bounded() {
    let dkim =
        "<dkim><domain>example.com</domain><selector>s</selector><result>pass</result></dkim>";
    let xml = BASE.replace(
        "<auth_results>",
        &format!("<auth_results>{}", dkim.repeat(1001)),
    );
    assert_eq!(
        parse_with(xml.as_bytes(), &Limits::default()).unwrap_err(),
        Error::Limit(Limit::Children)
    );
}

#[test]
fn defects_are_bounded() {
    let xml = BASE.replace(
        "</policy_published>",
        &format!("</policy_published>{}", "<x/>".repeat(5)),
    );
    let limits = Limits {
        max_defects: 2,
        ..Limits::default()
    };
    let parsed = parse_with(xml.as_bytes(), &limits).unwrap();
    let defects = &parsed[0].defects;
    assert_eq!(defects.len(), 3);
    assert_eq!(defects[2].kind, DefectKind::DefectsTruncated);
    assert_eq!(defects[2].value.as_deref(), Some("3"));
}

#[test]
fn input_size_is_bounded() {
    let limits = Limits {
        max_input_bytes: 100,
        ..Limits::default()
    };
    assert_eq!(
        parse_with(BASE.as_bytes(), &limits).unwrap_err(),
        Error::Limit(Limit::InputSize)
    );
}
