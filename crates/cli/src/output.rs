//! Renders the report: `-o table` (grouped by issuer, one verdict line per
//! domain with the first finding and its fix), `-o wide` (every finding and
//! the stage timeline), `-o json` and `-o yaml` (the versioned document).

use crate::args::OutputFormat;
use acme_token_core::finding::Severity;
use acme_token_core::provider::StageStatus;
use acme_token_core::report::{CheckEntry, Report};
use std::fmt::Write as _;

/// Renders the report in the requested format.
pub fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(report).expect("report serializes");
            text.push('\n');
            text
        }
        OutputFormat::Yaml => serde_yaml_ng::to_string(report).expect("report serializes"),
        OutputFormat::Table => render_table(report, false),
        OutputFormat::Wide => render_table(report, true),
    }
}

fn render_table(report: &Report, wide: bool) -> String {
    let mut out = String::new();
    for (provider, url) in &report.metadata.endpoint_overrides {
        let _ = writeln!(out, "note: {provider} endpoint override in use: {url} (not the real provider API)");
    }
    if report.metadata.mode == "offline" {
        let _ = writeln!(out, "note: offline: only the config stage ran; nothing was contacted");
    }
    if !out.is_empty() {
        out.push('\n');
    }

    let domain_width = report
        .checks
        .iter()
        .map(|c| c.domain.as_deref().unwrap_or("(no domain)").len())
        .max()
        .unwrap_or(10)
        .clamp(10, 48);

    let mut current_group: Option<String> = None;
    for check in &report.checks {
        let group = if check.issuer.kind == "Credential" {
            format!("credential {} ({})", check.issuer.name, check.provider)
        } else {
            format!("{} solver {} ({})", check.issuer.display(), check.solver_index, check.provider)
        };
        if current_group.as_deref() != Some(group.as_str()) {
            if current_group.is_some() {
                out.push('\n');
            }
            let _ = write!(out, "{group}");
            if let Some(secret) = check.context.get("secrets") {
                let _ = write!(out, "  Secret {secret}");
            }
            if let Some(es) = check.context.get("externalSecret") {
                let _ = write!(out, "  synced by ExternalSecret {es}");
                if let Some(ready) = check.context.get("externalSecretReady") {
                    let _ = write!(out, " (Ready={ready})");
                }
            }
            out.push('\n');
            current_group = Some(group);
        }
        render_line(&mut out, check, domain_width, wide);
    }

    if !report.rotation.is_empty() {
        out.push_str("\nrotation:\n");
        for comparison in &report.rotation {
            let _ = writeln!(
                out,
                "  {} {}: {}: {}",
                comparison.issuer.display(),
                comparison.domain.as_deref().unwrap_or("(no domain)"),
                comparison.outcome.as_str(),
                comparison.message
            );
        }
    }

    if !report.notices.is_empty() {
        out.push('\n');
        for notice in &report.notices {
            let _ = writeln!(out, "{}: {}: {}", notice.severity_label(), notice.reason, notice.message);
        }
    }
    for error in &report.errors {
        let _ = writeln!(out, "error: {error}");
    }

    let s = &report.summary;
    let noun = if s.checks == 1 { "check" } else { "checks" };
    let _ = writeln!(
        out,
        "\n{} {noun}: {} OK, {} WARN, {} FAIL, {} SKIP",
        s.checks, s.ok, s.warn, s.fail, s.skip
    );
    out
}

