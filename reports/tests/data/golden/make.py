#!/usr/bin/env python3
"""Writes the golden inputs and their expected normalised JSON.

The inputs are built with Python's own gzip / zipfile / email libraries (an implementation
independent of ours); every expected value is written out by hand below from the input next to
it and the reading rules in the crate docs (defect classes, paths, schema detection) -- never
copied from the crate's output. Run from this directory: `python3 make.py`.
"""
import copy
import email.message
import email.policy
import gzip
import io
import json
import zipfile

OUT = {}


def case(name, data, expected):
    if isinstance(data, str):
        data = data.encode()
    OUT[name] = (data, expected)


def ok(*reports):
    return {"reports": list(reports)}


def rep(report, defects=(), source=None):
    r = {"report": report, "defects": list(defects)}
    if source:
        r["source"] = source
    return r


def d(kind, path, value=None):
    out = {"kind": kind, "path": path}
    if value is not None:
        out["value"] = value
    return out


def err(kind):
    return {"error": kind}


def gz(data):
    if isinstance(data, str):
        data = data.encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# RFC 9990 Appendix B, verbatim (indentation removed).
APPENDIX_B = """<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
  <version>1.0</version>
  <report_metadata>
    <org_name>Sample Reporter</org_name>
    <email>report_sender@example-reporter.com</email>
    <extra_contact_info>...</extra_contact_info>
    <report_id>3v98abbp8ya9n3va8yr8oa3ya</report_id>
    <date_range>
      <begin>302832000</begin>
      <end>302918399</end>
    </date_range>
    <generator>Example DMARC Aggregate Reporter v1.2</generator>
  </report_metadata>
  <policy_published>
    <domain>example.com</domain>
    <p>quarantine</p>
    <sp>none</sp>
    <np>none</np>
    <testing>n</testing>
    <discovery_method>treewalk</discovery_method>
  </policy_published>
  <record>
    <row>
      <source_ip>192.0.2.123</source_ip>
      <count>123</count>
      <policy_evaluated>
        <disposition>pass</disposition>
        <dkim>pass</dkim>
        <spf>fail</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_from>example.com</envelope_from>
      <header_from>example.com</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>example.com</domain>
        <result>pass</result>
        <selector>abc123</selector>
      </dkim>
      <spf>
        <domain>example.com</domain>
        <result>fail</result>
      </spf>
    </auth_results>
  </record>
</feedback>
"""

APPENDIX_B_EXPECTED = {
    "schema": "rfc9990",
    "version": "1.0",
    "report_metadata": {
        "org_name": "Sample Reporter",
        "email": "report_sender@example-reporter.com",
        "extra_contact_info": "...",
        "report_id": "3v98abbp8ya9n3va8yr8oa3ya",
        "date_range": {"begin": 302832000, "end": 302918399},
        "generator": "Example DMARC Aggregate Reporter v1.2",
    },
    "policy_published": {
        "domain": "example.com",
        "discovery_method": "treewalk",
        "p": "quarantine",
        "sp": "none",
        "np": "none",
        "testing": "n",
    },
    "records": [
        {
            "row": {
                "source_ip": "192.0.2.123",
                "count": 123,
                "policy_evaluated": {"disposition": "pass", "dkim": "pass", "spf": "fail"},
            },
            "identifiers": {"header_from": "example.com", "envelope_from": "example.com"},
            "auth_results": {
                "dkim": [{"domain": "example.com", "selector": "abc123", "result": "pass"}],
                "spf": [{"domain": "example.com", "result": "fail"}],
            },
        }
    ],
}
case("rfc9990_appendix_b.xml", APPENDIX_B, ok(rep(APPENDIX_B_EXPECTED)))

# ---------------------------------------------------------------------------------------------
# A small conforming RFC 9990 report; the defect cases below each change one thing in it.
BASE = """<?xml version="1.0" encoding="UTF-8"?>
<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
  <version>1.0</version>
  <report_metadata>
    <org_name>receiver.example</org_name>
    <email>dmarc-reports@receiver.example</email>
    <report_id>r-1</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.com</domain>
    <p>none</p>
  </policy_published>
  <record>
    <row>
      <source_ip>192.0.2.1</source_ip>
      <count>3</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results>
      <dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>
      <spf><domain>bounce.example.net</domain><result>fail</result></spf>
    </auth_results>
  </record>
</feedback>
"""

BASE_EXPECTED = {
    "schema": "rfc9990",
    "version": "1.0",
    "report_metadata": {
        "org_name": "receiver.example",
        "email": "dmarc-reports@receiver.example",
        "report_id": "r-1",
        "date_range": {"begin": 1700000000, "end": 1700086399},
    },
    "policy_published": {"domain": "example.com", "p": "none"},
    "records": [
        {
            "row": {
                "source_ip": "192.0.2.1",
                "count": 3,
                "policy_evaluated": {"disposition": "none", "dkim": "pass", "spf": "fail"},
            },
            "identifiers": {"header_from": "example.com"},
            "auth_results": {
                "dkim": [{"domain": "example.com", "selector": "s1", "result": "pass"}],
                "spf": [{"domain": "bounce.example.net", "result": "fail"}],
            },
        }
    ],
}


def variant(old, new, count=1):
    assert BASE.count(old) >= 1, old
    return BASE.replace(old, new, count)


def expect(mutate=None):
    e = copy.deepcopy(BASE_EXPECTED)
    if mutate:
        mutate(e)
    return e


R1 = "feedback/record[1]"
PE = R1 + "/row/policy_evaluated"

case("base.xml", BASE, ok(rep(expect())))

# Whitespace around values is trimmed and reported.
case(
    "defect_whitespace.xml",
    variant("<count>3</count>", "<count> 3\n </count>").replace(
        "<source_ip>192.0.2.1</source_ip>", "<source_ip>\n  192.0.2.1</source_ip>"
    ),
    ok(rep(expect(), [
        d("whitespace", R1 + "/row/source_ip", "\n  192.0.2.1"),
        d("whitespace", R1 + "/row/count", " 3\n "),
    ])),
)

# Upper-case tokens are read lower-cased and reported.
case(
    "defect_uppercase.xml",
    variant("<disposition>none</disposition>", "<disposition>NONE</disposition>").replace(
        "<selector>s1</selector><result>pass</result>", "<selector>s1</selector><result>Pass</result>"
    ),
    ok(rep(expect(), [
        d("upper_case_token", PE + "/disposition", "NONE"),
        d("upper_case_token", R1 + "/auth_results/dkim[1]/result", "Pass"),
    ])),
)

# Unknown elements are skipped and reported (inside a row and at the top level).
case(
    "defect_unknown_element.xml",
    variant("<count>3</count>", "<count>3</count><source_port>25</source_port>").replace(
        "</policy_published>", "</policy_published>\n  <vendor_info>x</vendor_info>"
    ),
    ok(rep(expect(), [
        d("unknown_element", "feedback", "vendor_info"),
        d("unknown_element", R1 + "/row", "source_port"),
    ])),
)

# XML declaration directly followed by the root.
case(
    "defect_declaration_newline.xml",
    variant('<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0" encoding="UTF-8"?>'),
    ok(rep(expect(), [d("declaration_without_newline", "")])),
)

