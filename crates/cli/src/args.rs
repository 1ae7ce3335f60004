//! Command-line flags, defined with clap's derive API.
//!
//! Help and usage say `kubectl acme-token`, because the binary is only ever
//! installed under its plugin name `kubectl-acme_token`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Checks the DNS-provider credentials that cert-manager's ACME DNS-01
/// solvers use, by replaying cert-manager's own provider calls.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl acme-token",
    bin_name = "kubectl acme-token",
    version,
    about,
    args_override_self = true,
    after_help = "Exit codes: 0 every check passed or was skipped, 1 a check failed, 2 the run could not complete."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log more to stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check issuers from manifests, or a bare credential with `check <provider>`.
    Check(CheckArgs),
    /// Run `check` on sample manifests against a mock Cloudflare API on
    /// 127.0.0.1 (the acme-token-mock binary): no cluster, no account, no network.
    Demo(DemoArgs),
    /// Find and delete probe records that a killed run left behind.
    Cleanup(crate::cleanup::CleanupArgs),
    /// Keep candidate credentials in the OS keyring (values are never printed).
    Keyring(crate::keyring::KeyringArgs),
    /// List the supported providers, their fields, permissions and endpoints.
    Providers(crate::providers::ProvidersArgs),
    /// Print a shell completion script for kubectl-acme_token.
    Completion(CompletionArgs),
    /// Completion candidates for kubectl's plugin completion (the
    /// kubectl_complete-acme_token shim calls this).
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

/// Flags of `completion`.
#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// Shell to print the script for.
    pub shell: clap_complete::Shell,
}

/// Arguments of the hidden `__complete` command.
#[derive(Debug, Clone, Args)]
pub struct CompleteArgs {
    /// The words typed after `kubectl acme-token`, the last one being completed.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Yaml,
}

/// Verdicts besides FAIL that make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Warning,
    Skip,
}

/// Flags shared by `check` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: OutputFormat,

    /// Also exit with 1 on WARN (warning) or SKIP (skip) verdicts; repeatable or comma-separated.
    #[arg(long = "fail-on", value_enum, value_delimiter = ',')]
    pub fail_on: Vec<FailOnArg>,

    /// Warn when a credential expires within this duration (e.g. 30d, 72h).
    #[arg(long = "expiry-warning", default_value = "30d", value_parser = parse_duration)]
    pub expiry_warning: Duration,
}

/// Flags of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Provider for a bare credential check (e.g. `cloudflare`); needs --credential, and --domain to probe a write.
    pub provider: Option<String>,

    /// Manifest file or directory to read; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "filename")]
    pub filenames: Vec<PathBuf>,

    /// Domain to probe (repeatable); replaces discovery from Certificates and selectors.
    #[arg(long = "domain")]
    pub domains: Vec<String>,

    /// Run the config stage only and contact nothing: a lint for manifests in CI.
    #[arg(long)]
    pub offline: bool,

    /// Credential for a bare check: env:VAR, file:PATH, stdin or keyring:NAME. FIELD=SRC names the cert-manager field.
    #[arg(long = "credential")]
    pub credentials: Vec<String>,

    /// Check this value in place of the selected solvers' in-cluster credential and compare both
    /// (env:VAR, file:PATH, stdin or keyring:NAME; FIELD=SRC names the cert-manager field).
    /// The exit code follows the candidate.
    #[arg(long = "candidate")]
    pub candidates: Vec<String>,

    /// Check only the solvers that read this Secret (NAMESPACE/NAME); from a
    /// cluster, every solver that references it (the post-sync entry point).
    #[arg(long = "secret", value_name = "NAMESPACE/NAME")]
    pub secret: Option<String>,

    /// Cloudflare account e-mail; with --credential, checks a global API key instead of a token.
    #[arg(long)]
    pub email: Option<String>,

    /// Cloudflare account id for account-owned tokens (found from the token's zones when absent).
    #[arg(long = "account-id")]
    pub account_id: Option<String>,

    /// Check only this Issuer: NAME (in the namespace from -n or the manifest) or NAMESPACE/NAME.
    #[arg(long)]
    pub issuer: Option<String>,

    /// Check only this ClusterIssuer.
    #[arg(long = "cluster-issuer")]
    pub cluster_issuer: Option<String>,

    /// Namespace to read Issuers and Certificates from in the cluster, and the
    /// namespace of manifests that set none (default: the kubeconfig context's, else default).
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    /// Namespace from which ClusterIssuer Secrets are read, as cert-manager's
    /// --cluster-resource-namespace (the Helm chart sets the release namespace).
    #[arg(long = "cluster-resource-namespace", default_value = "cert-manager")]
    pub cluster_resource_namespace: String,

    /// Do not create the probe record; infer write permission without side effects where the provider allows.
    #[arg(long = "no-write")]
    pub no_write: bool,

    /// Timeout of one provider request (e.g. 30s, 500ms).
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Checks running at the same time per provider account; accounts run in parallel, each within its request budget.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// Scale each provider's default per-account request budget (0.1 to 1.0).
    #[arg(long = "budget", default_value_t = 1.0, value_parser = parse_budget)]
    pub budget: f64,

    /// Extra PEM CA bundle for TLS interception proxies. HTTPS_PROXY and NO_PROXY are honoured.
    #[arg(long = "ca-file")]
    pub ca_file: Option<PathBuf>,

    #[command(flatten)]
    pub controller: ControllerArgs,

    /// Replace a provider's API base URL, for tests (PROVIDER=URL, repeatable).
    /// ACME_TOKEN_ENDPOINT_<PROVIDER> does the same. The report lists every override in use.
    #[arg(long = "endpoint")]
    pub endpoints: Vec<String>,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// Settings of the cert-manager controller that change what a solver does,
