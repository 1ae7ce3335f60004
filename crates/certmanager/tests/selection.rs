//! Solver selection against the precedence rules of cert-manager's
//! solverpicker: dnsNames, then the longest dnsZones match, then the most
//! matchLabels, then no selector; ties keep the earlier solver.

use acme_token_certmanager::{
    pick_solver, pick_solver_offered, OfferedChallenges, Selector, Solver, SolverKind,
};
use std::collections::BTreeMap;

fn dns01(selector: Option<Selector>) -> Solver {
    Solver {
        index: 0,
        selector,
        kind: SolverKind::Dns01 {
            provider_key: "cloudflare".into(),
            stanza: serde_json::json!({}),
            cname_strategy: None,
            other_keys: Vec::new(),
            webhook: None,
        },
        invalid: None,
    }
}

fn http01(selector: Option<Selector>) -> Solver {
    Solver {
        index: 0,
        selector,
        kind: SolverKind::Http01,
        invalid: None,
    }
}

fn unknown() -> Solver {
    Solver {
        index: 0,
        selector: None,
        kind: SolverKind::Unknown,
        invalid: Some("neither".into()),
    }
}

fn names(names: &[&str]) -> Option<Selector> {
    Some(Selector {
        dns_names: names.iter().map(|s| s.to_string()).collect(),
        ..Selector::default()
    })
}

