//! Solver selection, as cert-manager picks a solver for each domain.
//!
//! This follows `Pick()` in cert-manager's `pkg/util/solverpicker` and the
//! selector matchers in `pkg/controller/acmeorders/selectors`. It ports the
//! miekg/dns label helpers they call (`CompareDomainName`, `CountLabel`,
//! read at miekg/dns commit fa041eed, after v1.1.72) with their quirks.
//! `dnsNames` compare exactly and case-sensitively. A `dnsZones` entry with
//! a trailing dot never matches, because its last label keeps the dot.

use crate::resources::{Selector, Solver, SolverKind};
use std::collections::BTreeMap;

/// Challenge types the ACME server offers for an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferedChallenges {
    pub dns01: bool,
    pub http01: bool,
}

impl OfferedChallenges {
    /// Both `dns-01` and `http-01`.
    pub const BOTH: Self = Self {
        dns01: true,
        http01: true,
    };

    /// Returns what Let's Encrypt offers for `domain`: only `dns-01` for a
    /// wildcard name, both types otherwise.
    pub fn for_domain(domain: &str) -> Self {
        if domain.starts_with("*.") {
            Self {
                dns01: true,
                http01: false,
            }
        } else {
            Self::BOTH
        }
    }
}

/// Picks the solver cert-manager would use for `domain`, assuming the ACME
/// server offers both `dns-01` and `http-01`.
///
/// `domain` is the name as in the Certificate, with `*.` for a wildcard.
/// `order_labels` are the Certificate's labels, which cert-manager copies to
/// the Order. Returns the position in `solvers`, or `None` when no solver
/// matches (cert-manager: "no configured challenge solvers can be used for
/// this challenge").
pub fn pick_solver(
    solvers: &[Solver],
    domain: &str,
    order_labels: &BTreeMap<String, String>,
) -> Option<usize> {
    pick_solver_offered(solvers, domain, order_labels, OfferedChallenges::BOTH)
}

/// Picks a solver like [`pick_solver`], considering only the challenge
/// types in `offered`.
pub fn pick_solver_offered(
    solvers: &[Solver],
    domain: &str,
    order_labels: &BTreeMap<String, String>,
    offered: OfferedChallenges,
) -> Option<usize> {
    let mut selected: Option<(usize, Counts)> = None;

    for (position, solver) in solvers.iter().enumerate() {
        let usable = match solver.kind {
            SolverKind::Dns01 { .. } => offered.dns01,
            SolverKind::Http01 => offered.http01,
            SolverKind::Unknown => false,
        };
        if !usable {
            continue;
        }

        // A solver without a selector matches everything, but only when
        // nothing was selected before it, and it never displaces a choice.
        let Some(selector) = &solver.selector else {
            if selected.is_none() {
                selected = Some((position, Counts::default()));
            }
            continue;
        };

        let Some(counts) = match_selector(selector, domain, order_labels) else {
            continue;
        };
        let replace = match &selected {
            None => true,
            Some((_, current)) => counts.beats(current),
        };
        if replace {
            selected = Some((position, counts));
        }
    }
    selected.map(|(position, _)| position)
}

/// Match counts of a selector, compared to rank solvers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    labels: usize,
    /// 1 when a `dnsNames` entry equals the domain.
    dns_names: usize,
    /// Label count of the longest matching `dnsZones` entry.
    dns_zones: usize,
}

impl Counts {
    /// Returns true when a solver matching with `self` replaces the current
    /// choice `current`. Ties keep the earlier solver.
    fn beats(&self, current: &Counts) -> bool {
        let has_names = self.dns_names > 0;
        let current_has_names = current.dns_names > 0;
        if has_names != current_has_names {
            return has_names;
        }
        if has_names {
            if self.dns_zones != current.dns_zones {
                return self.dns_zones > current.dns_zones;
            }
            return self.labels > current.labels;
        }

        let has_zones = self.dns_zones > 0;
        let current_has_zones = current.dns_zones > 0;
        if has_zones != current_has_zones {
            return has_zones;
        }
        if has_zones && self.dns_zones != current.dns_zones {
            return self.dns_zones > current.dns_zones;
        }
        self.labels > current.labels
    }
}

