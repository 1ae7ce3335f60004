//! Maps a method and path to the endpoint it calls and to its fault step.

use super::Step;

/// Path prefix of the v4 API.
pub(crate) const API_PREFIX: &str = "/client/v4";

/// The endpoints the emulation serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    UserTokenVerify,
    AccountTokenVerify {
        account_id: String,
    },
    ListZones,
    GetZone {
        zone_id: String,
    },
    ListRecords {
        zone_id: String,
    },
    CreateRecord {
        zone_id: String,
    },
    GetRecord {
        zone_id: String,
        record_id: String,
    },
    DeleteRecord {
        zone_id: String,
        record_id: String,
    },
    /// A served path with a method it does not accept.
    MethodNotAllowed,
    /// A path the emulation does not serve.
    Unknown,
}

impl Route {
    /// Classifies a request; `path` excludes the query.
    pub(crate) fn parse(method: &str, path: &str) -> Route {
        let Some(rest) = path.strip_prefix(API_PREFIX) else {
            return Route::Unknown;
        };
        let segments: Vec<&str> = rest
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect();
        let owned = |segment: &str| segment.to_string();

        match (method, segments.as_slice()) {
            ("GET", ["user", "tokens", "verify"]) => Route::UserTokenVerify,
            ("GET", ["accounts", account_id, "tokens", "verify"]) => Route::AccountTokenVerify {
                account_id: owned(account_id),
            },
            ("GET", ["zones"]) => Route::ListZones,
            ("GET", ["zones", zone_id]) => Route::GetZone {
                zone_id: owned(zone_id),
            },
            ("GET", ["zones", zone_id, "dns_records"]) => Route::ListRecords {
                zone_id: owned(zone_id),
            },
            ("POST", ["zones", zone_id, "dns_records"]) => Route::CreateRecord {
                zone_id: owned(zone_id),
            },
            ("GET", ["zones", zone_id, "dns_records", record_id]) => Route::GetRecord {
                zone_id: owned(zone_id),
                record_id: owned(record_id),
            },
            ("DELETE", ["zones", zone_id, "dns_records", record_id]) => Route::DeleteRecord {
                zone_id: owned(zone_id),
                record_id: owned(record_id),
            },
            (_, ["user", "tokens", "verify"])
            | (_, ["accounts", _, "tokens", "verify"])
            | (_, ["zones"])
            | (_, ["zones", _])
            | (_, ["zones", _, "dns_records"])
            | (_, ["zones", _, "dns_records", _]) => Route::MethodNotAllowed,
            _ => Route::Unknown,
        }
    }

    /// Returns the fault step of this endpoint. Zone and record lookups by id count as [`Step::Other`].
    pub(crate) fn step(&self) -> Step {
        match self {
            Route::UserTokenVerify => Step::Verify,
            Route::AccountTokenVerify { .. } => Step::AccountVerify,
            Route::ListZones => Step::Zones,
            Route::ListRecords { .. } => Step::ListRecords,
            Route::CreateRecord { .. } => Step::Create,
            Route::DeleteRecord { .. } => Step::Delete,
            Route::GetZone { .. }
            | Route::GetRecord { .. }
            | Route::MethodNotAllowed
            | Route::Unknown => Step::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_dns01_calls() {
        let zone = "023e105f4ecef8ad9ca31a8372d0c353";
        let cases = [
            (
                "GET",
                "/client/v4/user/tokens/verify".to_string(),
                Step::Verify,
            ),
            (
                "GET",
                format!("/client/v4/accounts/{zone}/tokens/verify"),
                Step::AccountVerify,
            ),
            ("GET", "/client/v4/zones".to_string(), Step::Zones),
            ("GET", "/client/v4/zones/".to_string(), Step::Zones),
            (
                "GET",
                format!("/client/v4/zones/{zone}/dns_records"),
                Step::ListRecords,
            ),
            (
                "POST",
                format!("/client/v4/zones/{zone}/dns_records"),
                Step::Create,
            ),
            (
                "DELETE",
                format!("/client/v4/zones/{zone}/dns_records/{zone}"),
                Step::Delete,
            ),
            ("GET", format!("/client/v4/zones/{zone}"), Step::Other),
            ("GET", "/client/v4/user".to_string(), Step::Other),
            ("GET", "/zones".to_string(), Step::Other),
        ];
        for (method, path, step) in cases {
            assert_eq!(Route::parse(method, &path).step(), step, "{method} {path}");
        }
    }

    #[test]
    fn wrong_method_on_known_path() {
        assert_eq!(
            Route::parse("PUT", "/client/v4/zones"),
            Route::MethodNotAllowed
        );
        assert_eq!(Route::parse("GET", "/client/v4/unknown"), Route::Unknown);
    }
}
