//! Random and malformed input must give a result or a LoadError, never a
//! panic, and must finish quickly.

mod common;

use acme_token_certmanager::{load_bytes, PlanOptions};
use common::plan;
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "---\n",
    "...\n",
    "- ",
    ": ",
    "\n",
    "  ",
    "    ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "|\n",
    ">-\n",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: ",
    "!tag ",
    "!!str ",
    "%YAML 1.2\n",
    "# c\n",
    "\t",
    "\r\n",
    "?",
    "\\",
    "{{ .Values.x }}",
    "${X}",
    "apiVersion: v1\n",
    "apiVersion: cert-manager.io/v1\n",
    "apiVersion: certmanager.k8s.io/v1alpha1\n",
    "kind: ClusterIssuer\n",
    "kind: Issuer\n",
    "kind: Secret\n",
    "kind: List\n",
    "kind: Certificate\n",
    "kind: ExternalSecret\n",
    "apiVersion: external-secrets.io/v1\n",
    "kind: SealedSecret\n",
    "apiVersion: bitnami.com/v1alpha1\n",
    "metadata:\n",
    "  name: x\n",
    "  namespace: cert-manager\n",
    "spec:\n",
    "  acme:\n",
    "    solvers:\n",
    "    - dns01:\n",
    "        cloudflare:\n",
    "          apiTokenSecretRef: {name: x, key: k}\n",
    "        webhook: {solverName: s, config: {secretName: x}}\n",
    "      selector: {dnsZones: [example.com], dnsNames: ['*.example.com']}\n",
    "items:\n",
    "data:\n",
    "  k: aGVsbG8=\n",
    "  k: <X>\n",
    "stringData:\n",
    "  k: v\n",
    "dnsNames: [a.example.com]\n",
    "issuerRef: {name: x, kind: ClusterIssuer}\n",
    "dns01:\n",
    "providers:\n",
    "- name: p\n",
    "  route53: {}\n",
    "0x1F",
    "1e9",
    "~",
    "null",
    "true",
    ".nan",
    "-",
    "😀",
    "\u{feff}",
    "é",
];

/// Inputs per random test; `ACME_TOKEN_FUZZ_ITERATIONS` raises it for a
/// longer local run.
fn iterations(default: usize) -> usize {
    std::env::var("ACME_TOKEN_FUZZ_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn check(input: &[u8]) {
    if let Ok(inventory) = load_bytes(input, "fuzz.yaml") {
        for offline in [false, true] {
            let opts = PlanOptions {
                offline,
                domains: if offline {
                    vec!["*.example.com".into()]
                } else {
                    Vec::new()
                },
                ..PlanOptions::default()
            };
            let planned = plan(&inventory, &opts);
            let _ = format!("{planned:?}");
        }
        let _ = serde_json::to_string(&inventory).unwrap();
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    for _ in 0..iterations(3_000) {
        let length = rng.below(512);
        let bytes: Vec<u8> = (0..length).map(|_| rng.next() as u8).collect();
        check(&bytes);
    }
    assert!(started.elapsed() < Duration::from_secs(600));
}

#[test]
fn yaml_token_soup_never_panics() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let started = Instant::now();
    for _ in 0..iterations(20_000) {
        let count = rng.below(80);
        let mut text = String::new();
        for _ in 0..count {
            text.push_str(TOKENS[rng.below(TOKENS.len())]);
        }
        check(text.as_bytes());
    }
    assert!(started.elapsed() < Duration::from_secs(600));
}

/// A valid file whose known fields are replaced, one at a time, by values
/// of every other type.
#[test]
fn wrong_types_never_panic() {
    let template = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: NAME\n  namespace: NS\nspec:\n  acme:\n    email: EMAIL\n    privateKeySecretRef: PKREF\n    solvers:\n      - selector: SELECTOR\n        dns01:\n          cnameStrategy: CNAME\n          cloudflare: STANZA\n      - selector:\n          dnsZones: ZONES\n          dnsNames: NAMES\n          matchLabels: LABELS\n        dns01:\n          webhook:\n            groupName: GROUP\n            solverName: SOLVER\n            config: CONFIG\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations: ANNOTATIONS\n  ownerReferences: OWNERS\ndata: DATA\nstringData: STRINGDATA\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e}\nspec:\n  target: TARGET\n  data: ESDATA\n  dataFrom: ESFROM\n  refreshInterval: REFRESH\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, labels: CLABELS}\nspec:\n  dnsNames: CNAMES\n  commonName: CN\n  issuerRef: IREF\n";
    let placeholders = [
        "NAME",
        "NS",
        "EMAIL",
        "PKREF",
        "SELECTOR",
        "CNAME",
        "STANZA",
        "ZONES",
        "NAMES",
        "LABELS",
        "GROUP",
        "SOLVER",
        "CONFIG",
        "ANNOTATIONS",
        "OWNERS",
        "DATA",
        "STRINGDATA",
        "TARGET",
        "ESDATA",
        "ESFROM",
        "REFRESH",
        "CLABELS",
        "CNAMES",
        "CN",
        "IREF",
    ];
    let values = [
        "5",
        "\"abc\"",
        "[]",
        "[1, [2]]",
        "{}",
        "{a: {b: 1}}",
        "null",
        "true",
        "[{name: x, key: y}]",
        "{name: x, key: y}",
    ];
    for placeholder in placeholders {
        for value in values {
            let mut text = template.to_string();
            for other in placeholders {
                let replacement = if other == placeholder { value } else { "null" };
                text = text.replace(other, replacement);
            }
            check(text.as_bytes());
        }
    }
}

#[test]
fn truncated_fixtures_never_panic() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        for end in (0..bytes.len()).step_by(7) {
            check(&bytes[..end]);
        }
    }
}