/// Matches all three parts of a selector; `None` when any part fails.
fn match_selector(
    selector: &Selector,
    domain: &str,
    labels: &BTreeMap<String, String>,
) -> Option<Counts> {
    let labels_matched = if selector.match_labels.is_empty() {
        0
    } else if selector
        .match_labels
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
    {
        selector.match_labels.len()
    } else {
        return None;
    };

    let dns_names = if selector.dns_names.is_empty() {
        0
    } else if selector.dns_names.iter().any(|name| name == domain) {
        1
    } else {
        return None;
    };

    let dns_zones = if selector.dns_zones.is_empty() {
        0
    } else {
        let longest = selector
            .dns_zones
            .iter()
            .filter_map(|zone| {
                let matching = compare_domain_name(zone, domain);
                (matching == count_labels(zone)).then_some(matching)
            })
            .max()
            .unwrap_or(0);
        if longest == 0 {
            return None;
        }
        longest
    };

    Some(Counts {
        labels: labels_matched,
        dns_names,
        dns_zones,
    })
}

/// Start offset of each label of `name`, as miekg/dns `Split` returns them.
/// A dot escaped with a backslash does not end a label, and a trailing dot
/// does not start one.
fn label_starts(name: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let bytes = name.as_bytes();
    let mut offset = 0;
    loop {
        match next_label(bytes, offset) {
            (next, false) => {
                starts.push(next);
                offset = next;
            }
            (_, true) => return starts,
        }
    }
}

/// miekg/dns `NextLabel`: the start of the label after `offset`, and
/// whether the end of the name was reached.
fn next_label(name: &[u8], offset: usize) -> (usize, bool) {
    if name.is_empty() {
        return (0, true);
    }
    let mut index = offset;
    while index + 1 < name.len() {
        if name[index] == b'.' {
            let backslashes = name[..index]
                .iter()
                .rev()
                .take_while(|byte| **byte == b'\\')
                .count();
            if backslashes % 2 == 0 {
                return (index + 1, false);
            }
        }
        index += 1;
    }
    (index + 1, true)
}

/// miekg/dns `CountLabel`.
pub(crate) fn count_labels(name: &str) -> usize {
    if name == "." {
        return 0;
    }
    label_starts(name).len()
}

/// miekg/dns `CompareDomainName`: labels `a` and `b` have in common,
/// counted from the right and compared ASCII case-insensitively.
pub(crate) fn compare_domain_name(a: &str, b: &str) -> usize {
    if a == "." || b == "." {
        return 0;
    }
    let starts_a = label_starts(a);
    let starts_b = label_starts(b);
    let mut end_a = a.len();
    let mut end_b = b.len();
    let mut matched = 0;
    for (start_a, start_b) in starts_a.iter().rev().zip(starts_b.iter().rev()) {
        if !a[*start_a..end_a].eq_ignore_ascii_case(&b[*start_b..end_b]) {
            break;
        }
        matched += 1;
        end_a = *start_a;
        end_b = *start_b;
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_counts_common_labels() {
        assert_eq!(compare_domain_name("example.com", "www.example.com"), 2);
        assert_eq!(compare_domain_name("Example.COM", "www.example.com"), 2);
        assert_eq!(compare_domain_name("www.miek.nl.", "www.bla.nl."), 1);
        assert_eq!(compare_domain_name("example.com.", "www.example.com"), 0);
        assert_eq!(compare_domain_name("", "example.com"), 0);
        assert_eq!(compare_domain_name(".", "example.com"), 0);
        assert_eq!(compare_domain_name("ample.com", "example.com"), 1);
    }

    #[test]
    fn count_labels_like_miekg() {
        assert_eq!(count_labels("example.com"), 2);
        assert_eq!(count_labels("example.com."), 2);
        assert_eq!(count_labels("."), 0);
        assert_eq!(count_labels(""), 1);
        assert_eq!(count_labels(r"a\.b.com"), 2);
    }
}
