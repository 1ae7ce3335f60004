//! Stateful emulation of DNS provider APIs for acme-token's tests and demo.
//!
//! A [`Scenario`] (usually read from YAML) describes each provider's accounts,
//! zones, credentials and injected faults. [`MockServer::start`] starts one
//! loopback listener per provider section. Each listener is a raw TCP front
//! ([`front`]) that can reset or stall connections, and it forwards every
//! other request to an internal wiremock server that emulates the provider.
//!
//! The emulation is written from the providers' published APIs and shares no
//! code or types with the acme-token crates, so a misunderstanding in the
//! product is not silently mirrored here.
//!
//! Providers: Cloudflare ([`cloudflare`]) and Route53 with STS and an
//! authoritative DNS server for its public zones ([`route53`]). The
//! [`kubernetes`] section serves the slice of the Kubernetes API that
//! acme-token reads.

pub mod cloudflare;
pub mod faults;
mod front;
mod ids;
pub mod kubernetes;
pub mod request_log;
pub mod route53;
pub mod scenario;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

pub use scenario::{Scenario, ScenarioError};

/// Errors from starting a [`MockServer`].
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address is not a loopback address.
    #[error("listen address {0} is not a loopback address; the mock only listens on 127.0.0.0/8 or [::1]")]
    NotLoopback(SocketAddr),
    /// Binding or configuring a listener failed.
    #[error("failed to listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// The scenario failed validation.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

/// All providers started for one scenario. Dropping it stops their listeners.
pub struct MockServer {
    cloudflare: Option<cloudflare::CloudflareMock>,
    route53: Option<route53::Route53Mock>,
    kubernetes: Option<kubernetes::KubernetesMock>,
}

impl MockServer {
    /// Starts every provider in `scenario`, each on its own free port of 127.0.0.1.
    pub async fn start(scenario: Scenario) -> Result<MockServer, StartError> {
        Self::start_on(scenario, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts every provider in `scenario` on the IP address of `listen`.
    ///
    /// The first provider started gets the port of `listen` (0 picks a free one);
    /// the others get free ports. Rejects addresses outside the loopback range.
    pub async fn start_on(
        scenario: Scenario,
        listen: SocketAddr,
    ) -> Result<MockServer, StartError> {
        if !listen.ip().is_loopback() {
            return Err(StartError::NotLoopback(listen));
        }
        let cloudflare = match scenario.cloudflare {
            Some(section) => Some(cloudflare::CloudflareMock::start(section, listen).await?),
            None => None,
        };
        let route53_listen = if cloudflare.is_some() {
            SocketAddr::new(listen.ip(), 0)
        } else {
            listen
        };
        let route53 = match scenario.route53 {
            Some(section) => Some(route53::Route53Mock::start(section, route53_listen).await?),
            None => None,
        };
        // The Kubernetes mock takes the port of `listen` only when it is the
        // first listener started.
        let kubernetes_listen = if cloudflare.is_some() || route53.is_some() {
            SocketAddr::new(listen.ip(), 0)
        } else {
            listen
        };
        let kubernetes = match scenario.kubernetes {
            Some(section) => Some(kubernetes::KubernetesMock::start(section, kubernetes_listen).await?),
            None => None,
        };
        Ok(MockServer {
            cloudflare,
            route53,
            kubernetes,
        })
    }

    /// Base URL of the Cloudflare API, `http://127.0.0.1:PORT/client/v4`, if the scenario has a `cloudflare` section.
    pub fn cloudflare_url(&self) -> Option<String> {
        self.cloudflare.as_ref().map(|mock| mock.url())
    }

    /// Returns the Cloudflare emulation, if the scenario has a `cloudflare` section.
    pub fn cloudflare(&self) -> Option<&cloudflare::CloudflareMock> {
        self.cloudflare.as_ref()
    }

    /// Base URL of Route53 and STS, `http://127.0.0.1:PORT`, if the scenario has a `route53` section.
    pub fn route53_url(&self) -> Option<String> {
        self.route53.as_ref().map(|mock| mock.url())
    }

    /// Returns the Route53 emulation, if the scenario has a `route53` section.
    pub fn route53(&self) -> Option<&route53::Route53Mock> {
        self.route53.as_ref()
    }

    /// Server URL of the Kubernetes API, `http://127.0.0.1:PORT`, if the scenario has a `kubernetes` section.
    pub fn kubernetes_url(&self) -> Option<String> {
        self.kubernetes.as_ref().map(|mock| mock.url())
    }

    /// Returns the Kubernetes API emulation, if the scenario has a `kubernetes` section.
    pub fn kubernetes(&self) -> Option<&kubernetes::KubernetesMock> {
        self.kubernetes.as_ref()
    }

    /// Returns one `(provider, base URL)` pair per started provider, in start order.
    pub fn endpoints(&self) -> Vec<(&'static str, String)> {
        let mut endpoints = Vec::new();
        if let Some(mock) = &self.cloudflare {
            endpoints.push(("cloudflare", mock.url()));
        }
        if let Some(mock) = &self.route53 {
            endpoints.push(("route53", mock.url()));
            endpoints.push(("sts", mock.url()));
            if let Some(addr) = mock.dns_addr() {
                endpoints.push(("dns", addr.to_string()));
            }
        }
        if let Some(mock) = &self.kubernetes {
            endpoints.push(("kubernetes", mock.url()));
        }
        endpoints
    }
}
