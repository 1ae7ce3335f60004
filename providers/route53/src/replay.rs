//! Stage-by-stage replay of cert-manager's Route53 solver
//! (`pkg/issuer/acme/dns/route53/{route53.go,session.go}`, v1.21.1).
//!
//! cert-manager builds its session (AssumeRole or AssumeRoleWithWebIdentity
//! with session name `cert-manager` when a role is set), finds the zone with
//! an SOA walk and `ListHostedZonesByName` unless `hostedZoneID` pins it,
//! sends one `ChangeResourceRecordSets` UPSERT of a multivalue TXT record
//! set (TTL 10, SetIdentifier = the quoted value), and polls `GetChange`
//! until `INSYNC`. CleanUp sends the same record set as DELETE and polls
//! again. The replay sends the same requests, plus:
//!
//! - `sts:GetCallerIdentity` for the principal ARN (not needed after an
//!   AssumeRole, whose answer names the session), and once more for the
//!   ambient identity when a role is assumed from ambient credentials;
//! - `GetHostedZone` for a pinned zone, to see whether it is private;
//! - `ListResourceRecordSets` read-backs, which cert-manager never calls:
//!   sent next to `GetChange`, never in its way, and a denial is info only.
//!
//! The probe's record set has its own SetIdentifier, so it never rewrites
//! another record set; the DELETE names exactly the record set the UPSERT
//! wrote, and it runs after errors, timeouts and cancellation.

use crate::client::{self, ApiFailure, FailureKind, Session};
use crate::config::{Mode, SESSION_NAME};
use crate::error::{failure_finding, Call, CallContext, PROVIDER};
use crate::soa::{self, WalkError};
use crate::{Route53Provider, CHALLENGE_RECORD_TTL};
use acme_token_core::probe::PROBE_MARKER;
use acme_token_core::provider::{blocked_finding, ProbeOutcome, RequestBlocked, ZoneOutcome};
use acme_token_core::{Evidence, Finding, ProbeContext, Reason, Stage, StageReport, ZoneRef};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use std::future::Future;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// Attempts per request when throttled or when the connection fails.
const ATTEMPTS: u32 = 3;
/// Wait before the second attempt; it doubles for each later one.
const BACKOFF: Duration = Duration::from_millis(300);
/// cert-manager waits up to 120 s for INSYNC.
const INSYNC_LIMIT: Duration = Duration::from_secs(120);
/// Interval between GetChange polls. cert-manager polls every 4 s; 2 s
/// finishes sooner and still stays far inside the request budget.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Comment of the probe's change batch. cert-manager writes "Managed by
/// cert-manager"; IAM does not look at it.
const CHANGE_COMMENT: &str = "acme-token probe of cert-manager's challenge record";

/// Failure to build a session, as the credential stage reports it.
#[derive(Debug, Clone)]
pub(crate) struct SessionFailure {
    pub finding: Finding,
    /// Facts learned before the failure, such as the ambient identity.
    pub facts: Vec<(String, String)>,
}

/// Outcome of one request sent through the budget.
pub(crate) enum Sent<T> {
    Done(T),
    Failed(ApiFailure),
    /// Not sent: the run was cancelled or the account was rate limited.
    Blocked(RequestBlocked),
}

async fn pause(cx: &ProbeContext, delay: Duration, cleanup: bool) -> bool {
    if cleanup {
        tokio::time::sleep(delay).await;
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => true,
        _ = cx.cancel.cancelled() => false,
    }
}

/// Sends a request built by `make`, retrying throttling and lost
/// connections with backoff. Every attempt takes a token from the budget;
/// throttling that persists marks the account rate limited. A cleanup
/// request ignores cancellation; any other is abandoned on Ctrl-C.
pub(crate) async fn send<T, F, Fut>(cx: &ProbeContext, cleanup: bool, mut make: F) -> Sent<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiFailure>>,
{
    let mut delay = BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let admitted = if cleanup {
            cx.before_cleanup_request().await
        } else {
            cx.before_request().await
        };
        if let Err(blocked) = admitted {
            return Sent::Blocked(blocked);
        }
        let result = if cleanup {
            make().await
        } else {
            tokio::select! {
                biased;
                result = make() => result,
                _ = cx.cancel.cancelled() => return Sent::Blocked(RequestBlocked::Cancelled),
            }
        };
        match result {
            Ok(value) => return Sent::Done(value),
            Err(failure) if failure.is_retryable() && attempt < ATTEMPTS => {
                debug!(provider = PROVIDER, request = %failure.request, code = ?failure.code, attempt, "retrying after backoff");
                if !pause(cx, delay, cleanup).await {
                    return Sent::Blocked(RequestBlocked::Cancelled);
                }
                delay *= 2;
            }
            Err(failure) => {
                if failure.is_throttling() {
                    warn!(provider = PROVIDER, request = %failure.request, "throttled after retries; no further probes on this account");
                    cx.budget.mark_rate_limited(None);
                }
                return Sent::Failed(failure);
            }
        }
    }
    unreachable!("the last attempt always returns")
}

/// Sends a DELETE as a cleanup request, as [`send`] does, and also retries
/// it once after a response that could not be parsed. Repeating a DELETE is
/// safe: if the first one was applied, the second finds the record set gone
/// (InvalidChangeBatch), which counts as deleted.
pub(crate) async fn send_delete<T, F, Fut>(cx: &ProbeContext, mut make: F) -> Sent<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiFailure>>,
{
    match send(cx, true, &mut make).await {
        Sent::Failed(failure) if failure.kind == FailureKind::Malformed => {
            debug!(provider = PROVIDER, request = %failure.request, "retrying a DELETE whose response could not be parsed");
            send(cx, true, make).await
        }
        other => other,
    }
}

fn temporary_key(p: &Route53Provider) -> bool {
    matches!(&p.setup.mode, Mode::Static { access_key_id, .. } if access_key_id.expose().trim().starts_with("ASIA"))
}

pub(crate) fn context<'a>(p: &Route53Provider, call: Call, resource: &'a str) -> CallContext<'a> {
    CallContext {
        call,
        resource,
        temporary_key: temporary_key(p),
        principal: None,
    }
}

pub(crate) fn zone_arn(id: &str) -> String {
    format!("arn:aws:route53:::hostedzone/{id}")
}