# Invalid UTF-8 in free text becomes U+FFFD and is reported (path: the element name), when
# the document holds valid multi-byte UTF-8 elsewhere (here extra_contact_info's "\u00e9"), so it
# is UTF-8 with a stray byte rather than another encoding.
def _bad_org(e):
    e["report_metadata"]["org_name"] = "receiver\ufffd.example"
    e["report_metadata"]["extra_contact_info"] = "caf\u00e9"


case(
    "defect_invalid_utf8.xml",
    variant("<org_name>receiver.example</org_name>", "<org_name>receiver\udcff.example</org_name>")
    .replace("</email>", "</email><extra_contact_info>caf\u00e9</extra_contact_info>", 1)
    .encode("utf-8", "surrogateescape"),
    ok(rep(expect(_bad_org), [d("invalid_utf8", "org_name")])),
)

# The same byte in a document with no valid multi-byte UTF-8 anywhere, declared UTF-8: a
# Latin-1 writer with a wrong declaration. Read as windows-1252 (0xFF is "\u00ff"), and the
# declaration reported with the name it gave (lower-cased).
def _latin1_org(e):
    e["report_metadata"]["org_name"] = "receiver\u00ff.example"


case(
    "defect_encoding_declaration.xml",
    variant("<org_name>receiver.example</org_name>", "<org_name>receiver\udcff.example</org_name>")
    .encode("utf-8", "surrogateescape"),
    ok(rep(expect(_latin1_org), [d("encoding_declaration", "", "utf-8")])),
)

# A stray, never closed <xs:schema> start tag before the report (seen from real reporters).
case(
    "defect_stray_schema.xml",
    variant(
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0" encoding="UTF-8"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n',
    ),
    ok(rep(expect(), [d("stray_schema_element", "", "xs:schema")])),
)

# The same, wrapped and closed.
case(
    "defect_stray_schema_closed.xml",
    variant(
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<?xml version="1.0" encoding="UTF-8"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n',
    ).replace("</feedback>\n", "</feedback>\n</xs:schema>\n"),
    ok(rep(expect(), [d("stray_schema_element", "", "xs:schema")])),
)

# Byte order mark.
case("defect_bom.xml", b"\xef\xbb\xbf" + BASE.encode(), ok(rep(expect(), [d("byte_order_mark", "")])))

# An undefined entity is kept literally, never expanded.
def _entity_org(e):
    e["report_metadata"]["org_name"] = "receiver&nbsp;example"


case(
    "defect_unknown_entity.xml",
    variant("<org_name>receiver.example</org_name>", "<org_name>receiver&nbsp;example</org_name>"),
    ok(rep(expect(_entity_org), [d("unknown_entity", "org_name", "nbsp")])),
)

# UTF-16 (little-endian, with its byte order mark) is XML too.
case(
    "utf16.xml",
    b"\xff\xfe" + BASE.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le"),
    ok(rep(expect())),
)

# The RFC 9990 namespace bound to a prefix instead of the default namespace.
import re as _re

case(
    "prefixed_namespace.xml",
    _re.sub(r"<(/?)([a-z_]+)", r"<\1dmarc:\2", BASE).replace(
        'xmlns="urn:ietf:params:xml:ns:dmarc-2.0"', 'xmlns:dmarc="urn:ietf:params:xml:ns:dmarc-2.0"'
    ),
    ok(rep(expect())),
)

# Predefined entities, character references and CDATA are plain XML, not defects.
def _escaped(e):
    e["report_metadata"]["org_name"] = "R&D <mail> A"
    e["report_metadata"]["extra_contact_info"] = "see <https://receiver.example/>"


case(
    "escapes.xml",
    variant(
        "<org_name>receiver.example</org_name>",
        "<org_name>R&amp;D &lt;mail&gt; &#65;</org_name>\n"
        "    <extra_contact_info><![CDATA[see <https://receiver.example/>]]></extra_contact_info>",
    ),
    ok(rep(expect(_escaped))),
)

# An RFC 7489 element in an RFC 9990 report is read and reported.
def _pct(e):
    e["policy_published"]["pct"] = 100


case(
    "defect_other_schema.xml",
    variant("<p>none</p>", "<p>none</p>\n    <pct>100</pct>"),
    ok(rep(expect(_pct), [d("other_schema_element", "feedback/policy_published/pct")])),
)

# A repeated single element: the first is kept.
case(
    "defect_duplicate.xml",
    variant(
        "<org_name>receiver.example</org_name>",
        "<org_name>receiver.example</org_name><org_name>other.example</org_name>",
    ),
    ok(rep(expect(), [d("duplicate_element", "feedback/report_metadata/org_name")])),
)

# policy_published before report_metadata.
_pp = "  <policy_published>\n    <domain>example.com</domain>\n    <p>none</p>\n  </policy_published>\n"
_swapped = BASE.replace(_pp, "").replace("  <report_metadata>", _pp + "  <report_metadata>")
assert _swapped != BASE
case(
    "defect_out_of_order.xml",
    _swapped,
    ok(rep(expect(), [d("out_of_order", "feedback", "report_metadata")])),
)

# A token no schema defines is kept as is.
def _deliver(e):
    e["records"][0]["row"]["policy_evaluated"]["disposition"] = "deliver"


case(
    "defect_unknown_value.xml",
    variant("<disposition>none</disposition>", "<disposition>deliver</disposition>"),
    ok(rep(expect(_deliver), [d("unknown_value", PE + "/disposition", "deliver")])),
)

# Missing elements the RFC 9990 schema requires (p, a DKIM selector).
def _missing(e):
    del e["policy_published"]["p"]
    del e["records"][0]["auth_results"]["dkim"][0]["selector"]


case(
    "defect_missing_elements.xml",
    variant("\n    <p>none</p>", "").replace("<selector>s1</selector>", ""),
    ok(rep(expect(_missing), [
        d("missing_element", "feedback/policy_published/p"),
        d("missing_element", R1 + "/auth_results/dkim[1]/selector"),
    ])),
)

# No record at all.
def _norecords(e):
    e["records"] = []


_start = BASE.index("  <record>")
_end = BASE.index("</record>\n") + len("</record>\n")
case(
    "defect_no_records.xml",
    BASE[:_start] + BASE[_end:],
    ok(rep(expect(_norecords), [d("no_records", "feedback")])),
)

# Content after the root element.
case(
    "defect_trailing.xml",
    BASE + "<feedback>second</feedback>\n",
    ok(rep(expect(), [d("trailing_content", "", "feedback")])),
)

# A namespace that is neither RFC 9990's nor RFC 7489's: read with the RFC 7489 rules, which
# require sp, pct, fo, envelope_from and an SPF scope.
def _legacy(e):
    e["schema"] = "rfc7489"


case(
    "defect_unexpected_namespace.xml",
    variant('xmlns="urn:ietf:params:xml:ns:dmarc-2.0"', 'xmlns="urn:example:other"'),
    ok(rep(expect(_legacy), [
        d("unexpected_namespace", "feedback", "urn:example:other"),
        d("missing_element", "feedback/policy_published/sp"),
        d("missing_element", "feedback/policy_published/pct"),
        d("missing_element", "feedback/policy_published/fo"),
        d("missing_element", R1 + "/identifiers/envelope_from"),
        d("missing_element", R1 + "/auth_results/spf[1]/scope"),
    ])),
)

# Two SPF results in an RFC 9990 report ("zero or one").
def _twospf(e):
    e["records"][0]["auth_results"]["spf"].append(
        {"domain": "mx.example.net", "scope": "helo", "result": "pass"}
    )


