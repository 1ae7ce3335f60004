//! The `providers` command and the generated `docs/providers/<id>.md` pages.
//!
//! Everything shown comes from the descriptor each provider crate exports,
//! so the command, its JSON and the docs cannot disagree with the code.

use crate::registry;
use acme_token_core::Descriptor;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Output format of `providers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProvidersFormat {
    Table,
    Json,
}

/// Flags of `providers`.
#[derive(Debug, Clone, Args)]
pub struct ProvidersArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: ProvidersFormat,

    /// Write one Markdown page per provider, `<id>.md`, into this directory
    /// (how docs/providers/ is generated) instead of printing.
    #[arg(long = "markdown", value_name = "DIR")]
    pub markdown: Option<PathBuf>,
}

/// One cert-manager field of a provider stanza.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldView {
    pub name: &'static str,
    pub description: &'static str,
    /// True for a Secret reference (`…SecretRef`): its value is a credential.
    pub secret_ref: bool,
}

/// A provider as `providers -o json` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    pub id: &'static str,
    pub name: &'static str,
    /// Key of the stanza under `dns01`, or `webhook/<solverName>`.
    pub solver_key: &'static str,
    pub fields: Vec<FieldView>,
    /// cert-manager fields that reference a Secret key, which `--candidate FIELD=SRC` can replace.
    pub secret_fields: Vec<&'static str>,
    pub credential_modes: &'static [&'static str],
    pub permissions: &'static [&'static str],
    pub endpoints: &'static [&'static str],
    pub default_endpoint: &'static str,
    pub published_rate_limit: &'static str,
    pub default_budget: acme_token_core::BudgetSettings,
}

/// The `providers -o json` document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderList {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub providers: Vec<ProviderView>,
}

fn is_secret_ref(field: &str) -> bool {
    field.ends_with("SecretRef")
}

/// Builds the view of one descriptor.
pub fn view(descriptor: &'static Descriptor) -> ProviderView {
    let fields: Vec<FieldView> = descriptor
        .fields
        .iter()
        .map(|(name, description)| FieldView {
            name,
            description,
            secret_ref: is_secret_ref(name),
        })
        .collect();
    ProviderView {
        id: descriptor.id,
        name: descriptor.name,
        solver_key: descriptor.solver_key,
        secret_fields: fields.iter().filter(|f| f.secret_ref).map(|f| f.name).collect(),
        fields,
        credential_modes: descriptor.credential_modes,
        permissions: descriptor.permissions,
        endpoints: descriptor.endpoints,
        default_endpoint: descriptor.default_endpoint,
        published_rate_limit: descriptor.published_rate_limit,
        default_budget: descriptor.default_budget,
    }
}

/// Views of every supported provider, sorted by id.
pub fn views() -> Vec<ProviderView> {
    let mut views: Vec<ProviderView> = registry::factories()
        .iter()
        .map(|factory| view(factory.descriptor()))
        .collect();
    views.sort_by_key(|v| v.id);
    views
}

fn solver_path(solver_key: &str) -> String {
    match solver_key.strip_prefix("webhook/") {
        Some(solver_name) => format!("dns01.webhook (solverName {solver_name})"),
        None => format!("dns01.{solver_key}"),
    }
}

fn budget_text(view: &ProviderView) -> String {
    format!(
        "{} requests at once, then {} per second per account (`--budget` scales it down)",
        view.default_budget.burst, view.default_budget.per_second
    )
}

/// Renders the table view.
pub fn render_table(views: &[ProviderView]) -> String {
    let mut out = String::new();
    for (position, view) in views.iter().enumerate() {
        if position > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{} ({}): {}", view.name, view.id, solver_path(view.solver_key));
        let _ = writeln!(out, "  fields:");
        for field in &view.fields {
            let marker = if field.secret_ref { " [Secret]" } else { "" };
            let _ = writeln!(out, "    {}{marker}: {}", field.name, field.description);
        }
        let _ = writeln!(out, "  credential modes:");
        for mode in view.credential_modes {
            let _ = writeln!(out, "    {mode}");
        }
        let _ = writeln!(out, "  permissions:");
        for permission in view.permissions {
            let _ = writeln!(out, "    {permission}");
        }
        let _ = writeln!(out, "  endpoints (base {}):", view.default_endpoint);
        for endpoint in view.endpoints {
            let _ = writeln!(out, "    {endpoint}");
        }
        let _ = writeln!(out, "  rate limit: {}", view.published_rate_limit);
        let _ = writeln!(out, "  default budget: {}", budget_text(view));
    }
    out
}

/// Renders the JSON document.
pub fn render_json(views: Vec<ProviderView>) -> String {
    let list = ProviderList {
        api_version: acme_token_core::report::REPORT_API_VERSION,
        kind: "ProviderList",
        providers: views,
    };
    let mut text = serde_json::to_string_pretty(&list).expect("provider list serializes");
    text.push('\n');
    text
}

/// Renders the Markdown page of one provider.
pub fn render_markdown(view: &ProviderView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} (`{}`)\n", view.name, view.id);
    let _ = writeln!(
        out,
        "<!-- Generated from the provider's descriptor by `kubectl acme-token providers --markdown docs/providers`. Do not edit: change the descriptor and regenerate. -->\n"
    );
    let _ = writeln!(out, "cert-manager solver: `{}`.\n", solver_path(view.solver_key));

    let _ = writeln!(out, "## cert-manager fields\n");
    let _ = writeln!(out, "| field | Secret reference | description |");
    let _ = writeln!(out, "|---|---|---|");
    for field in &view.fields {
        let secret = if field.secret_ref { "yes" } else { "no" };
        let _ = writeln!(out, "| `{}` | {secret} | {} |", field.name, field.description);
    }
    if !view.secret_fields.is_empty() {
        let fields: Vec<String> = view.secret_fields.iter().map(|f| format!("`{f}`")).collect();
        let _ = writeln!(
            out,
            "\n`check --candidate FIELD=SRC` can replace: {}.",
            fields.join(", ")
        );
    }

    let _ = writeln!(out, "\n## Credential modes\n");
    for mode in view.credential_modes {
        let _ = writeln!(out, "- {mode}");
    }

    let _ = writeln!(out, "\n## Permissions the solver needs\n");
    for permission in view.permissions {
        let _ = writeln!(out, "- {permission}");
    }

    let _ = writeln!(out, "\n## Endpoints called\n");
    let _ = writeln!(
        out,
        "Base URL `{}`; tests and the demo replace it with `--endpoint {}=URL`.\n",
        view.default_endpoint, view.id
    );
    for endpoint in view.endpoints {
        let _ = writeln!(out, "- `{endpoint}`");
    }

    let _ = writeln!(out, "\n## Rate limit\n");
    let _ = writeln!(out, "- Published limit: {}.", view.published_rate_limit.trim_end_matches('.'));
    let _ = writeln!(out, "- Default budget of acme-token: {}.", budget_text(view));
    out
}

/// Writes `<id>.md` for every provider into `dir` and returns the paths.
pub fn write_markdown(dir: &Path, views: &[ProviderView]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for view in views {
        let path = dir.join(format!("{}.md", view.id));
        std::fs::write(&path, render_markdown(view))?;
        written.push(path);
    }
    Ok(written)
}

/// Runs `providers` and returns the exit code.
pub fn run(args: &ProvidersArgs) -> u8 {
    let views = views();
    if let Some(dir) = &args.markdown {
        return match write_markdown(dir, &views) {
            Ok(paths) => {
                for path in paths {
                    println!("wrote {}", path.display());
                }
                0
            }
            Err(err) => {
                eprintln!("error: cannot write the provider pages into {}: {err}", dir.display());
                2
            }
        };
    }
    let text = match args.output {
        ProvidersFormat::Table => render_table(&views),
        ProvidersFormat::Json => render_json(views),
    };
    print!("{text}");
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflare_view_marks_secret_fields() {
        let view = view(&acme_token_cloudflare::DESCRIPTOR);
        assert_eq!(view.secret_fields, vec!["apiTokenSecretRef", "apiKeySecretRef"]);
        let markdown = render_markdown(&view);
        assert!(markdown.contains("| `email` | no |"), "{markdown}");
        assert!(markdown.contains("Zone / DNS / Edit"), "{markdown}");
    }

    #[test]
    fn webhook_solver_path_names_solver() {
        assert_eq!(solver_path("webhook/hetzner"), "dns01.webhook (solverName hetzner)");
        assert_eq!(solver_path("route53"), "dns01.route53");
    }
}