pub(crate) const CHANGE_ARN: &str = "arn:aws:route53:::change/*";

// ---------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------

/// Returns the session, building it on first use. Both the credential and
/// the zone stage call this; only the first sends the STS requests.
pub(crate) async fn session<'a>(
    p: &'a Route53Provider,
    cx: &ProbeContext,
) -> Result<&'a Session, &'a SessionFailure> {
    p.session.get_or_init(|| establish(p, cx)).await.as_ref()
}

fn session_failure(finding: Finding) -> SessionFailure {
    SessionFailure {
        finding,
        facts: Vec::new(),
    }
}

fn role_name(arn: &str) -> Option<&str> {
    let resource = arn.rsplit_once(':')?.1;
    let name = resource
        .strip_prefix("role/")
        .or_else(|| resource.strip_prefix("assumed-role/"))?;
    let name = name.split('/').next()?;
    // A role path (role/path/name) keeps only the last segment in the
    // assumed-role ARN, so compare that.
    Some(
        resource
            .strip_prefix("role/")
            .map_or(name, |rest| rest.rsplit('/').next().unwrap_or(name)),
    )
}

async fn establish(p: &Route53Provider, cx: &ProbeContext) -> Result<Session, SessionFailure> {
    let setup = &p.setup;
    let http = client::http_client(&setup.http).map_err(|message| {
        session_failure(
            Finding::error(
                Reason::InvalidConfig,
                Stage::Credential,
                format!("{PROVIDER}: {message}"),
            )
            .with_remedy("pass a readable PEM bundle with --ca-file"),
        )
    })?;
    let sts_endpoint = setup.endpoints.sts.as_deref();
    let region = setup.region.as_str();

    let base = match &setup.mode {
        Mode::Static {
            access_key_id,
            secret_access_key,
            ..
        } => client::static_credentials(access_key_id, secret_access_key, None),
        Mode::Ambient => match client::ambient_credentials(&http, region, sts_endpoint).await {
            Some(provider) => provider,
            None => {
                return Err(session_failure(
                    Finding::error(Reason::AuthInvalid, Stage::Credential, format!("{PROVIDER}: the AWS default credential chain found no credentials on this machine"))
                        .with_remedy("run the check where the controller runs (in-cluster Job), or export AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for the same identity"),
                ))
            }
        },
        Mode::WebIdentity { token, .. } => {
            let role = setup.role.clone().unwrap_or_default();
            let sts = client::sts_client(&http, &setup.http, region, sts_endpoint, None);
            let call = || {
                let request = sts
                    .assume_role_with_web_identity()
                    .role_arn(role.clone())
                    .role_session_name(SESSION_NAME)
                    .web_identity_token(token.expose());
                async move {
                    request
                        .send()
                        .await
                        .map_err(|err| ApiFailure::from_sdk("POST sts / Action=AssumeRoleWithWebIdentity", err))
                }
            };
            return match send(cx, false, call).await {
                Sent::Done(output) => {
                    let (credentials, expires) = sts_credentials(output.credentials());
                    let assumed_arn = output.assumed_role_user().map(|u| u.arn().to_string());
                    Ok(finish_session(p, &http, credentials, assumed_arn, expires))
                }
                Sent::Failed(failure) => Err(session_failure(failure_finding(
                    Stage::Credential,
                    &failure,
                    &context(p, Call::AssumeRoleWithWebIdentity, &role),
                ))),
                Sent::Blocked(blocked) => Err(session_failure(blocked_finding(Stage::Credential, &blocked, PROVIDER))),
            };
        }
    };

    let Some(role) = setup.role.clone() else {
        return Ok(finish_session(p, &http, base, None, None));
    };

    // AssumeRole from the base credentials, as cert-manager does. With
    // ambient credentials, the base identity is learned first, so a role
    // equal to the one the controller already has can be pointed out.
    let base_sts = client::sts_client(&http, &setup.http, region, sts_endpoint, Some(base));
    let mut facts = Vec::new();
    let mut ambient_arn = None;
    if matches!(setup.mode, Mode::Ambient) {
        let call = || {
            let request = base_sts.get_caller_identity();
            async move {
                request
                    .send()
                    .await
                    .map_err(|err| ApiFailure::from_sdk("POST sts / Action=GetCallerIdentity", err))
            }
        };
        match send(cx, false, call).await {
            Sent::Done(output) => {
                if let Some(arn) = output.arn() {
                    facts.push(("ambientPrincipal".to_string(), arn.to_string()));
                    ambient_arn = Some(arn.to_string());
                }
            }
            Sent::Failed(failure) => {
                return Err(session_failure(failure_finding(
                    Stage::Credential,
                    &failure,
                    &context(p, Call::GetCallerIdentity, "*"),
                )))
            }
            Sent::Blocked(blocked) => {
                return Err(session_failure(blocked_finding(
                    Stage::Credential,
                    &blocked,
                    PROVIDER,
                )))
            }
        }
    }

    let call = || {
        let request = base_sts
            .assume_role()
            .role_arn(role.clone())
            .role_session_name(SESSION_NAME);
        async move {
            request
                .send()
                .await
                .map_err(|err| ApiFailure::from_sdk("POST sts / Action=AssumeRole", err))
        }
    };
    match send(cx, false, call).await {
        Sent::Done(output) => {
            let (credentials, expires) = sts_credentials(output.credentials());
            let assumed_arn = output.assumed_role_user().map(|u| u.arn().to_string());
            Ok(finish_session(p, &http, credentials, assumed_arn, expires))
        }
        Sent::Failed(failure) => {
            let mut cx_call = context(p, Call::AssumeRole, &role);
            cx_call.principal = ambient_arn.as_deref();
            let mut finding = failure_finding(Stage::Credential, &failure, &cx_call);
            let same_role = ambient_arn
                .as_deref()
                .filter(|arn| arn.contains(":assumed-role/"))
                .and_then(role_name)
                .zip(role_name(&role))
                .is_some_and(|(ambient, wanted)| ambient == wanted);
            if same_role && finding.reason == Reason::AssumeRoleDenied {
                finding.message.push_str("; the ambient credentials already are this role, so role can be removed from the solver");
                finding.remedy = format!("remove role from the route53 stanza: the controller's ambient identity ({}) is already {role}; a role cannot assume itself unless its trust policy allows it", ambient_arn.clone().unwrap_or_default());
            }
            Err(SessionFailure { finding, facts })
        }
        Sent::Blocked(blocked) => Err(SessionFailure {
            finding: blocked_finding(Stage::Credential, &blocked, PROVIDER),
            facts,
        }),
    }
}