case(
    "defect_two_spf.xml",
    variant(
        "<spf><domain>bounce.example.net</domain><result>fail</result></spf>",
        "<spf><domain>bounce.example.net</domain><result>fail</result></spf>\n"
        "      <spf><domain>mx.example.net</domain><scope>helo</scope><result>pass</result></spf>",
    ),
    ok(rep(expect(_twospf), [d("duplicate_element", R1 + "/auth_results/spf[2]")])),
)

# RFC 9990 extensions: top level and record level, kept as trees.
def _ext(e):
    e["extension"] = [
        {
            "name": "ext:info",
            "attributes": [["xmlns:ext", "urn:example:ext"]],
            "children": [{"name": "ext:note", "text": "hello & bye"}],
        }
    ]
    e["records"][0]["extensions"] = [
        {"name": "x:source_hostname", "attributes": [["xmlns:x", "urn:example:x"]], "text": "mail.example.net"}
    ]


case(
    "extensions.xml",
    variant(
        "</policy_published>\n",
        '</policy_published>\n  <extension>\n    <ext:info xmlns:ext="urn:example:ext"><ext:note>hello &amp; bye</ext:note></ext:info>\n  </extension>\n',
    ).replace(
        "</auth_results>\n",
        '</auth_results>\n    <x:source_hostname xmlns:x="urn:example:x">mail.example.net</x:source_hostname>\n',
    ),
    ok(rep(expect(_ext))),
)

# ---------------------------------------------------------------------------------------------
# RFC 7489 report: no namespace, pct, fo, several SPF results with helo scope, several errors,
# the 7489-only reasons.
LEGACY = """<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <version>1.0</version>
  <report_metadata>
    <org_name>legacy.example</org_name>
    <email>noreply-dmarc@legacy.example</email>
    <extra_contact_info>https://legacy.example/dmarc</extra_contact_info>
    <report_id>1234567890</report_id>
    <date_range>
      <begin>1600000000</begin>
      <end>1600086399</end>
    </date_range>
    <error>first error</error>
    <error>second error</error>
  </report_metadata>
  <policy_published>
    <domain>example.org</domain>
    <adkim>r</adkim>
    <aspf>s</aspf>
    <p>quarantine</p>
    <sp>reject</sp>
    <pct>50</pct>
    <fo>1</fo>
  </policy_published>
  <record>
    <row>
      <source_ip>2001:db8::25</source_ip>
      <count>7</count>
      <policy_evaluated>
        <disposition>none</disposition>
        <dkim>fail</dkim>
        <spf>fail</spf>
        <reason>
          <type>forwarded</type>
          <comment>via list</comment>
        </reason>
        <reason>
          <type>sampled_out</type>
        </reason>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_to>rcpt.example</envelope_to>
      <envelope_from>example.org</envelope_from>
      <header_from>example.org</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>example.org</domain>
        <result>fail</result>
        <human_result>body hash mismatch</human_result>
      </dkim>
      <spf>
        <domain>mx.example.org</domain>
        <scope>helo</scope>
        <result>pass</result>
      </spf>
      <spf>
        <domain>example.org</domain>
        <scope>mfrom</scope>
        <result>softfail</result>
      </spf>
    </auth_results>
  </record>
  <record>
    <row>
      <source_ip>198.51.100.7</source_ip>
      <count>1</count>
      <policy_evaluated>
        <disposition>quarantine</disposition>
        <dkim>fail</dkim>
        <spf>fail</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_from></envelope_from>
      <header_from>example.org</header_from>
    </identifiers>
    <auth_results>
      <spf>
        <domain>example.org</domain>
        <scope>mfrom</scope>
        <result>fail</result>
      </spf>
    </auth_results>
  </record>
</feedback>
"""

LEGACY_EXPECTED = {
    "schema": "rfc7489",
    "version": "1.0",
    "report_metadata": {
        "org_name": "legacy.example",
        "email": "noreply-dmarc@legacy.example",
        "extra_contact_info": "https://legacy.example/dmarc",
        "report_id": "1234567890",
        "date_range": {"begin": 1600000000, "end": 1600086399},
        "errors": ["first error", "second error"],
    },
    "policy_published": {
        "domain": "example.org",
        "p": "quarantine",
        "sp": "reject",
        "adkim": "r",
        "aspf": "s",
        "pct": 50,
        "fo": "1",
    },
    "records": [
        {
            "row": {
                "source_ip": "2001:db8::25",
                "count": 7,
                "policy_evaluated": {
                    "disposition": "none",
                    "dkim": "fail",
                    "spf": "fail",
                    "reasons": [{"type": "forwarded", "comment": "via list"}, {"type": "sampled_out"}],
                },
            },
            "identifiers": {
                "header_from": "example.org",
                "envelope_from": "example.org",
                "envelope_to": "rcpt.example",
            },
            "auth_results": {
                "dkim": [{"domain": "example.org", "result": "fail", "human_result": "body hash mismatch"}],
                "spf": [
                    {"domain": "mx.example.org", "scope": "helo", "result": "pass"},
                    {"domain": "example.org", "scope": "mfrom", "result": "softfail"},
                ],
            },
        },
        {
            "row": {
                "source_ip": "198.51.100.7",
                "count": 1,
                "policy_evaluated": {"disposition": "quarantine", "dkim": "fail", "spf": "fail"},
            },
            "identifiers": {"header_from": "example.org", "envelope_from": ""},
            "auth_results": {"spf": [{"domain": "example.org", "scope": "mfrom", "result": "fail"}]},
        },
    ],
}
case("rfc7489.xml", LEGACY, ok(rep(LEGACY_EXPECTED)))

# The dmarc.org namespace some RFC 7489 reporters used.
case(
    "rfc7489_dmarc_org_ns.xml",
    LEGACY.replace("<feedback>", '<feedback xmlns="http://dmarc.org/dmarc-xml/0.1">'),
    ok(rep(LEGACY_EXPECTED)),
)

# A typical legacy report that leaves out what RFC 7489 requires (sp, pct, fo, version).
def _legacy_missing(e):
    del e["version"]
    del e["policy_published"]["sp"]
    del e["policy_published"]["pct"]
    del e["policy_published"]["fo"]


case(
    "rfc7489_missing_elements.xml",
    LEGACY.replace("  <version>1.0</version>\n", "")
    .replace("    <sp>reject</sp>\n", "")
    .replace("    <pct>50</pct>\n", "")
    .replace("    <fo>1</fo>\n", ""),
    ok(rep(
        (lambda e: (_legacy_missing(e), e)[1])(copy.deepcopy(LEGACY_EXPECTED)),
        [
            d("missing_element", "feedback/policy_published/sp"),
            d("missing_element", "feedback/policy_published/pct"),
            d("missing_element", "feedback/policy_published/fo"),
            d("missing_element", "feedback/version"),
        ],
    )),
)

# ---------------------------------------------------------------------------------------------
# Wrappers.
case("rfc9990_appendix_b.xml.gz", gz(APPENDIX_B), ok(rep(APPENDIX_B_EXPECTED, source="gzip")))