/// which the tool cannot read from the cluster and takes as flags.
#[derive(Debug, Clone, Args)]
pub struct ControllerArgs {
    /// Recursive nameservers (IP:PORT, comma-separated) for the SOA walk of Route53 and other
    /// providers, as cert-manager's flag of the same name; default: the system resolver's.
    #[arg(long = "dns01-recursive-nameservers")]
    pub recursive_nameservers: Option<String>,

    /// Whether ClusterIssuers may use ambient credentials, as cert-manager's flag (its default: true).
    #[arg(long = "cluster-issuer-ambient-credentials", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub cluster_issuer_ambient_credentials: bool,

    /// Whether Issuers may use ambient credentials, as cert-manager's flag (its default: false).
    #[arg(long = "issuer-ambient-credentials", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub issuer_ambient_credentials: bool,

    /// File with a ServiceAccount token for Route53 web identity (auth.kubernetes), which
    /// cert-manager requests from the TokenRequest API.
    #[arg(long = "web-identity-token-file")]
    pub web_identity_token_file: Option<PathBuf>,
}

impl Default for ControllerArgs {
    /// cert-manager's own defaults.
    fn default() -> Self {
        Self {
            recursive_nameservers: None,
            cluster_issuer_ambient_credentials: true,
            issuer_ambient_credentials: false,
            web_identity_token_file: None,
        }
    }
}

/// Flags that choose the cluster and what to read from it.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Read Issuers and Certificates from every namespace (ClusterIssuers are always read).
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,

    /// Path of the kubeconfig file; replaces KUBECONFIG and ~/.kube/config.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context to use instead of the current one.
    #[arg(long)]
    pub context: Option<String>,

    /// With -f, read the Secrets the manifests reference from the cluster.
    #[arg(long = "secrets-from-cluster")]
    pub secrets_from_cluster: bool,

    /// Check the solvers that serve this Certificate's dnsNames (NAMESPACE/NAME).
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub certificate: Option<String>,
}

/// Flags of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub report: ReportArgs,

    /// Inject this latency into every mock request (e.g. 50ms).
    #[arg(long, value_parser = parse_duration)]
    pub latency: Option<Duration>,

    /// Keep the demo manifests in this directory instead of a temporary one.
    #[arg(long = "keep-files")]
    pub keep_files: Option<PathBuf>,
}

/// Parses durations such as `30d`, `72h`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|err| format!("invalid duration '{text}': {err}; use forms like 30s, 500ms, 72h or 30d"))
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_duration(text)?;
    if timeout.is_zero() {
        return Err("a timeout of 0 would fail every request; use a duration such as 30s".to_string());
    }
    Ok(timeout)
}

fn parse_budget(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("invalid budget '{text}': expected a number between 0.1 and 1.0"))?;
    if !(0.1..=1.0).contains(&value) {
        return Err(format!(
            "budget {value} is out of range: use 0.1 to 1.0 of the provider's default budget"
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn fail_on_accepts_list() {
        let cli = Cli::try_parse_from(["k", "check", "-f", "x", "--fail-on", "warning,skip"]).unwrap();
        let Command::Check(args) = cli.command else { panic!("expected check") };
        assert_eq!(args.report.fail_on, vec![FailOnArg::Warning, FailOnArg::Skip]);
    }

    #[test]
    fn duration_rejects_garbage() {
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("5d").unwrap(), Duration::from_secs(5 * 86400));
    }
}