fn sts_credentials(
    credentials: Option<&aws_sdk_sts::types::Credentials>,
) -> (
    aws_credential_types::provider::SharedCredentialsProvider,
    Option<String>,
) {
    let (id, secret, token, expires) = match credentials {
        Some(c) => (
            c.access_key_id().to_string(),
            c.secret_access_key().to_string(),
            Some(c.session_token().to_string()),
            Some(c.expiration().to_string()),
        ),
        None => (String::new(), String::new(), None, None),
    };
    let provider = aws_credential_types::provider::SharedCredentialsProvider::new(
        aws_credential_types::Credentials::new(id, secret, token, None, "acme-token-sts"),
    );
    (provider, expires)
}

fn finish_session(
    p: &Route53Provider,
    http: &aws_smithy_runtime_api::client::http::SharedHttpClient,
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
    assumed_arn: Option<String>,
    expires: Option<String>,
) -> Session {
    let setup = &p.setup;
    Session {
        route53: client::route53_client(
            http,
            &setup.http,
            &setup.region,
            setup.endpoints.route53.as_deref(),
            credentials.clone(),
        ),
        sts: client::sts_client(
            http,
            &setup.http,
            &setup.region,
            setup.endpoints.sts.as_deref(),
            Some(credentials),
        ),
        assumed_arn,
        expires,
    }
}

// ---------------------------------------------------------------------------
// Credential stage
// ---------------------------------------------------------------------------

/// Builds the session and names the principal behind it.
pub(crate) async fn verify_credential(p: &Route53Provider, cx: &ProbeContext) -> StageReport {
    let mut report = StageReport::passed(Stage::Credential);
    report.fact("credentialMode", p.setup.mode.describe());
    report.fact("region", p.setup.region.clone());
    if let Some(role) = &p.setup.role {
        report.fact("role", role.clone());
        report.fact("roleSessionName", SESSION_NAME);
    }
    if let Mode::WebIdentity {
        service_account, ..
    } = &p.setup.mode
    {
        report.fact("serviceAccount", service_account.clone());
    }
    let session = match session(p, cx).await {
        Ok(session) => session,
        Err(failure) => {
            for (key, value) in &failure.facts {
                report.fact(key, value.clone());
            }
            report.push(failure.finding.clone());
            return report;
        }
    };
    if let Some(expires) = &session.expires {
        report.fact("sessionExpires", expires.clone());
    }
    if let Some(arn) = &session.assumed_arn {
        report.fact("principalArn", arn.clone());
        return report;
    }

    let call = || {
        let request = session.sts.get_caller_identity();
        async move {
            request
                .send()
                .await
                .map_err(|err| ApiFailure::from_sdk("POST sts / Action=GetCallerIdentity", err))
        }
    };
    match send(cx, false, call).await {
        Sent::Done(output) => {
            if let Some(arn) = output.arn() {
                report.fact("principalArn", arn);
            }
            if let Some(account) = output.account() {
                report.fact("account", account);
            }
        }
        Sent::Failed(failure) => report.push(failure_finding(
            Stage::Credential,
            &failure,
            &context(p, Call::GetCallerIdentity, "*"),
        )),
        Sent::Blocked(blocked) => {
            report.push(blocked_finding(Stage::Credential, &blocked, PROVIDER))
        }
    }
    report
}

// ---------------------------------------------------------------------------
// Zone stage
// ---------------------------------------------------------------------------

/// A hosted zone as the API listed it.
#[derive(Debug, Clone)]
struct HostedZone {
    id: String,
    /// Lower case, with trailing dot.
    name: String,
    private: bool,
}

fn hosted_zone(zone: &aws_sdk_route53::types::HostedZone) -> HostedZone {
    HostedZone {
        id: client::bare_id(zone.id()).to_string(),
        name: normalize(zone.name()),
        private: zone.config().is_some_and(|c| c.private_zone()),
    }
}

pub(crate) fn normalize(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// cert-manager's `FindBestMatch`: an exact match, else the longest zone
/// name that is a label suffix of the fqdn.
fn best_match<'z>(fqdn: &str, zones: &'z [HostedZone]) -> Option<&'z str> {
    let fqdn = normalize(fqdn);
    zones
        .iter()
        .map(|z| z.name.as_str())
        .filter(|name| fqdn == *name || fqdn.ends_with(&format!(".{name}")))
        .max_by_key(|name| name.len())
}

/// Finds the hosted zone for `fqdn` as cert-manager does.
pub(crate) async fn find_zone(
    p: &Route53Provider,
    cx: &ProbeContext,
    fqdn: Option<&str>,
) -> ZoneOutcome {
    let mut report = StageReport::passed(Stage::Zone);
    let session = match session(p, cx).await {
        Ok(session) => session,
        Err(_) => {
            return ZoneOutcome {
                report: StageReport::skipped(
                    Stage::Zone,
                    "no AWS session could be built; the credential stage says why",
                ),
                zone: None,
            }
        }
    };
    if let Some(id) = p.setup.hosted_zone_id.clone() {
        let zone = pinned_zone(p, cx, session, &id, fqdn, &mut report).await;
        return ZoneOutcome { report, zone };
    }
    let Some(fqdn) = fqdn else {
        prove_zone_read(p, cx, session, &mut report).await;
        return ZoneOutcome { report, zone: None };
    };

    // 1. The SOA walk over DNS.
    let servers = if p.setup.nameservers.is_empty() {
        match soa::system_nameservers() {
            Ok(servers) => servers,
            Err(error) => {
                report.push(walk_finding(&error, fqdn, &[]));
                return ZoneOutcome { report, zone: None };
            }
        }
    } else {
        p.setup.nameservers.clone()
    };
    let listed: Vec<String> = servers.iter().map(ToString::to_string).collect();
    report.fact("nameservers", listed.join(", "));
    let auth_zone = match soa::find_zone(fqdn, &servers, p.setup.http.timeout).await {
        Ok((zone, server)) => {
            report.fact("soaZone", zone.clone());
            report.fact("soaAnsweredBy", server.to_string());
            zone
        }
        Err(error) => {
            report.push(walk_finding(&error, fqdn, &listed));
            return ZoneOutcome { report, zone: None };
        }
    };

    // 2. ListHostedZonesByName, first page, as cert-manager sends it.
    let dns_name = auth_zone.trim_end_matches('.').to_string();
    let call = || {
        let request = session
            .route53
            .list_hosted_zones_by_name()
            .dns_name(dns_name.clone());
        let path = format!("GET /2013-04-01/hostedzonesbyname?dnsname={dns_name}");
        async move {
            request
                .send()
                .await
                .map_err(|err| ApiFailure::from_sdk(path, err))
        }
    };
    let zones: Vec<HostedZone> = match send(cx, false, call).await {
        Sent::Done(output) => output.hosted_zones().iter().map(hosted_zone).collect(),
        Sent::Failed(failure) => {
            let mut finding = failure_finding(
                Stage::Zone,
                &failure,
                &context(p, Call::ListHostedZonesByName, "*"),
            );
            if finding.reason == Reason::PermissionMissing {
                finding.remedy.push_str(
                    ", or set hostedZoneID in the route53 stanza so cert-manager skips the lookup",
                );
            }
            report.push(finding);
            return ZoneOutcome { report, zone: None };
        }
        Sent::Blocked(blocked) => {
            report.push(blocked_finding(Stage::Zone, &blocked, PROVIDER));
            return ZoneOutcome { report, zone: None };
        }
    };
    let zone = choose_zone(fqdn, &zones, &mut report);
    ZoneOutcome { report, zone }
}