fn zones(zones: &[&str]) -> Option<Selector> {
    Some(Selector {
        dns_zones: zones.iter().map(|s| s.to_string()).collect(),
        ..Selector::default()
    })
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn with_labels(selector: Option<Selector>, pairs: &[(&str, &str)]) -> Option<Selector> {
    let mut selector = selector.unwrap_or_default();
    selector.match_labels = labels(pairs);
    Some(selector)
}

fn full(dns_names: &[&str], dns_zones: &[&str], pairs: &[(&str, &str)]) -> Option<Selector> {
    Some(Selector {
        dns_names: dns_names.iter().map(|s| s.to_string()).collect(),
        dns_zones: dns_zones.iter().map(|s| s.to_string()).collect(),
        match_labels: labels(pairs),
    })
}

struct Case {
    name: &'static str,
    solvers: Vec<Solver>,
    domain: &'static str,
    order_labels: &'static [(&'static str, &'static str)],
    want: Option<usize>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "no solvers",
            solvers: vec![],
            domain: "www.example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "single solver without selector",
            solvers: vec![dns01(None)],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "two solvers without selector keep the first",
            solvers: vec![dns01(None), dns01(None)],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "zone match after nil selector replaces it",
            solvers: vec![dns01(None), dns01(zones(&["example.com"]))],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(1),
        },
        Case {
            name: "nil selector after zone match never displaces it",
            solvers: vec![dns01(zones(&["example.com"])), dns01(None)],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "dnsNames beat an earlier dnsZones match",
            solvers: vec![
                dns01(zones(&["example.com"])),
                dns01(names(&["www.example.com"])),
            ],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(1),
        },
        Case {
            name: "dnsNames keep precedence over a later longer zone",
            solvers: vec![
                dns01(names(&["a.b.example.com"])),
                dns01(zones(&["b.example.com"])),
            ],
            domain: "a.b.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "longer zone wins",
            solvers: vec![
                dns01(zones(&["example.com"])),
                dns01(zones(&["sub.example.com"])),
            ],
            domain: "a.sub.example.com",
            order_labels: &[],
            want: Some(1),
        },
        Case {
            name: "longer zone first is kept",
            solvers: vec![
                dns01(zones(&["sub.example.com"])),
                dns01(zones(&["example.com"])),
            ],
            domain: "a.sub.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "equal zones keep the earlier solver",
            solvers: vec![
                dns01(zones(&["example.com"])),
                dns01(zones(&["example.com"])),
            ],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "equal zones then more labels wins",
            solvers: vec![
                dns01(zones(&["example.com"])),
                dns01(with_labels(zones(&["example.com"]), &[("team", "a")])),
            ],
            domain: "www.example.com",
            order_labels: &[("team", "a")],
            want: Some(1),
        },
        Case {
            name: "largest zone of one solver counts",
            solvers: vec![
                dns01(zones(&["b.example.com"])),
                dns01(zones(&["example.org", "a.b.example.com"])),
            ],
            domain: "x.a.b.example.com",
            order_labels: &[],
            want: Some(1),
        },
        Case {
            name: "label mismatch excludes the solver",
            solvers: vec![dns01(with_labels(None, &[("team", "c")]))],
            domain: "www.example.com",
            order_labels: &[("team", "a")],
            want: None,
        },
        Case {
            name: "missing label excludes the solver",
            solvers: vec![dns01(with_labels(None, &[("team", "a"), ("env", "prod")]))],
            domain: "www.example.com",
            order_labels: &[("team", "a")],
            want: None,
        },
        Case {
            name: "more matching labels win",
            solvers: vec![
                dns01(with_labels(None, &[("team", "a")])),
                dns01(with_labels(None, &[("team", "a"), ("env", "prod")])),
            ],
            domain: "www.example.com",
            order_labels: &[("team", "a"), ("env", "prod")],
            want: Some(1),
        },
        Case {
            name: "zone beats a later labels-only match",
            solvers: vec![
                dns01(zones(&["example.com"])),
                dns01(with_labels(None, &[("team", "a"), ("env", "prod")])),
            ],
            domain: "www.example.com",
            order_labels: &[("team", "a"), ("env", "prod")],
            want: Some(0),
        },
        Case {
            name: "zone beats an earlier labels-only match",
            solvers: vec![
                dns01(with_labels(None, &[("team", "a")])),
                dns01(zones(&["example.com"])),
            ],
            domain: "www.example.com",
            order_labels: &[("team", "a")],
            want: Some(1),
        },
        Case {
            name: "labels-only match beats nil selector",
            solvers: vec![dns01(None), dns01(with_labels(None, &[("team", "a")]))],
            domain: "www.example.com",
            order_labels: &[("team", "a")],
            want: Some(1),
        },
        Case {
            name: "both dnsNames then longer zone wins",
            solvers: vec![
                dns01(full(&["www.example.com"], &["example.com"], &[])),
                dns01(full(&["www.example.com"], &["www.example.com"], &[])),
            ],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(1),
        },
        Case {
            name: "both dnsNames equal zones then more labels win",
            solvers: vec![
                dns01(full(&["www.example.com"], &[], &[])),
                dns01(full(&["www.example.com"], &[], &[("team", "a")])),
            ],
            domain: "www.example.com",
            order_labels: &[("team", "a")],
            want: Some(1),
        },
        Case {
            name: "both dnsNames tie keeps the earlier",
            solvers: vec![
                dns01(names(&["www.example.com"])),
                dns01(names(&["www.example.com"])),
            ],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "dnsNames and dnsZones must both match",
            solvers: vec![dns01(full(&["www.example.com"], &["example.org"], &[]))],
            domain: "www.example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "wildcard dnsNames entry matches the literal wildcard",
            solvers: vec![dns01(names(&["*.example.com"]))],
            domain: "*.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "wildcard dnsNames entry does not match a host",
            solvers: vec![dns01(names(&["*.example.com"]))],
            domain: "www.example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "dnsNames compare case-sensitively",
            solvers: vec![dns01(names(&["WWW.example.com"]))],
            domain: "www.example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "dnsZones compare case-insensitively",
            solvers: vec![dns01(zones(&["EXAMPLE.com"]))],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "dnsZones with trailing dot never match",
            solvers: vec![dns01(zones(&["example.com."]))],
            domain: "www.example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "dnsZones match whole labels only",
            solvers: vec![dns01(zones(&["ample.com"]))],
            domain: "example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "zone apex matches its zone",
            solvers: vec![dns01(zones(&["example.com"]))],
            domain: "example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "wildcard domain matches its zone",
            solvers: vec![dns01(zones(&["example.com"]))],
            domain: "*.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "zone longer than the domain does not match",
            solvers: vec![dns01(zones(&["www.example.com"]))],
            domain: "example.com",
            order_labels: &[],
            want: None,
        },
        Case {
            name: "http01 solver with better selector is picked",
            solvers: vec![dns01(None), http01(zones(&["example.com"]))],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(1),
        },
        Case {
            name: "empty selector after nil does not replace it",
            solvers: vec![dns01(None), dns01(Some(Selector::default()))],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "empty selector first is kept over nil",
            solvers: vec![dns01(Some(Selector::default())), dns01(None)],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(0),
        },
        Case {
            name: "solver without a type is skipped",
            solvers: vec![unknown(), dns01(None)],
            domain: "www.example.com",
            order_labels: &[],
            want: Some(1),
        },
    ]
}

#[test]
fn pick_follows_solverpicker() {
    for case in cases() {
        let got = pick_solver(&case.solvers, case.domain, &labels(case.order_labels));
        assert_eq!(got, case.want, "case: {}", case.name);
    }
}

#[test]
fn pick_wildcard_skips_http01() {
    let solvers = vec![dns01(None), http01(zones(&["example.com"]))];
    let offered = OfferedChallenges::for_domain("*.example.com");
    let got = pick_solver_offered(&solvers, "*.example.com", &BTreeMap::new(), offered);
    assert_eq!(got, Some(0));
}

#[test]
fn pick_without_dns01_offered() {
    let solvers = vec![dns01(None)];
    let offered = OfferedChallenges {
        dns01: false,
        http01: true,
    };
    assert_eq!(
        pick_solver_offered(&solvers, "www.example.com", &BTreeMap::new(), offered),
        None
    );
}

#[test]
fn offered_for_plain_name_is_both() {
    assert_eq!(
        OfferedChallenges::for_domain("www.example.com"),
        OfferedChallenges::BOTH
    );
}