fn render_line(out: &mut String, check: &CheckEntry, domain_width: usize, wide: bool) {
    let domain = check.domain.as_deref().unwrap_or("(no domain)");
    let message = match check.headline() {
        Some(f) if f.severity != Severity::Info => format!("{}: {}", f.reason, f.message),
        _ => summary_message(check),
    };
    let role = check
        .role
        .map(|role| format!("{:<11}", role.as_str()))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {:<5} {:<domain_width$}  {role}{:<18} {}",
        check.verdict.as_str(),
        domain,
        check.credential_state,
        message
    );
    let indent = " ".repeat(8);
    if wide {
        let stages: Vec<String> = check
            .stages
            .iter()
            .map(|s| {
                let status = match s.status {
                    StageStatus::Passed => "passed",
                    StageStatus::Warning => "warning",
                    StageStatus::Failed => "FAILED",
                    StageStatus::Skipped => "skipped",
                };
                let inferred = if s.inferred { ", inferred" } else { "" };
                match (&s.note, s.status) {
                    (Some(note), StageStatus::Skipped) => format!("{} skipped ({note})", s.stage),
                    _ => format!("{} {}{} {}ms", s.stage, status, inferred, s.duration_ms),
                }
            })
            .collect();
        let _ = writeln!(out, "{indent}stages: {}", stages.join(" | "));
        for stage in check.stages.iter().filter(|s| !s.facts.is_empty()) {
            let facts: Vec<String> = stage.facts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(out, "{indent}{}: {}", stage.stage, facts.join(", "));
        }
        for credential in &check.credentials {
            let _ = writeln!(out, "{indent}credential {}: {}", credential.field, credential.fingerprint);
        }
        let _ = writeln!(out, "{indent}requests: {}, {} ms", check.requests, check.duration_ms);
        for finding in &check.findings {
            let _ = writeln!(
                out,
                "{indent}- {} {} [{}]: {}",
                finding.severity_label(),
                finding.reason,
                finding.stage,
                finding.message
            );
            if !finding.remedy.is_empty() {
                let _ = writeln!(out, "{indent}  fix: {}", finding.remedy);
            }
            if let Some(evidence) = &finding.evidence {
                let mut parts = Vec::new();
                if let Some(request) = &evidence.request {
                    parts.push(request.clone());
                }
                if let Some(status) = evidence.http_status {
                    parts.push(format!("HTTP {status}"));
                }
                if let Some(code) = &evidence.provider_code {
                    parts.push(format!("code {code}"));
                }
                if let Some(message) = &evidence.provider_message {
                    parts.push(format!("\"{message}\""));
                }
                if !parts.is_empty() {
                    let _ = writeln!(out, "{indent}  evidence: {}", parts.join(", "));
                }
            }
        }
    } else if let Some(finding) = check.headline().filter(|f| f.severity != Severity::Info) {
        if !finding.remedy.is_empty() {
            let _ = writeln!(out, "{indent}fix: {}", finding.remedy);
        }
        let more = check
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .count()
            .saturating_sub(1);
        if more > 0 {
            let _ = writeln!(out, "{indent}(+{more} more; -o wide shows all)");
        }
    }
}

fn summary_message(check: &CheckEntry) -> String {
    let mut parts = Vec::new();
    for stage in &check.stages {
        match (stage.stage.as_str(), stage.status) {
            ("write", StageStatus::Passed | StageStatus::Warning) => {
                if stage.inferred {
                    parts.push("write permission inferred without writing".to_string());
                } else {
                    parts.push("TXT record created, read back and deleted".to_string());
                }
            }
            ("cleanup", StageStatus::Passed) if !stage.inferred => {
                parts.push("nothing left behind".to_string())
            }
            ("zone", StageStatus::Passed) => {
                if let Some(zone) = stage.facts.get("zone") {
                    parts.push(format!("zone {zone}"));
                }
            }
            ("credential", StageStatus::Passed) => parts.push("credential live".to_string()),
            (_, StageStatus::Skipped) if stage.stage.as_str() == "write" => {
                if let Some(note) = &stage.note {
                    parts.push(format!("write not probed: {note}"));
                }
            }
            _ => {}
        }
    }
    if parts.is_empty() {
        if let Some(info) = check.headline() {
            return format!("{}: {}", info.reason, info.message);
        }
        return "no findings".to_string();
    }
    format!("{} ({} requests, {} ms)", parts.join("; "), check.requests, check.duration_ms)
}

/// Short label of a severity.
trait SeverityLabel {
    fn severity_label(&self) -> &'static str;
}

impl SeverityLabel for acme_token_core::Finding {
    fn severity_label(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}