/// Applies cert-manager's choice (private zones dropped, best match) and
/// reports what it would silently get wrong.
fn choose_zone(fqdn: &str, zones: &[HostedZone], report: &mut StageReport) -> Option<ZoneRef> {
    let public: Vec<HostedZone> = zones.iter().filter(|z| !z.private).cloned().collect();
    let Some(name) = best_match(fqdn, &public).map(str::to_string) else {
        if let Some(private) = best_match(fqdn, zones) {
            let ids: Vec<&str> = zones
                .iter()
                .filter(|z| z.name == private)
                .map(|z| z.id.as_str())
                .collect();
            report.push(
                Finding::error(
                    Reason::ZonePrivate,
                    Stage::Zone,
                    format!("{PROVIDER}: the only hosted zone for {fqdn} is the private zone {private} ({}); cert-manager drops private zones and fails with \"zone  not found in Route 53 for domain {fqdn}.\"", ids.join(", ")),
                )
                .with_remedy(format!("create a public hosted zone {private} delegated from the parent, or set hostedZoneID to a public zone's id")),
            );
        } else {
            let seen: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
            report.push(
                Finding::error(
                    Reason::ZoneNotVisible,
                    Stage::Zone,
                    format!("{PROVIDER}: no public hosted zone of this account matches {fqdn}; cert-manager fails with \"zone  not found in Route 53 for domain {fqdn}.\" (zones listed from that name on: {})", if seen.is_empty() { "none".to_string() } else { seen.join(", ") }),
                )
                .with_remedy("use credentials of the AWS account that owns the public hosted zone, or set hostedZoneID"),
            );
        }
        return None;
    };
    let matching: Vec<&HostedZone> = public.iter().filter(|z| z.name == name).collect();
    let chosen = matching[0].clone();
    if matching.len() > 1 {
        let ids: Vec<&str> = matching.iter().map(|z| z.id.as_str()).collect();
        report.push(
            Finding::warning(
                Reason::ZoneAmbiguous,
                Stage::Zone,
                format!("{PROVIDER}: {} public hosted zones are named {name} ({}); cert-manager takes the first one the API lists, {}, which may not be the delegated one", matching.len(), ids.join(", "), chosen.id),
            )
            .with_remedy("set hostedZoneID to the zone whose NS records the parent zone delegates to, or delete the unused zone"),
        );
    }
    let private: Vec<&str> = zones
        .iter()
        .filter(|z| z.private && z.name == name)
        .map(|z| z.id.as_str())
        .collect();
    if !private.is_empty() {
        report.push(
            Finding::warning(
                Reason::ZoneAmbiguous,
                Stage::Zone,
                format!("{PROVIDER}: {name} exists as a public zone ({}) and as private zone(s) {}; cert-manager drops the private ones and writes to the public zone", chosen.id, private.join(", ")),
            )
            .with_remedy(format!("pin the public zone with hostedZoneID: {} to make the choice explicit", chosen.id)),
        );
    }
    report.fact("zoneId", chosen.id.clone());
    report.fact("zoneName", chosen.name.clone());
    Some(ZoneRef {
        id: chosen.id,
        name: chosen.name.trim_end_matches('.').to_string(),
    })
}

fn walk_finding(error: &WalkError, fqdn: &str, servers: &[String]) -> Finding {
    let list = format!("[{}]", servers.join(" "));
    match error {
        WalkError::NoNameservers(message) => Finding::error(Reason::InvalidConfig, Stage::Zone, format!("{PROVIDER}: no recursive nameserver for the SOA walk: {message}"))
            .with_remedy("pass --dns01-recursive-nameservers with the servers cert-manager uses (its --dns01-recursive-nameservers flag)"),
        WalkError::NotFound => Finding::error(
            Reason::ZoneNotVisible,
            Stage::Zone,
            format!("{PROVIDER}: Could not find the SOA record in the DNS tree for the domain '{fqdn}.' using nameservers {list}"),
        )
        .with_remedy("delegate the zone from its parent (NS records) so public resolvers find its SOA, or set hostedZoneID"),
        WalkError::Rcode { domain, rcode } => Finding::error(
            Reason::ZoneNotVisible,
            Stage::Zone,
            format!("{PROVIDER}: When querying the SOA record for the domain '{domain}' using nameservers {list}, rcode was expected to be 'NOERROR' or 'NXDOMAIN', but got '{rcode}'"),
        )
        .with_remedy("fix the zone's delegation or pass working --dns01-recursive-nameservers"),
        WalkError::Unreachable(message) => Finding::error(
            Reason::ProviderUnavailable,
            Stage::Zone,
            format!("{PROVIDER}: no recursive nameserver answered the SOA walk for {fqdn}: {message}"),
        )
        .with_remedy("check --dns01-recursive-nameservers and network access to those servers"),
    }
}