_zbuf = io.BytesIO()
with zipfile.ZipFile(_zbuf, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("reports/", b"")
    z.writestr("reports/a.xml", BASE)
    z.writestr("reports/sub/b.xml.gz", gz(LEGACY), compress_type=zipfile.ZIP_STORED)
    z.writestr("__MACOSX/reports/._a.xml", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
_skipped = d("skipped_part", "zip:__MACOSX/reports/._a.xml")
case(
    "several_entries.zip",
    _zbuf.getvalue(),
    ok(
        rep(expect(), [_skipped], source="zip:reports/a.xml"),
        rep(LEGACY_EXPECTED, [_skipped], source="zip:reports/sub/b.xml.gz>gzip"),
    ),
)


def mail(subject, parts, single=None):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "dmarc@receiver.example"
    m["To"] = "rua@example.com"
    m["Subject"] = subject
    m["Date"] = "Tue, 14 Nov 2023 22:13:20 +0000"
    if single is not None:
        data, maintype, subtype = single
        m.set_content(data, maintype=maintype, subtype=subtype)
        return m.as_bytes()
    m.set_content("This is a DMARC aggregate report.\n")
    for data, maintype, subtype, filename in parts:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return m.as_bytes()


_fn = "receiver.example!example.com!1700000000!1700086399.xml.gz"
case(
    "report_gzip.eml",
    mail("Report Domain: example.com Submitter: receiver.example Report-ID: r-1",
         [(gz(BASE), "application", "gzip", _fn)]),
    # mail-parser numbers parts depth-first from the root: 0 multipart, 1 text, 2 attachment.
    ok(rep(expect(), source=f"mime[2]({_fn})>gzip")),
)

_zbuf2 = io.BytesIO()
with zipfile.ZipFile(_zbuf2, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("legacy.xml", LEGACY)
case(
    "report_zip.eml",
    mail("Report domain: example.org Submitter: legacy.example Report-ID: <1234567890>",
         [(_zbuf2.getvalue(), "application", "zip", "legacy.zip")]),
    ok(rep(LEGACY_EXPECTED, source="mime[2](legacy.zip)>zip:legacy.xml")),
)

case(
    "report_single_part.eml",
    mail("Report Domain: example.com", [], single=(BASE.encode(), "text", "xml")),
    ok(rep(expect(), source="mime[0]")),
)

# ---------------------------------------------------------------------------------------------
# Rejected inputs.
case("reject_not_a_report.xml", "<html><body>hello</body></html>\n", err("not_a_report"))
case("reject_truncated.xml", BASE[: BASE.index("<identifiers>") + 5], err("truncated"))
case("reject_truncated_record.xml", BASE[: BASE.index("</record>")], err("truncated"))
case("reject_truncated.xml.gz", gz(BASE)[:120], err("truncated"))
case(
    "reject_billion_laughs.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">\n' for i in range(1, 10)
    )
    + "]>\n<feedback>&lol9;</feedback>\n",
    err("doctype"),
)
case(
    "reject_external_entity.xml",
    '<?xml version="1.0"?>\n<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<feedback><report_metadata><org_name>&xxe;</org_name></report_metadata></feedback>\n",
    err("doctype"),
)
case("reject_text.txt", "hello, this is not a report\n", err("unknown_format"))
case("reject_empty.xml", "\n", err("empty"))
case("reject_bad_count.xml", variant("<count>3</count>", "<count>three</count>"), err("invalid_value"))
case("reject_bad_ip.xml", variant("192.0.2.1", "192.0.2.300"), err("invalid_value"))
# Without its report id a report cannot be told from its copies: rejected whole, absent or empty.
case("reject_no_report_id.xml", variant("<report_id>r-1</report_id>", ""), err("missing_element"))
case("reject_empty_report_id.xml", variant("<report_id>r-1</report_id>", "<report_id> </report_id>"),
     err("missing_element"))
case("reject_no_domain.xml", variant("<domain>example.com</domain>\n    <p>", "<p>"), err("missing_element"))
case("reject_mismatched_tags.xml", variant("<email>dmarc-reports@receiver.example</email>",
                                           "<email>dmarc-reports@receiver.example</org_name>"), err("xml"))
case("reject_truncated.zip", _zbuf.getvalue()[:-30], err("truncated"))
_enc = bytearray(_zbuf2.getvalue())
_cd = _enc.rindex(b"PK\x01\x02")
_enc[_cd + 8] |= 1  # general purpose flag bit 0: encrypted
case("reject_encrypted.zip", bytes(_enc), err("zip"))
case("reject_no_report.eml", mail("hello", [], single=(b"just text\n", "text", "plain")), err("no_report"))
case("reject_corrupt.xml.gz", gz(BASE)[:10] + b"\xff" * 200, err("gzip"))

# ---------------------------------------------------------------------------------------------
# What large receivers actually send (shapes seen from Google, Outlook.com, Yahoo, Mail.ru,
# GMX, appliances on Windows...), written from the RFC 7489 schema and these receivers' habits.
# All use the legacy schema (no namespace); RW is the common report, RW_EXPECTED its reading
# by hand: RFC 7489 requires fo, envelope_from and the SPF scope, so those three missing
# elements are reported for every case that leaves them out (RW_MISSING).
import struct as _struct
import zlib as _zlib


def rw(head='<?xml version="1.0" encoding="UTF-8" ?>\n', root="<feedback>",
       version="  <version>1.0</version>\n", meta="", dates="<begin>1700000000</begin><end>1700086399</end>",
       pp="<domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct>",
       record=None, org="receiver.example"):
    return (head + root + "\n" + version
            + f"  <report_metadata>\n    <org_name>{org}</org_name>\n    <email>noreply@receiver.example</email>\n{meta}"
            + f"    <report_id>123</report_id>\n    <date_range>{dates}</date_range>\n  </report_metadata>\n"
            + f"  <policy_published>{pp}</policy_published>\n" + (RW_RECORD if record is None else record)
            + "</feedback>\n")


RW_RECORD = (
    "  <record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated>"
    "<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>"
    "<identifiers><header_from>example.com</header_from></identifiers>"
    "<auth_results><dkim><domain>example.com</domain><result>pass</result><selector>s1</selector></dkim>"
    "<spf><domain>example.com</domain><result>pass</result></spf></auth_results></record>\n"
)
RW_EXPECTED = {
    "schema": "rfc7489",
    "version": "1.0",
    "report_metadata": {
        "org_name": "receiver.example",
        "email": "noreply@receiver.example",
        "report_id": "123",
        "date_range": {"begin": 1700000000, "end": 1700086399},
    },
    "policy_published": {"domain": "example.com", "adkim": "r", "aspf": "r", "p": "none", "sp": "none", "pct": 100},
    "records": [
        {
            "row": {
                "source_ip": "192.0.2.1",
                "count": 2,
                "policy_evaluated": {"disposition": "none", "dkim": "pass", "spf": "pass"},
            },
            "identifiers": {"header_from": "example.com"},
            "auth_results": {
                "dkim": [{"domain": "example.com", "selector": "s1", "result": "pass"}],
                "spf": [{"domain": "example.com", "result": "pass"}],
            },
        }
    ],
}
RW_MISSING = [
    d("missing_element", "feedback/policy_published/fo"),
    d("missing_element", R1 + "/identifiers/envelope_from"),
    d("missing_element", R1 + "/auth_results/spf[1]/scope"),
]


def rwe(mutate=None):
    e = copy.deepcopy(RW_EXPECTED)
    if mutate:
        mutate(e)
    return e


RW = rw()


# Google style: extra_contact_info, np (an RFC 9990 element in a legacy report).
def _google(e):
    e["report_metadata"]["extra_contact_info"] = "https://support.google.com/a/answer/2466580"
    e["policy_published"]["np"] = "none"


case(
    "rw_google.xml",
    rw(meta="    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>\n",
       pp="<domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct><np>none</np>"),
    ok(rep(rwe(_google), [d("other_schema_element", "feedback/policy_published/np")] + RW_MISSING)),
)


# Outlook.com style: xmlns:xsd / xmlns:xsi attributes on <feedback>, fo, envelope_to, scope:
# a complete RFC 7489 report, so no defect at all.
def _outlook(e):
    e["policy_published"]["fo"] = "0"
    e["records"][0]["identifiers"]["envelope_to"] = "outlook.com"
    e["records"][0]["identifiers"]["envelope_from"] = "example.com"
    e["records"][0]["auth_results"]["spf"][0]["scope"] = "mfrom"


case(
    "rw_outlook.xml",
    rw(head='<?xml version="1.0"?>\n',
       root='<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
       pp="<domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct><fo>0</fo>",
       record=RW_RECORD.replace("<identifiers>",
                                "<identifiers><envelope_to>outlook.com</envelope_to><envelope_from>example.com</envelope_from>")
       .replace("<spf><domain>example.com</domain>", "<spf><domain>example.com</domain><scope>mfrom</scope>")),
    ok(rep(rwe(_outlook))),
)


# Yahoo style: no <version>, dates on their own indented lines, empty <human_result></human_result>.
def _yahoo(e):
    del e["version"]
    e["records"][0]["auth_results"]["dkim"][0]["human_result"] = ""


case(
    "rw_yahoo.xml",
    rw(head='<?xml version="1.0"?>\n', version="",
       dates="\n      <begin>1700000000</begin>\n      <end>1700086399</end>\n    ",
       record=RW_RECORD.replace("<selector>s1</selector>", "<selector>s1</selector><human_result></human_result>")),
    ok(rep(rwe(_yahoo), RW_MISSING + [d("missing_element", "feedback/version")])),
)


# Mail.ru style: an empty <sp/> (kept as written: "" is no policy token) and a DKIM result
# without selector but with an empty <human_result/>. RFC 7489 makes selector optional.
def _mailru(e):
    e["policy_published"]["sp"] = ""
    e["records"][0]["auth_results"]["dkim"][0] = {"domain": "example.com", "result": "pass", "human_result": ""}


case(
    "rw_mailru.xml",
    rw(pp="<domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp/><pct>100</pct>",
       record=RW_RECORD.replace("<selector>s1</selector>", "<human_result/>")),
    ok(rep(rwe(_mailru), [d("unknown_value", "feedback/policy_published/sp", "")] + RW_MISSING)),
)


# An IPv6 source written in upper case without zero compression: the same address (RFC 5952
# §4 text form in the output), not a defect.
def _v6(e):
    e["records"][0]["row"]["source_ip"] = "2001:db8::1"


case("rw_ipv6_upper.xml", RW.replace("192.0.2.1", "2001:DB8:0:0:0:0:0:1"), ok(rep(rwe(_v6), RW_MISSING)))


# Override reasons receivers use: local_policy with an ARC comment, trusted_forwarder,
# mailing_list with an empty comment.
def _reasons(e):
    e["records"][0]["row"]["policy_evaluated"]["reasons"] = [
        {"type": "local_policy", "comment": "arc=pass"},
        {"type": "trusted_forwarder"},
        {"type": "mailing_list", "comment": ""},
    ]


case(
    "rw_reasons.xml",
    RW.replace("<spf>pass</spf></policy_evaluated>",
               "<spf>pass</spf><reason><type>local_policy</type><comment>arc=pass</comment></reason>"
               "<reason><type>trusted_forwarder</type></reason>"
               "<reason><type>mailing_list</type><comment></comment></reason></policy_evaluated>"),
    ok(rep(rwe(_reasons), RW_MISSING)),
)


# Two DKIM signatures and two SPF results (mfrom missing its scope, helo with it).
def _multi(e):
    e["records"][0]["auth_results"]["dkim"].append(
        {"domain": "esp.example.net", "selector": "k2", "result": "fail",
         "human_result": "signature verification failed"})
    e["records"][0]["auth_results"]["spf"].append(
        {"domain": "mx.example.com", "scope": "helo", "result": "neutral"})


case(
    "rw_multi_auth.xml",
    RW.replace("</selector></dkim>", "</selector></dkim><dkim><domain>esp.example.net</domain><result>fail</result><selector>k2</selector>"
               "<human_result>signature verification failed</human_result></dkim>")
    .replace("</auth_results>", "<spf><domain>mx.example.com</domain><scope>helo</scope><result>neutral</result></spf>"
             "</auth_results>"),
    ok(rep(rwe(_multi), RW_MISSING)),
)

# CRLF line ends everywhere; CRLF + a UTF-8 byte order mark.
case("rw_crlf.xml", RW.replace("\n", "\r\n"), ok(rep(rwe(), RW_MISSING)))
case("rw_crlf_bom.xml", b"\xef\xbb\xbf" + RW.replace("\n", "\r\n").encode(),
     ok(rep(rwe(), [d("byte_order_mark", "")] + RW_MISSING)))


# Declared windows-1252 / ISO-8859-1 with non-ASCII org names: decoded as declared.
def _org(name):
    def m(e):
        e["report_metadata"]["org_name"] = name
    return m


case(
    "rw_windows_1252.xml",
    rw(head='<?xml version="1.0" encoding="windows-1252"?>\n', org="Soci\u00e9t\u00e9 \u2013 Mail \u20ac").encode("cp1252"),
    ok(rep(rwe(_org("Soci\u00e9t\u00e9 \u2013 Mail \u20ac")), RW_MISSING)),
)
case(
    "rw_iso_8859_1.xml",
    rw(head="<?xml version='1.0' encoding='ISO-8859-1'?>\n", org="M\u00fcller & S\u00f6hne GmbH".replace("&", "&amp;"))
    .encode("latin-1"),
    ok(rep(rwe(_org("M\u00fcller & S\u00f6hne GmbH")), RW_MISSING)),
)

# gzip variants: FNAME set (Python writes it when given a file name), FEXTRA (built by hand,
# RFC 1952 §2.3.1.1), two members (RFC 1952 §2.2), zero padding after the member.
_rwb = RW.encode()
_gzname = "receiver.example!example.com!1700000000!1700086399.xml"
_fb = io.BytesIO()
with gzip.GzipFile(filename=_gzname, fileobj=_fb, mode="wb", mtime=0) as _f:
    _f.write(_rwb)
case("rw_fname.xml.gz", _fb.getvalue(), ok(rep(rwe(), RW_MISSING, source="gzip")))
_co = _zlib.compressobj(9, _zlib.DEFLATED, -15)
_raw = _co.compress(_rwb) + _co.flush()
_extra = b"AB" + _struct.pack("<H", 4) + b"test"
case(
    "rw_fextra.gz",
    b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff" + _struct.pack("<H", len(_extra)) + _extra + _raw
    + _struct.pack("<II", _zlib.crc32(_rwb), len(_rwb)),
    ok(rep(rwe(), RW_MISSING, source="gzip")),
)
case("rw_multimember.gz", gz(_rwb[:300]) + gz(_rwb[300:]), ok(rep(rwe(), RW_MISSING, source="gzip")))
case("rw_padded.gz", gz(_rwb) + b"\x00" * 512, ok(rep(rwe(), RW_MISSING, source="gzip")))

# A zip written on Windows: "\" as separator in the entry name (kept as written in the source).
_wb = io.BytesIO()
with zipfile.ZipFile(_wb, "w", compression=zipfile.ZIP_DEFLATED) as z:
    _zi = zipfile.ZipInfo("reports\\" + _gzname)
    _zi.create_system = 0
    _zi.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(_zi, RW)
case("rw_windows.zip", _wb.getvalue(), ok(rep(rwe(), RW_MISSING, source="zip:reports\\" + _gzname)))

# E-mail wrappers: zip as application/octet-stream, as application/x-zip-compressed, an
# RFC 2231 encoded file name, a text/xml inline part, the XML as the whole body without MIME.
_zb = io.BytesIO()
with zipfile.ZipFile(_zb, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr(_gzname, RW)
_rwzip = _zb.getvalue()
_zn = "receiver.example!example.com!1700000000!1700086399.zip"
case("rw_octet_stream.eml", mail("Report Domain: example.com", [(_rwzip, "application", "octet-stream", _zn)]),
     ok(rep(rwe(), RW_MISSING, source=f"mime[2]({_zn})>zip:{_gzname}")))
case("rw_x_zip.eml", mail("Report Domain: example.com", [(_rwzip, "application", "x-zip-compressed", "report.zip")]),
     ok(rep(rwe(), RW_MISSING, source=f"mime[2](report.zip)>zip:{_gzname}")))
_m2231 = mail("Report Domain: example.com", [(_rwzip, "application", "zip", ("utf-8", "", "r\u00e9sum\u00e9 report.zip"))])
assert b"filename*" in _m2231
case("rw_rfc2231_name.eml", _m2231,
     ok(rep(rwe(), RW_MISSING, source=f"mime[2](r\u00e9sum\u00e9 report.zip)>zip:{_gzname}")))
_mi = email.message.EmailMessage(policy=email.policy.SMTP)
_mi["From"] = "dmarc@receiver.example"
_mi["Subject"] = "Report Domain: example.com"
_mi.set_content("see the report below\n")
_mi.add_attachment(_rwb, maintype="text", subtype="xml", disposition="inline")
case("rw_inline_text_xml.eml", _mi.as_bytes(), ok(rep(rwe(), RW_MISSING, source="mime[2]")))
case(
    "rw_bare_body.eml",
    "From: dmarc@receiver.example\r\nTo: rua@example.com\r\nSubject: Report Domain: example.com\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\n" + RW.replace("\n", "\r\n"),
    ok(rep(rwe(), RW_MISSING, source="mime[0]")),
)

# Inputs that are not reports at all: rejected with a reason.
case("reject_rw_truncated.xml", RW[:300], err("truncated"))
case("reject_rw.json", '{"feedback": {"report_metadata": {}}}\n', err("unknown_format"))
case("reject_rw_html_doctype.html",
     "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>502</body></html>\n", err("doctype"))
case("reject_rw_html.html", "<html><head><title>Error</title></head><body>oops<br></body></html>\n",
     err("not_a_report"))
_eb = io.BytesIO()
zipfile.ZipFile(_eb, "w").close()
case("reject_rw_empty.zip", _eb.getvalue(), err("no_report"))
_pb = io.BytesIO()
with zipfile.ZipFile(_pb, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("report.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
case("reject_rw_pdf.zip", _pb.getvalue(), err("no_report"))
case("reject_rw_garbage.gz", gz(bytes(range(256)) * 4), err("unknown_format"))
case("reject_rw_empty.gz", gz(b""), err("empty"))

# More wrappers and prologues receivers produce.
# Comments, a processing instruction and standalone="yes" in the prologue: plain XML.
case(
    "rw_prologue.xml",
    RW.replace('<?xml version="1.0" encoding="UTF-8" ?>', '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    .replace("<feedback>", '<!-- generated by reporter -->\n<?xml-stylesheet type="text/xsl" href="r.xsl"?>\n<feedback>'),
    ok(rep(rwe(), RW_MISSING)),
)


# The RFC 9990 namespace plus xmlns:xsi / xsi:schemaLocation, with the legacy pct kept.
def _ns2(e):
    e["schema"] = "rfc9990"


case(
    "rw_schema_location.xml",
    RW.replace("<feedback>", '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0" '
               'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               'xsi:schemaLocation="urn:ietf:params:xml:ns:dmarc-2.0 dmarc.xsd">'),
    # RFC 9990 needs no fo / envelope_from / scope; pct is an RFC 7489 element.
    ok(rep(rwe(_ns2), [d("other_schema_element", "feedback/policy_published/pct")])),
)


class _Unseekable(io.RawIOBase):
    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += b
        return len(b)


# A zip written as a stream (general purpose bit 3: sizes in a data descriptor after the data,
# zero in the local header), as Java's ZipOutputStream and many report writers do.
_us = _Unseekable()
with zipfile.ZipFile(_us, "w", compression=zipfile.ZIP_DEFLATED) as z:
    with z.open("r.xml", "w") as _f:
        _f.write(_rwb)
assert bytes(_us.buf)[6] & 8, "data descriptor flag expected"
case("rw_streamed.zip", bytes(_us.buf), ok(rep(rwe(), RW_MISSING, source="zip:r.xml")))

# Zip64 extra fields on the entry.
_z64 = io.BytesIO()
with zipfile.ZipFile(_z64, "w", compression=zipfile.ZIP_DEFLATED) as z:
    with z.open("r.xml", "w", force_zip64=True) as _f:
        _f.write(_rwb)
case("rw_zip64.zip", _z64.getvalue(), ok(rep(rwe(), RW_MISSING, source="zip:r.xml")))

# gzip with FNAME + FCOMMENT + FHCRC (RFC 1952 §2.3.1), built by hand.
_hdr = b"\x1f\x8b\x08\x1a\x00\x00\x00\x00\x00\x03" + b"r.xml\x00" + b"a comment\x00"
case(
    "rw_fcomment_fhcrc.gz",
    _hdr + _struct.pack("<H", _zlib.crc32(_hdr) & 0xFFFF) + _raw + _struct.pack("<II", _zlib.crc32(_rwb), len(_rwb)),
    ok(rep(rwe(), RW_MISSING, source="gzip")),
)

# The zip as the whole (single-part) message body.
_ms = email.message.EmailMessage(policy=email.policy.SMTP)
_ms["From"] = "dmarc@receiver.example"
_ms["Subject"] = "Report Domain: example.com"
_ms.set_content(_rwzip, maintype="application", subtype="zip", filename="r.zip")
case("rw_single_part_zip.eml", _ms.as_bytes(), ok(rep(rwe(), RW_MISSING, source=f"mime[0](r.zip)>zip:{_gzname}")))

# Hand-written multipart: the zip part has only Content-Type name= (no Content-Disposition),
# base64 with CRLF line ends.
import base64 as _b64

case(
    "rw_name_param_only.eml",
    ("From: dmarc@receiver.example\r\nSubject: Report Domain: example.com\r\nMIME-Version: 1.0\r\n"
     'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nreport\r\n'
     '--XX\r\nContent-Type: application/zip; name="r.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
     + _b64.encodebytes(_rwzip).decode().replace("\n", "\r\n") + "--XX--\r\n"),
    ok(rep(rwe(), RW_MISSING, source=f"mime[2](r.zip)>zip:{_gzname}")),
)

# An mbox entry ("From " line, bare LF) with an application/x-gzip single part.
_mg = email.message.EmailMessage(policy=email.policy.SMTP)
_mg["From"] = "dmarc@receiver.example"
_mg["Subject"] = "Report Domain: example.com"
_mg.set_content(gz(_rwb), maintype="application", subtype="x-gzip", filename="r.xml.gz")
case(
    "rw_mbox_x_gzip.eml",
    b"From MAILER-DAEMON Mon Nov 13 00:00:00 2023\n" + _mg.as_bytes().replace(b"\r\n", b"\n"),
    ok(rep(rwe(), RW_MISSING, source="mime[0](r.xml.gz)>gzip")),
)

# A report forwarded as message/rfc822: part numbering restarts inside the inner message.
_inner = email.message.EmailMessage(policy=email.policy.SMTP)
_inner["From"] = "dmarc@receiver.example"
_inner["Subject"] = "Report Domain: example.com"
_inner.set_content("report attached\n")
_inner.add_attachment(_rwzip, maintype="application", subtype="zip", filename="r.zip")
_outer = email.message.EmailMessage(policy=email.policy.SMTP)
_outer["From"] = "postmaster@example.com"
_outer["Subject"] = "Fwd: Report Domain: example.com"
_outer.set_content("forwarding\n")
_outer.add_attachment(_inner)
case("rw_forwarded.eml", _outer.as_bytes(), ok(rep(rwe(), RW_MISSING, source=f"mime[2]>mime[2](r.zip)>zip:{_gzname}")))

# text/xml body in quoted-printable.
_mq = email.message.EmailMessage(policy=email.policy.SMTP)
_mq["From"] = "dmarc@receiver.example"
_mq["Subject"] = "Report Domain: example.com"
_mq.set_content(RW, subtype="xml", cte="quoted-printable")
case("rw_quoted_printable.eml", _mq.as_bytes(), ok(rep(rwe(), RW_MISSING, source="mime[0]")))

# More non-reports.
case("reject_rw_bzip2.bz2", b"BZh91AY&SY" + b"\x00" * 40, err("unknown_format"))
case("reject_rw_rss.xml", '<?xml version="1.0"?><rss version="2.0"><channel/></rss>\n', err("not_a_report"))
case("reject_rw_empty_feedback.xml", '<?xml version="1.0"?>\n<feedback/>\n', err("missing_element"))
_mp = email.message.EmailMessage(policy=email.policy.SMTP)
_mp["From"] = "dmarc@receiver.example"
_mp["Subject"] = "Report"
_mp.set_content("see the PDF\n")
_mp.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="r.pdf")
case("reject_rw_pdf.eml", _mp.as_bytes(), err("no_report"))
case("reject_rw_truncated_trailer.gz", gz(_rwb)[:-8], err("truncated"))

# UTF-16 without a byte order mark (XML 1.0 Appendix F.1 autodetection from "<?"), both orders.
_u16 = RW.replace('encoding="UTF-8"', 'encoding="UTF-16"')
case("rw_utf16le_no_bom.xml", _u16.encode("utf-16-le"), ok(rep(rwe(), RW_MISSING)))
case("rw_utf16be_no_bom.xml", _u16.encode("utf-16-be"), ok(rep(rwe(), RW_MISSING)))

# Declares ISO-8859-1 but the bytes are UTF-8 (a frequent mislabel): valid UTF-8 is kept, and
# the wrong declaration reported with its name.
case(
    "rw_latin1_label_utf8_bytes.xml",
    rw(head='<?xml version="1.0" encoding="ISO-8859-1"?>\n', org="r\u00e9ceiver.example").encode("utf-8"),
    ok(rep(rwe(_org("r\u00e9ceiver.example")), [d("encoding_declaration", "", "iso-8859-1")] + RW_MISSING)),
)

# A UTF-16 XML attachment (with its byte order mark) in an e-mail.
_m16 = mail("Report Domain: example.com", [(b"\xff\xfe" + _u16.encode("utf-16-le"), "application", "xml", "r.xml")])
case("rw_utf16_attachment.eml", _m16, ok(rep(rwe(), RW_MISSING, source="mime[2](r.xml)")))

# ---------------------------------------------------------------------------------------------
# Recovery of what real receivers break. The value of a dropped_record or top-level
# recovered_markup defect is the class of the error that dropped it (Error::kind).

# Three records: BASE's, and two more with their own source IP and count.
_REC1 = BASE[BASE.index("  <record>"):BASE.index("</feedback>")]


def _rec(ip, count):
    return _REC1.replace("192.0.2.1", ip).replace("<count>3</count>", f"<count>{count}</count>")


def _three(r2=None, r3=None):
    return BASE.replace(
        "</feedback>", (r2 if r2 is not None else _rec("192.0.2.2", 5))
        + (r3 if r3 is not None else _rec("192.0.2.3", 7)) + "</feedback>")


def _rec_exp(ip, count):
    r = copy.deepcopy(BASE_EXPECTED["records"][0])
    r["row"]["source_ip"] = ip
    r["row"]["count"] = count
    return r


def _records(*recs):
    def m(e):
        e["records"] = [_rec_exp(ip, c) for ip, c in recs]
    return m


_R1, _R2, _R3 = ("192.0.2.1", 3), ("192.0.2.2", 5), ("192.0.2.3", 7)
case("recover_base_three.xml", _three(), ok(rep(expect(_records(_R1, _R2, _R3)))))

# Unescaped markup inside free-text leaves, as some receivers write addresses and domains: the
# leaf has no child elements in the schema, so everything up to its own end tag is its text.
# libxml2 2.9's recover mode reads the email below as "@y>" with an element <x/>, and the
# header_from as "bad" with an element <xml.net/>; both lose text that is recovered here.
def _markup(e):
    e["report_metadata"]["email"] = "<x@y>"
    e["records"][0]["identifiers"]["header_from"] = "bad<xml.net"
    e["records"][2]["identifiers"]["header_from"] = "a & b"


case(
    "recover_markup.xml",
    _three(r3=_rec("192.0.2.3", 7).replace("<header_from>example.com", "<header_from>a & b"))
    .replace("<email>dmarc-reports@receiver.example</email>", "<email><x@y></email>")
    .replace("<header_from>example.com", "<header_from>bad<xml.net", 1),
    ok(rep(expect(lambda e: (_records(_R1, _R2, _R3)(e), _markup(e))), [
        d("recovered_markup", "feedback/report_metadata/email", "<x@y>"),
        d("recovered_markup", "feedback/record[1]/identifiers/header_from", "bad<xml.net"),
        d("recovered_markup", "feedback/record[3]/identifiers/header_from", "a & b"),
    ])),
)

# A record with broken structure (policy_evaluated never closed) cannot be read whole: it is
# dropped, the records around it are kept.
case(
    "recover_dropped_record.xml",
    _three(r2=_rec("192.0.2.2", 5).replace("</policy_evaluated>", "", 1)),
    ok(rep(expect(_records(_R1, _R3)), [d("dropped_record", "feedback/record[2]", "xml")])),
)

# A record whose count is not a number: dropped (never half-filled), the others kept. With a
# single record the report is rejected (reject_bad_count.xml).
case(
    "recover_bad_count.xml",
    _three(r3=_rec("192.0.2.3", "seven")),
    ok(rep(expect(_records(_R1, _R2)), [d("dropped_record", "feedback/record[3]", "invalid_value")])),
)

# Cut off inside the third record (a mail system truncated the attachment): the two whole
# records stand, the third is dropped, and the document is reported truncated.
_t3 = _three()
case(
    "recover_truncated.xml",
    _t3[:_t3.rindex("<identifiers>") + 5],
    ok(rep(expect(_records(_R1, _R2)), [
        d("dropped_record", "feedback/record[3]", "truncated"),
        d("truncated_document", "feedback"),
    ])),
)
# Cut off right after a record's end tag: nothing dropped, only truncated.
case(
    "recover_truncated_between.xml",
    _t3[:_t3.rindex("</record>") + len("</record>")],
    ok(rep(expect(_records(_R1, _R2, _R3)), [d("truncated_document", "feedback")])),
)

# Stray bytes after the root (NUL padding and a fragment): ignored, reported once.
case(
    "recover_stray_bytes.xml",
    BASE.encode() + b"\x00\x00\x00garbage</x",
    ok(rep(expect(), [d("trailing_content", "")])),
)

# A stray end tag between records (a template bug): skipped and reported (class "xml": it
# breaks well-formedness).
case(
    "recover_stray_end_tag.xml",
    _three(r2=_rec("192.0.2.2", 5) + "</row>\n"),
    ok(rep(expect(_records(_R1, _R2, _R3)), [d("recovered_markup", "feedback", "xml")])),
)

# UTF-16 (with a byte order mark) that declares UTF-8: read as UTF-16, the declaration reported.
case(
    "recover_utf16_declared_utf8.xml",
    b"\xff\xfe" + BASE.encode("utf-16-le"),
    ok(rep(expect(), [d("encoding_declaration", "", "utf-8")])),
)
# UTF-8 bytes that declare UTF-16 (seen from some appliances): read as UTF-8, reported.
case(
    "recover_utf8_declared_utf16.xml",
    variant('encoding="UTF-8"', 'encoding="UTF-16"'),
    ok(rep(expect(), [d("encoding_declaration", "", "utf-16")])),
)

# ---------------------------------------------------------------------------------------------
# E-mail containers as they come: the report is found among any number of parts, and a part
# that is no report is passed over, never read as one. mail-parser numbers parts depth-first
# from the root (the numbers below are worked out from each structure).
from email.mime.application import MIMEApplication  # noqa: E402
from email.mime.image import MIMEImage  # noqa: E402
from email.mime.multipart import MIMEMultipart  # noqa: E402
from email.mime.text import MIMEText  # noqa: E402

# A 1x1 PNG (signature, IHDR, IDAT, IEND), written out by hand.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
_HTML = ('<div style="font-family:sans-serif"><p>Thank you for your feedback. '
         'This is the DMARC aggregate report for example.com.</p><img src="cid:logo"></div>\n')


def _headers(m, subject="Report Domain: example.com Submitter: receiver.example Report-ID: r-1"):
    m["From"] = "dmarc@receiver.example"
    m["To"] = "rua@example.com"
    m["Subject"] = subject
    m["Date"] = "Tue, 14 Nov 2023 22:13:20 +0000"
    return m


def _attachment(data, subtype, filename, maintype="application"):
    if maintype == "text":
        a = MIMEText(data, subtype)
    else:
        a = MIMEApplication(data, _subtype=subtype)
    a.add_header("Content-Disposition", "attachment", filename=filename)
    return a


# multipart/mixed [ multipart/related [ text/html, image/png ], application/gzip ]:
# 0 mixed, 1 related, 2 html, 3 png, 4 gzip. The HTML names "feedback" and is skipped.
_m = _headers(MIMEMultipart("mixed"))
_rel = MIMEMultipart("related")
_rel.attach(MIMEText(_HTML, "html"))
_img = MIMEImage(_PNG, _subtype="png")
_img.add_header("Content-ID", "<logo>")
_img.add_header("Content-Disposition", "inline", filename="logo.png")
_rel.attach(_img)
_m.attach(_rel)
_m.attach(_attachment(gz(BASE), "gzip", _fn))
case("mail_html_related_then_gzip.eml", _m.as_bytes(), ok(rep(expect(), source=f"mime[4]({_fn})>gzip")))

# The attachment first, an HTML body (with a document type declaration) after it:
# 0 mixed, 1 gzip, 2 html.
_m = _headers(MIMEMultipart("mixed"))
_m.attach(_attachment(gz(BASE), "gzip", _fn))
_m.attach(MIMEText("<!DOCTYPE html>\n<html><body>" + _HTML + "</body></html>\n", "html"))
case("mail_gzip_then_html.eml", _m.as_bytes(), ok(rep(expect(), source=f"mime[1]({_fn})>gzip")))

# The report XML in an attachment labelled text/plain: 0 mixed, 1 body, 2 attachment.
_m = _headers(MIMEMultipart("mixed"))
_m.attach(MIMEText("This is a DMARC aggregate report.\n", "plain"))
_m.attach(_attachment(BASE, "plain", "report.txt", maintype="text"))
case("mail_text_plain_attachment.eml", _m.as_bytes(), ok(rep(expect(), source="mime[2](report.txt)")))

# Two reports in one message, each returned: 0 mixed, 1 body, 2 gzip, 3 zip.
_m = _headers(MIMEMultipart("mixed"))
_m.attach(MIMEText("Two reports.\n", "plain"))
_m.attach(_attachment(gz(BASE), "gzip", "a.xml.gz"))
_m.attach(_attachment(_zbuf2.getvalue(), "zip", "legacy.zip"))
case("mail_two_reports.eml", _m.as_bytes(), ok(
    rep(expect(), source="mime[2](a.xml.gz)>gzip"),
    rep(LEGACY_EXPECTED, source="mime[3](legacy.zip)>zip:legacy.xml"),
))

# A compressed part that is no report (a log) beside the report: skipped and reported on the
# report. 0 mixed, 1 body, 2 report, 3 log.
_m = _headers(MIMEMultipart("mixed"))
_m.attach(MIMEText("Report and log.\n", "plain"))
_m.attach(_attachment(gz(BASE), "gzip", _fn))
_m.attach(_attachment(gz("Nov 14 22:13:20 mx postfix/smtpd[1]: connect from unknown\n"), "gzip", "mail.log.gz"))
case("mail_report_and_log_gz.eml", _m.as_bytes(), ok(rep(
    expect(), [d("skipped_part", "mime[3](mail.log.gz)>gzip")], source=f"mime[2]({_fn})>gzip")))

# A zip holding the report and an HTML read-me that mentions feedback: the read-me is skipped.
_zh = io.BytesIO()
with zipfile.ZipFile(_zh, "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("report.xml", BASE)
    z.writestr("readme.html", "<html><body>" + _HTML + "</body></html>")
case("zip_report_and_html.zip", _zh.getvalue(), ok(rep(
    expect(), [d("skipped_part", "zip:readme.html")], source="zip:report.xml")))

if __name__ == "__main__":
    for name, (data, expected) in sorted(OUT.items()):
        with open(name, "wb") as f:
            f.write(data)
        with open(name + ".json", "w") as f:
            json.dump(expected, f, indent=2, sort_keys=True)
            f.write("\n")
    print(f"{len(OUT)} cases written")
