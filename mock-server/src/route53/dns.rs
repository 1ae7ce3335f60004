//! Authoritative DNS on loopback for the public zones of the Route53
//! section, so the product's SOA walk runs its production resolver against
//! a real DNS server (hickory-server).
//!
//! Each public zone gets its SOA and NS records plus the scenario's record
//! sets as they are at start. Names outside the zones get REFUSED, as from
//! an authoritative server that is not a resolver. Private zones are not
//! served, as public resolvers never see them.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, SOA, TXT};
use hickory_proto::rr::{LowerName, Name, RData, Record};
use hickory_server::authority::{Catalog, ZoneType};
use hickory_server::store::in_memory::InMemoryAuthority;
use hickory_server::ServerFuture;
use tokio::net::{TcpListener, UdpSocket};

use super::state::{RecordSet, Zone};

const TTL: u32 = 300;

/// Nameserver names given to a zone, as Route53's delegation sets name them.
pub(crate) fn nameservers(zone: &str) -> Vec<String> {
    let seed = zone.len() % 10;
    vec![
        format!("ns-{seed}01.awsdns-mock.test."),
        format!("ns-{seed}02.awsdns-mock.test."),
    ]
}

/// Returns the SOA and NS record sets Route53 creates with every zone.
pub(crate) fn apex_record_sets(zone: &Zone) -> Vec<RecordSet> {
    let ns = nameservers(&zone.name);
    vec![
        RecordSet {
            name: zone.name.clone(),
            record_type: "NS".to_string(),
            ttl: 172800,
            values: ns.clone(),
            set_identifier: None,
            multi_value: false,
        },
        RecordSet {
            name: zone.name.clone(),
            record_type: "SOA".to_string(),
            ttl: 900,
            values: vec![format!(
                "{} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
                ns[0]
            )],
            set_identifier: None,
            multi_value: false,
        },
    ]
}

fn authority(zone: &Zone) -> Option<InMemoryAuthority> {
    let origin = Name::from_str(&zone.name).ok()?;
    let mut authority = InMemoryAuthority::empty(origin.clone(), ZoneType::Primary, false);
    let ns = nameservers(&zone.name);
    let primary = Name::from_str(&ns[0]).ok()?;
    let soa = SOA::new(
        primary,
        Name::from_str("awsdns-hostmaster.amazon.com.").ok()?,
        1,
        7200,
        900,
        1_209_600,
        86_400,
    );
    authority.upsert_mut(Record::from_rdata(origin.clone(), 900, RData::SOA(soa)), 1);
    for server in &ns {
        authority.upsert_mut(
            Record::from_rdata(
                origin.clone(),
                TTL,
                RData::NS(NS(Name::from_str(server).ok()?)),
            ),
            1,
        );
    }
    for set in &zone.record_sets {
        let Ok(name) = Name::from_str(&set.name) else {
            continue;
        };
        for value in &set.values {
            let data = match set.record_type.as_str() {
                "A" => value.parse::<Ipv4Addr>().ok().map(|ip| RData::A(A(ip))),
                "AAAA" => value.parse().ok().map(|ip| RData::AAAA(AAAA(ip))),
                "CNAME" => Name::from_str(value)
                    .ok()
                    .map(|target| RData::CNAME(CNAME(target))),
                "TXT" => Some(RData::TXT(TXT::new(vec![value
                    .trim_matches('"')
                    .to_string()]))),
                _ => None,
            };
            if let Some(data) = data {
                authority.upsert_mut(
                    Record::from_rdata(name.clone(), set.ttl.max(0) as u32, data),
                    1,
                );
            }
        }
    }
    Some(authority)
}

/// A running DNS server; dropping it stops it.
pub(crate) struct DnsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds UDP and TCP on the same free port of `ip` and serves `zones`.
pub(crate) async fn start(zones: &[Zone], ip: std::net::IpAddr) -> std::io::Result<DnsServer> {
    let mut catalog = Catalog::new();
    for zone in zones.iter().filter(|zone| !zone.private) {
        if let Some(authority) = authority(zone) {
            let name = LowerName::from(authority_origin(zone));
            catalog.upsert(name, vec![Arc::new(authority)]);
        }
    }
    let mut last_error = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => {
                let mut server = ServerFuture::new(catalog);
                server.register_socket(udp);
                server.register_listener(tcp, Duration::from_secs(5));
                let task = tokio::spawn(async move {
                    let _ = server.block_until_done().await;
                });
                return Ok(DnsServer { addr, task });
            }
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port for DNS")))
}

fn authority_origin(zone: &Zone) -> Name {
    Name::from_str(&zone.name).unwrap_or_else(|_| Name::root())
}