/// Reads a pinned zone with GetHostedZone, which cert-manager never calls:
/// it is how a private or out-of-tree pinned zone is found before the write.
async fn pinned_zone(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    id: &str,
    fqdn: Option<&str>,
    report: &mut StageReport,
) -> Option<ZoneRef> {
    report.fact("zoneId", id);
    report.fact(
        "pinnedBy",
        "hostedZoneID (cert-manager skips the SOA walk and ListHostedZonesByName)",
    );
    let call = || {
        let request = session.route53.get_hosted_zone().id(id);
        let path = format!("GET /2013-04-01/hostedzone/{id}");
        async move {
            request
                .send()
                .await
                .map_err(|err| ApiFailure::from_sdk(path, err))
        }
    };
    let arn = zone_arn(id);
    match send(cx, false, call).await {
        Sent::Done(output) => {
            let Some(zone) = output.hosted_zone().map(hosted_zone) else {
                return Some(ZoneRef {
                    id: id.to_string(),
                    name: String::new(),
                });
            };
            report.fact("zoneName", zone.name.clone());
            if zone.private {
                report.push(
                    Finding::error(
                        Reason::ZonePrivate,
                        Stage::Zone,
                        format!("{PROVIDER}: hostedZoneID {id} is the private hosted zone {}; cert-manager writes the challenge there, where public resolvers and the ACME server never see it", zone.name),
                    )
                    .with_remedy(format!("set hostedZoneID to the public hosted zone of {} (aws route53 list-hosted-zones-by-name --dns-name {})", zone.name, zone.name.trim_end_matches('.'))),
                );
                // A write there proves nothing about issuance, so none is sent.
                return None;
            }
            if let Some(fqdn) = fqdn {
                if best_match(fqdn, std::slice::from_ref(&zone)).is_none() {
                    report.push(
                        Finding::error(
                            Reason::ZoneMismatch,
                            Stage::Zone,
                            format!("{PROVIDER}: hostedZoneID {id} is zone {}, which does not contain {fqdn}; Route53 rejects the change with \"RRSet with DNS name {fqdn}. is not permitted in zone {}\"", zone.name, zone.name),
                        )
                        .with_remedy("set hostedZoneID to the zone that contains the challenge name (with cnameStrategy Follow, the CNAME target's zone)"),
                    );
                }
            }
            Some(ZoneRef {
                id: id.to_string(),
                name: zone.name.trim_end_matches('.').to_string(),
            })
        }
        Sent::Failed(failure) if failure.is_code("AccessDenied") => {
            report.push(Finding::info(
                Reason::Notice,
                Stage::Zone,
                format!("{PROVIDER}: route53:GetHostedZone on {arn} is denied, so whether the pinned zone is private is not checked; cert-manager itself does not need this permission"),
            ));
            Some(ZoneRef {
                id: id.to_string(),
                name: String::new(),
            })
        }
        Sent::Failed(failure) => {
            report.push(failure_finding(
                Stage::Zone,
                &failure,
                &context(p, Call::GetHostedZone, &arn),
            ));
            None
        }
        Sent::Blocked(blocked) => {
            report.push(blocked_finding(Stage::Zone, &blocked, PROVIDER));
            None
        }
    }
}

/// Without a domain: one ListHostedZonesByName page shows the credential
/// can look zones up.
async fn prove_zone_read(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    report: &mut StageReport,
) {
    let call = || {
        let request = session.route53.list_hosted_zones_by_name().max_items(5);
        async move {
            request.send().await.map_err(|err| {
                ApiFailure::from_sdk("GET /2013-04-01/hostedzonesbyname?maxitems=5", err)
            })
        }
    };
    match send(cx, false, call).await {
        Sent::Done(output) => {
            let names: Vec<String> = output
                .hosted_zones()
                .iter()
                .map(|z| hosted_zone(z).name)
                .collect();
            report.fact("zonesSeen", names.join(", "));
            report.note =
                Some("no domain to probe: only ListHostedZonesByName was checked".to_string());
        }
        Sent::Failed(failure) => report.push(failure_finding(
            Stage::Zone,
            &failure,
            &context(p, Call::ListHostedZonesByName, "*"),
        )),
        Sent::Blocked(blocked) => report.push(blocked_finding(Stage::Zone, &blocked, PROVIDER)),
    }
}

// ---------------------------------------------------------------------------
// Write and cleanup stages
// ---------------------------------------------------------------------------

/// Builds the record set cert-manager writes for `value`: TXT, TTL 10,
/// MultiValueAnswer, SetIdentifier and value both the quoted value.
fn challenge_record_set(fqdn: &str, value: &str) -> ResourceRecordSet {
    let quoted = format!("\"{value}\"");
    ResourceRecordSet::builder()
        .name(format!("{}.", fqdn.trim_end_matches('.')))
        .r#type(RrType::Txt)
        .ttl(CHALLENGE_RECORD_TTL)
        .multi_value_answer(true)
        .set_identifier(quoted.clone())
        .resource_records(
            ResourceRecord::builder()
                .value(quoted)
                .build()
                .expect("value is set"),
        )
        .build()
        .expect("name and type are set")
}

fn change_batch(action: ChangeAction, fqdn: &str, value: &str) -> ChangeBatch {
    ChangeBatch::builder()
        .comment(CHANGE_COMMENT)
        .changes(
            Change::builder()
                .action(action)
                .resource_record_set(challenge_record_set(fqdn, value))
                .build()
                .expect("action and record set are set"),
        )
        .build()
        .expect("changes are set")
}

async fn change(
    session: &Session,
    zone_id: &str,
    action: ChangeAction,
    fqdn: &str,
    value: &str,
) -> Result<String, ApiFailure> {
    let path = format!(
        "POST /2013-04-01/hostedzone/{zone_id}/rrset/ ({})",
        action.as_str()
    );
    session
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(change_batch(action, fqdn, value))
        .send()
        .await
        .map(|output| {
            output
                .change_info()
                .map(|info| client::bare_id(info.id()).to_string())
                .unwrap_or_default()
        })
        .map_err(|err| ApiFailure::from_sdk(path, err))
}

