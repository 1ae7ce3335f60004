//! Zone discovery by SOA walk, as cert-manager's `FindZoneByFqdn` does it
//! before `ListHostedZonesByName`.
//!
//! For each label suffix of the fqdn, starting with the full name, an SOA
//! query with RD=1 goes to the recursive nameservers. NXDOMAIN, a CNAME in
//! the answer, or NOERROR without an SOA (NODATA) moves one label up; an SOA
//! in the answer names the zone; any other rcode is an error. cert-manager's
//! master branch runs the whole walk per nameserver, in order, and this walk
//! does the same: a server that does not answer passes the walk to the next.

use hickory_resolver::config::{
    NameServerConfig, NameServerConfigGroup, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{Name, Resolver};
use std::net::SocketAddr;
use std::time::Duration;
use tracing::debug;

/// Reason the walk found no zone.
#[derive(Debug, Clone)]
pub(crate) enum WalkError {
    /// No nameserver is configured and the system has none.
    NoNameservers(String),
    /// Every label was tried without an SOA in an answer.
    NotFound,
    /// A nameserver answered with an rcode other than NOERROR or NXDOMAIN.
    Rcode { domain: String, rcode: String },
    /// No nameserver answered.
    Unreachable(String),
}

/// Returns the nameservers of the system resolver configuration.
pub(crate) fn system_nameservers() -> Result<Vec<SocketAddr>, WalkError> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf().map_err(|err| {
        WalkError::NoNameservers(format!(
            "cannot read the system resolver configuration: {err}"
        ))
    })?;
    let mut servers: Vec<SocketAddr> = Vec::new();
    for server in config.name_servers() {
        if !servers.contains(&server.socket_addr) {
            servers.push(server.socket_addr);
        }
    }
    if servers.is_empty() {
        return Err(WalkError::NoNameservers(
            "the system resolver configuration lists no nameserver".to_string(),
        ));
    }
    Ok(servers)
}

fn resolver_for(server: SocketAddr, timeout: Duration) -> Resolver<TokioConnectionProvider> {
    let mut group = NameServerConfigGroup::new();
    group.push(NameServerConfig::new(server, Protocol::Udp));
    group.push(NameServerConfig::new(server, Protocol::Tcp));
    let config = ResolverConfig::from_parts(None, Vec::new(), group);
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.attempts = 1;
    options.cache_size = 0;
    options.ndots = 0;
    options.edns0 = true;
    options.recursion_desired = true;
    options.preserve_intermediates = true;
    options.use_hosts_file = ResolveHosts::Never;
    Resolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(options)
        .build()
}

/// Outcome of one SOA query.
enum Step {
    Zone(String),
    Up,
}

async fn query(
    resolver: &Resolver<TokioConnectionProvider>,
    domain: &str,
) -> Result<Step, Result<WalkError, String>> {
    let name = Name::from_ascii(domain).map_err(|err| {
        Ok(WalkError::Rcode {
            domain: domain.to_string(),
            rcode: format!("invalid name: {err}"),
        })
    })?;
    match resolver.lookup(name, RecordType::SOA).await {
        Ok(lookup) => {
            let records = lookup.records();
            if records.iter().any(|r| r.record_type() == RecordType::CNAME) {
                return Ok(Step::Up);
            }
            for record in records {
                if let RData::SOA(_) = record.data() {
                    return Ok(Step::Zone(record.name().to_ascii().to_ascii_lowercase()));
                }
            }
            Ok(Step::Up)
        }
        Err(err) => {
            if let Some(proto) = err.proto() {
                if let ProtoErrorKind::NoRecordsFound { response_code, .. } = proto.kind() {
                    return match *response_code {
                        ResponseCode::NXDomain | ResponseCode::NoError => Ok(Step::Up),
                        other => Err(Ok(WalkError::Rcode {
                            domain: domain.to_string(),
                            rcode: other.to_str().to_ascii_uppercase(),
                        })),
                    };
                }
            }
            Err(Err(err.to_string()))
        }
    }
}

/// Label suffixes of `fqdn` with a trailing dot, longest first, TLD last.
pub(crate) fn suffixes(fqdn: &str) -> Vec<String> {
    let trimmed = fqdn.trim_end_matches('.');
    let labels: Vec<&str> = trimmed.split('.').collect();
    (0..labels.len())
        .map(|start| format!("{}.", labels[start..].join(".")))
        .collect()
}

/// Walks up `fqdn` and returns the zone (with trailing dot) and the
/// nameserver whose answer named it.
pub(crate) async fn find_zone(
    fqdn: &str,
    servers: &[SocketAddr],
    timeout: Duration,
) -> Result<(String, SocketAddr), WalkError> {
    let mut last_transport = None;
    'servers: for server in servers {
        let resolver = resolver_for(*server, timeout);
        for domain in suffixes(fqdn) {
            match query(&resolver, &domain).await {
                Ok(Step::Zone(zone)) => {
                    debug!(%server, %domain, %zone, "SOA found");
                    return Ok((zone, *server));
                }
                Ok(Step::Up) => continue,
                Err(Ok(error)) => return Err(error),
                Err(Err(transport)) => {
                    debug!(%server, %domain, error = %transport, "nameserver did not respond; trying the next one");
                    last_transport = Some(format!("{server}: {transport}"));
                    continue 'servers;
                }
            }
        }
        return Err(WalkError::NotFound);
    }
    Err(WalkError::Unreachable(
        last_transport.unwrap_or_else(|| "no nameserver configured".to_string()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_go_up_to_tld() {
        assert_eq!(
            suffixes("_acme-challenge.www.example.com"),
            [
                "_acme-challenge.www.example.com.",
                "www.example.com.",
                "example.com.",
                "com."
            ]
        );
    }
}