/// Outcome of the UPSERT.
enum Created {
    /// Nothing was created: the request was not sent or was rejected.
    Nothing,
    /// The change was accepted with this change id.
    Change(String),
    /// No success response arrived (timeout, reset, 5xx, cancellation), so
    /// the record set may or may not exist.
    Unknown,
}

/// Writes the probe record set, waits for INSYNC, deletes it and waits
/// again. With `cx.no_write`, infers write permission instead.
pub(crate) async fn probe_write(
    p: &Route53Provider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
) -> ProbeOutcome {
    let mut write = StageReport::passed(Stage::Write);
    let mut cleanup = StageReport::passed(Stage::Cleanup);
    write.fact("recordName", format!("{fqdn}."));
    write.fact("zoneId", zone.id.clone());
    let session = match session(p, cx).await {
        Ok(session) => session,
        Err(_) => {
            write = StageReport::skipped(Stage::Write, "no AWS session could be built");
            return nothing_created(write, cleanup);
        }
    };
    if cx.no_write {
        return infer_write(p, cx, session, zone, fqdn, value, write, cleanup).await;
    }

    // 1. The UPSERT cert-manager sends.
    write.fact("ttl", CHALLENGE_RECORD_TTL.to_string());
    write.fact(
        "setIdentifier",
        "the quoted probe value (multivalue answer)",
    );
    let created = upsert(p, cx, session, zone, fqdn, value, &mut write).await;
    if cx.cancel.is_cancelled() {
        write.push(blocked_finding(
            Stage::Write,
            &RequestBlocked::Cancelled,
            PROVIDER,
        ));
    }
    let cleanup_started = Instant::now();
    if matches!(created, Created::Change(_)) {
        write.fact(acme_token_core::provider::FACT_PROBE_CREATED, "true");
    }
    match &created {
        Created::Nothing => return nothing_created(write, cleanup),
        Created::Change(change_id) if !cx.cancel.is_cancelled() => {
            write.fact("changeId", change_id.clone());
            // 2. GetChange until INSYNC, with the read-back next to it.
            let (insync, read) = tokio::join!(
                wait_insync(p, cx, session, change_id, Stage::Write, false),
                read_back(p, cx, session, zone, fqdn, value),
            );
            apply_wait(&mut write, insync, "changeStatus");
            apply_read(&mut write, read, true);
        }
        _ => {}
    }

    // 3. The DELETE of exactly that record set, and its GetChange.
    delete_probe(
        p,
        cx,
        session,
        zone,
        fqdn,
        value,
        &created,
        &mut write,
        &mut cleanup,
    )
    .await;
    cleanup.duration_ms = cleanup_started.elapsed().as_millis() as u64;
    ProbeOutcome { write, cleanup }
}

fn nothing_created(write: StageReport, mut cleanup: StageReport) -> ProbeOutcome {
    cleanup.note = Some("nothing was created, so nothing was left".to_string());
    cleanup.fact("leftover", "none");
    ProbeOutcome { write, cleanup }
}

async fn upsert(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    write: &mut StageReport,
) -> Created {
    // Nothing is created once the run is cancelled. An UPSERT already sent
    // is not abandoned on Ctrl-C: it gets `cx.cleanup_grace` to complete,
    // and the DELETE that follows runs in any case.
    if cx.cancel.is_cancelled() {
        return Created::Nothing;
    }
    let request = || {
        let upsert = change(session, &zone.id, ChangeAction::Upsert, fqdn, value);
        async move {
            tokio::pin!(upsert);
            tokio::select! {
                biased;
                result = &mut upsert => result,
                _ = cx.cancel.cancelled() => match tokio::time::timeout(cx.cleanup_grace, &mut upsert).await {
                    Ok(result) => result,
                    Err(_) => Err(ApiFailure::interrupted("POST /2013-04-01/hostedzone/{id}/rrset/ (UPSERT)")),
                },
            }
        }
    };
    let arn = zone_arn(&zone.id);
    match send(cx, true, request).await {
        Sent::Done(change_id) => Created::Change(change_id),
        Sent::Blocked(blocked) => {
            if blocked != RequestBlocked::Cancelled {
                write.push(blocked_finding(Stage::Write, &blocked, PROVIDER));
            }
            Created::Nothing
        }
        Sent::Failed(failure) if failure.is_code("InvalidChangeBatch") => {
            let message = if failure.message.contains("non multivalue")
                || failure.message.contains("non-multivalue")
            {
                format!("{PROVIDER}: {fqdn} already has a simple-routing TXT record set, and Route53 rejects cert-manager's multivalue challenge record next to it (InvalidChangeBatch); the existing record set was left untouched")
            } else {
                format!("{PROVIDER}: Route53 rejected the challenge change for {fqdn} (InvalidChangeBatch): {}", failure.message)
            };
            write.push(
                Finding::error(Reason::RecordConflict, Stage::Write, message)
                    .with_remedy(format!("delete or convert the existing TXT record set at {fqdn} to a multivalue answer record set with its own SetIdentifier; cert-manager fails on it the same way"))
                    .with_evidence(Evidence {
                        request: Some(failure.request.clone()),
                        http_status: failure.status,
                        provider_code: failure.code.clone(),
                        provider_message: Some(failure.message.clone()),
                    }),
            );
            Created::Nothing
        }
        Sent::Failed(failure) => {
            if failure.kind != FailureKind::Interrupted {
                write.push(failure_finding(
                    Stage::Write,
                    &failure,
                    &context(p, Call::ChangeResourceRecordSets, &arn),
                ));
            }
            if failure.may_have_taken_effect() {
                Created::Unknown
            } else {
                Created::Nothing
            }
        }
    }
}

/// Result of waiting for INSYNC.
pub(crate) enum Wait {
    InSync(Duration),
    /// Still PENDING when the wait ended (time limit or cancellation).
    Pending,
    Failed(Finding),
}

pub(crate) async fn wait_insync(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    change_id: &str,
    stage: Stage,
    cleanup: bool,
) -> Wait {
    let started = Instant::now();
    let limit = if cleanup && cx.cancel.is_cancelled() {
        cx.cleanup_grace
    } else {
        INSYNC_LIMIT
    };
    loop {
        let call = || {
            let request = session.route53.get_change().id(change_id);
            let path = format!("GET /2013-04-01/change/{change_id}");
            async move {
                request
                    .send()
                    .await
                    .map_err(|err| ApiFailure::from_sdk(path, err))
            }
        };
        match send(cx, cleanup, call).await {
            Sent::Done(output) => {
                if output
                    .change_info()
                    .is_some_and(|info| *info.status() == ChangeStatus::Insync)
                {
                    return Wait::InSync(started.elapsed());
                }
            }
            Sent::Failed(failure) => {
                return Wait::Failed(failure_finding(
                    stage,
                    &failure,
                    &context(p, Call::GetChange, CHANGE_ARN),
                ));
            }
            Sent::Blocked(RequestBlocked::Cancelled) => return Wait::Pending,
            Sent::Blocked(blocked) => {
                return Wait::Failed(blocked_finding(stage, &blocked, PROVIDER))
            }
        }
        if started.elapsed() + POLL_INTERVAL > limit || !pause(cx, POLL_INTERVAL, cleanup).await {
            return Wait::Pending;
        }
    }
}

fn apply_wait(report: &mut StageReport, wait: Wait, fact: &str) {
    match wait {
        Wait::InSync(elapsed) => {
            report.fact(fact, format!("INSYNC after {} ms", elapsed.as_millis()));
        }
        Wait::Pending => {
            report.fact(fact, "PENDING when the wait ended");
            report.push(Finding::warning(
                Reason::Notice,
                report.stage,
                format!("{PROVIDER}: the change was still PENDING when the wait ended; cert-manager waits up to 120 s and fails with \"Time limit exceeded\" after that"),
            ));
        }
        Wait::Failed(finding) => report.push(finding),
    }
}

/// Result of the extra ListResourceRecordSets read.
enum Read {
    /// The probe's record set is there (`true`) or not; `others` counts the
    /// other TXT record sets at the name.
    Seen {
        probe: bool,
        others: usize,
        leftovers: usize,
    },
    Denied,
    Failed(ApiFailure),
    Skipped,
}

/// Lists the TXT record sets at the name, a call cert-manager never makes.
async fn read_back(
    _p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
) -> Read {
    let name = format!("{}.", fqdn.trim_end_matches('.'));
    let call = || {
        let request = session
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .start_record_name(name.clone())
            .start_record_type(RrType::Txt)
            .max_items(100);
        let path = format!(
            "GET /2013-04-01/hostedzone/{}/rrset?name={name}&type=TXT",
            zone.id
        );
        async move {
            request
                .send()
                .await
                .map_err(|err| ApiFailure::from_sdk(path, err))
        }
    };
    let quoted = format!("\"{value}\"");
    match send(cx, true, call).await {
        Sent::Done(output) => {
            let at_name: Vec<&ResourceRecordSet> = output
                .resource_record_sets()
                .iter()
                .filter(|set| {
                    normalize(set.name()) == normalize(&name) && *set.r#type() == RrType::Txt
                })
                .collect();
            let is_probe = |set: &&ResourceRecordSet| {
                set.set_identifier() == Some(quoted.as_str())
                    && set.resource_records().iter().any(|r| r.value() == quoted)
            };
            let probe = at_name.iter().any(is_probe);
            let others: Vec<&&ResourceRecordSet> =
                at_name.iter().filter(|s| !is_probe(s)).collect();
            let leftovers = others
                .iter()
                .filter(|s| {
                    s.resource_records()
                        .iter()
                        .any(|r| r.value().trim_matches('"').starts_with(PROBE_MARKER))
                })
                .count();
            Read::Seen {
                probe,
                others: others.len(),
                leftovers,
            }
        }
        Sent::Failed(failure) if failure.is_code("AccessDenied") => Read::Denied,
        Sent::Failed(failure) => Read::Failed(failure),
        Sent::Blocked(_) => Read::Skipped,
    }
}

fn apply_read(report: &mut StageReport, read: Read, expect_probe: bool) {
    match read {
        Read::Seen { probe, others, leftovers } => {
            report.fact("otherTxtRecordSets", format!("{others} (left untouched)"));
            let fact = if expect_probe { "readBack" } else { "confirmRead" };
            let text = match (expect_probe, probe) {
                (true, true) => "ListResourceRecordSets shows the probe record set",
                (true, false) => "ListResourceRecordSets does not show the probe record set yet",
                (false, false) => "ListResourceRecordSets no longer shows the probe record set",
                (false, true) => "ListResourceRecordSets still shows the probe record set",
            };
            report.fact(fact, text);
            if leftovers > 0 {
                report.push(
                    Finding::info(
                        Reason::Notice,
                        report.stage,
                        format!("{PROVIDER}: {leftovers} probe record set(s) from an earlier run are still at this name"),
                    )
                    .with_remedy("run `kubectl acme-token cleanup` to delete them"),
                );
            }
        }
        Read::Denied => report.push(Finding::info(
            Reason::Notice,
            report.stage,
            format!("{PROVIDER}: route53:ListResourceRecordSets is denied, so the record set was not read back; cert-manager never calls it, and INSYNC from GetChange is the confirmation"),
        )),
        Read::Failed(failure) => report.push(Finding::info(
            Reason::Notice,
            report.stage,
            format!("{PROVIDER}: the extra ListResourceRecordSets read failed ({}); INSYNC from GetChange is the confirmation", failure.code.as_deref().unwrap_or(&failure.message)),
        )),
        Read::Skipped => {}
    }
}

#[allow(clippy::too_many_arguments)]
async fn delete_probe(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    created: &Created,
    write: &mut StageReport,
    cleanup: &mut StageReport,
) {
    let arn = zone_arn(&zone.id);
    let leftover_remedy = format!(
        "run `kubectl acme-token cleanup`, or delete the TXT record set {fqdn}. with SetIdentifier \"{value}\" from hosted zone {} (aws route53 change-resource-record-sets with a DELETE of that record set)",
        zone.id
    );
    let call = || change(session, &zone.id, ChangeAction::Delete, fqdn, value);
    match send_delete(cx, call).await {
        Sent::Done(change_id) => {
            cleanup.fact("deleteChangeId", change_id.clone());
            let (insync, read) = tokio::join!(
                wait_insync(p, cx, session, &change_id, Stage::Cleanup, true),
                async {
                    if cx.cancel.is_cancelled() {
                        Read::Skipped
                    } else {
                        read_back(p, cx, session, zone, fqdn, value).await
                    }
                },
            );
            match insync {
                Wait::InSync(elapsed) => {
                    cleanup.fact(
                        "deleteStatus",
                        format!("INSYNC after {} ms", elapsed.as_millis()),
                    );
                    cleanup.fact("confirmedBy", "GetChange answered INSYNC for the DELETE");
                }
                Wait::Pending => {
                    cleanup.fact("deleteStatus", "PENDING when the wait ended");
                    cleanup.fact("confirmedBy", "Route53 accepted the DELETE; it removes the record set from the zone when the change is applied");
                }
                Wait::Failed(finding) => {
                    cleanup.fact(
                        "confirmedBy",
                        "Route53 accepted the DELETE (GetChange could not confirm it)",
                    );
                    if finding.reason != Reason::PermissionMissing {
                        cleanup.push(Finding {
                            severity: acme_token_core::Severity::Warning,
                            ..finding
                        });
                    }
                }
            }
            if let Read::Seen { probe: true, .. } = read {
                cleanup.push(
                    Finding::error(Reason::ProbeLeftover, Stage::Cleanup, format!("{PROVIDER}: the probe record set is still listed at {fqdn} after its DELETE was accepted"))
                        .with_remedy(leftover_remedy.clone()),
                );
            } else {
                apply_read(cleanup, read, false);
                cleanup.fact("leftover", "none");
            }
        }
        Sent::Failed(failure) if failure.is_code("InvalidChangeBatch") => {
            // cert-manager treats InvalidChangeBatch on DELETE as already
            // deleted: the record set does not exist with these values.
            cleanup.fact("leftover", "none");
            let note = match created {
                Created::Unknown => "the UPSERT got no answer and the DELETE found no such record set, so nothing was created",
                _ => "the DELETE found no such record set (InvalidChangeBatch), so it is gone",
            };
            cleanup.fact("confirmedBy", note);
        }
        Sent::Failed(failure) => {
            if failure.is_code("AccessDenied") {
                write.push(failure_finding(
                    Stage::Write,
                    &failure,
                    &context(p, Call::ChangeResourceRecordSets, &arn),
                ));
            }
            cleanup.push(
                Finding::error(
                    Reason::ProbeLeftover,
                    Stage::Cleanup,
                    format!("{PROVIDER}: the DELETE of the probe record set {fqdn} failed ({}), so it may still be in zone {}", failure.code.clone().unwrap_or_else(|| failure.message.clone()), zone.id),
                )
                .with_remedy(leftover_remedy)
                .with_evidence(Evidence {
                    request: Some(failure.request.clone()),
                    http_status: failure.status,
                    provider_code: failure.code.clone(),
                    provider_message: Some(failure.message.clone()),
                }),
            );
        }
        Sent::Blocked(blocked) => {
            cleanup.push(
                Finding {
                    reason: Reason::ProbeLeftover,
                    ..blocked_finding(Stage::Cleanup, &blocked, PROVIDER)
                }
                .with_remedy(leftover_remedy),
            );
        }
    }
}

/// `--no-write`: a DELETE of a record set that does not exist. Route53
/// checks IAM before the batch, so `InvalidChangeBatch` (not found) means
/// ChangeResourceRecordSets is allowed and `AccessDenied` means it is not.
#[allow(clippy::too_many_arguments)]
async fn infer_write(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    mut write: StageReport,
    mut cleanup: StageReport,
) -> ProbeOutcome {
    write.inferred = true;
    cleanup.inferred = true;
    let call = || change(session, &zone.id, ChangeAction::Delete, fqdn, value);
    match send(cx, false, call).await {
        Sent::Failed(failure) if failure.is_code("InvalidChangeBatch") => {
            write.fact("inferredFrom", "a DELETE of a record set that does not exist was refused as not found (InvalidChangeBatch), not as forbidden");
        }
        Sent::Done(_) => write.fact(
            "inferredFrom",
            "a DELETE of the probe record set was accepted",
        ),
        Sent::Failed(failure) => write.push(failure_finding(
            Stage::Write,
            &failure,
            &context(p, Call::ChangeResourceRecordSets, &zone_arn(&zone.id)),
        )),
        Sent::Blocked(blocked) => write.push(blocked_finding(Stage::Write, &blocked, PROVIDER)),
    }
    write.note = Some("--no-write: route53:GetChange is not checked without a change".to_string());
    cleanup.note = Some("--no-write: nothing was created".to_string());
    cleanup.fact("leftover", "none");
    ProbeOutcome { write, cleanup }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: &str, name: &str, private: bool) -> HostedZone {
        HostedZone {
            id: id.into(),
            name: name.into(),
            private,
        }
    }

    #[test]
    fn best_match_prefers_longest_suffix() {
        let zones = [
            zone("Z1", "example.com.", false),
            zone("Z2", "www.example.com.", false),
            zone("Z3", "xample.com.", false),
        ];
        assert_eq!(
            best_match("_acme-challenge.www.example.com", &zones),
            Some("www.example.com.")
        );
        assert_eq!(
            best_match("_acme-challenge.example.com", &zones),
            Some("example.com.")
        );
        assert_eq!(best_match("_acme-challenge.example.org", &zones), None);
    }

    #[test]
    fn private_only_zone_is_reported() {
        let mut report = StageReport::passed(Stage::Zone);
        let zones = [zone("Z9", "example.com.", true)];
        assert!(choose_zone("_acme-challenge.example.com", &zones, &mut report).is_none());
        assert_eq!(report.findings[0].reason, Reason::ZonePrivate);
    }

    #[test]
    fn role_names_compare() {
        assert_eq!(role_name("arn:aws:iam::123456789012:role/dns"), Some("dns"));
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/team/dns"),
            Some("dns")
        );
        assert_eq!(
            role_name("arn:aws:sts::123456789012:assumed-role/dns/session"),
            Some("dns")
        );
    }

    #[test]
    fn record_set_matches_cert_manager() {
        let set = challenge_record_set("_acme-challenge.example.com", "abc");
        assert_eq!(set.name(), "_acme-challenge.example.com.");
        assert_eq!(set.ttl(), Some(10));
        assert_eq!(set.multi_value_answer(), Some(true));
        assert_eq!(set.set_identifier(), Some("\"abc\""));
        assert_eq!(set.resource_records()[0].value(), "\"abc\"");
    }
}
