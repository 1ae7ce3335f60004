//! Cloudflare emulation over HTTP: envelopes, credentials, verify, permissions, zones and records.

mod common;

use common::*;
use serde_json::json;

// ---- envelopes and credential headers ----

#[tokio::test]
async fn success_envelope_shape() {
    let server = start().await;
    let reply = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;

    let result = assert_success(&reply);
    assert_eq!(reply.body["messages"], json!([]));
    assert_eq!(result.as_array().unwrap().len(), 1);
    let info = &reply.body["result_info"];
    assert_eq!(info["page"], 1);
    assert_eq!(info["per_page"], 20);
    assert_eq!(info["count"], 1);
    assert_eq!(info["total_count"], 1);
    assert_eq!(info["total_pages"], 1);
    assert_eq!(reply.headers["content-type"], "application/json");
}

#[tokio::test]
async fn global_key_as_bearer_is_6003_6111() {
    let server = start().await;
    let reply = get_with_token(&server, GLOBAL_KEY, "/zones?name=example.com").await;

    assert_failure(&reply, 400, &[6003]);
    assert_eq!(reply.first_message(), "Invalid request headers");
    assert_eq!(reply.chain_codes(), vec![6111]);
    assert_eq!(
        reply.body["errors"][0]["error_chain"][0]["message"],
        "Invalid format for Authorization header"
    );
}

#[tokio::test]
async fn token_as_auth_key_is_6003_6103() {
    let server = start().await;
    let url = format!(
        "{}/zones?name=example.com",
        server.cloudflare_url().unwrap()
    );
    let request = client()
        .get(url)
        .header("X-Auth-Email", GLOBAL_EMAIL)
        .header("X-Auth-Key", FULL_TOKEN);
    let reply = send(request).await;

    assert_failure(&reply, 400, &[6003]);
    assert_eq!(reply.chain_codes(), vec![6103]);
    assert_eq!(
        reply.body["errors"][0]["error_chain"][0]["message"],
        "Invalid format for X-Auth-Key header"
    );
}

#[tokio::test]
async fn auth_key_without_email_chains_6102() {
    let server = start().await;
    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    let reply = send(client().get(url).header("X-Auth-Key", GLOBAL_KEY)).await;

    assert_failure(&reply, 400, &[6003]);
    assert_eq!(reply.chain_codes(), vec![6102]);
}

#[tokio::test]
async fn non_bearer_authorization_is_6111() {
    let server = start().await;
    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    let reply = send(client().get(url).header("Authorization", FULL_TOKEN)).await;

    assert_failure(&reply, 400, &[6003]);
    assert_eq!(reply.chain_codes(), vec![6111]);
}

#[tokio::test]
async fn missing_credentials_is_9106() {
    let server = start().await;
    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    let reply = send(client().get(url)).await;

    assert_failure(&reply, 400, &[9106]);
}

#[tokio::test]
async fn unknown_and_revoked_tokens_are_401_1000() {
    let server = start().await;
    for token in ["cf-never-issued-0000000000000000000000000", REVOKED_TOKEN] {
        for path in [
            "/user/tokens/verify",
            "/zones?name=example.com",
            &format!("/zones/{COM_ZONE}/dns_records"),
        ] {
            let reply = get_with_token(&server, token, path).await;
            assert_failure(&reply, 401, &[1000]);
            assert_eq!(reply.first_message(), "Invalid API Token", "{path}");
        }
    }
}

#[tokio::test]
async fn wrong_global_key_pair_is_403_9103() {
    let server = start().await;
    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    let request = client()
        .get(url)
        .header("X-Auth-Email", "someone@example.com")
        .header("X-Auth-Key", GLOBAL_KEY);
    let reply = send(request).await;

    assert_failure(&reply, 403, &[9103]);
}

#[tokio::test]
async fn bearer_wins_over_email_header() {
    // cert-manager sends X-Auth-Email next to the bearer token when the issuer sets `email`.
    let server = start().await;
    let url = format!(
        "{}/zones?name=example.com",
        server.cloudflare_url().unwrap()
    );
    let reply = send(
        client()
            .get(url)
            .bearer_auth(FULL_TOKEN)
            .header("X-Auth-Email", GLOBAL_EMAIL),
    )
    .await;

    assert_success(&reply);
}

#[tokio::test]
async fn unknown_path_and_method() {
    let server = start().await;
    let reply = get_with_token(&server, FULL_TOKEN, "/railguns").await;
    assert_failure(&reply, 404, &[7000]);

    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    let reply = send(client().put(url).bearer_auth(FULL_TOKEN)).await;
    assert_failure(&reply, 405, &[7001]);
}

// ---- IP filter ----

#[tokio::test]
async fn ip_filter_rejects_every_call_with_9109() {
    let server = start().await;
    let paths = [
        "/user/tokens/verify".to_string(),
        "/zones?name=example.com".to_string(),
        format!("/zones/{COM_ZONE}/dns_records?type=TXT"),
    ];
    for path in &paths {
        let reply = get_with_token(&server, IP_FILTERED_TOKEN, path).await;
        assert_failure(&reply, 403, &[9109]);
        assert_eq!(
            reply.first_message(),
            "Cannot use the access token from location: 127.0.0.1",
            "{path}"
        );
    }

    let create = create_txt(
        &server,
        IP_FILTERED_TOKEN,
        COM_ZONE,
        "_acme-challenge.example.com",
        "probe",
        120,
    )
    .await;
    assert_failure(&create, 403, &[9109]);
    assert_eq!(cloudflare(&server).records("example.com").len(), 2);
}

#[tokio::test]
async fn ip_filter_allows_matching_address() {
    let server = start().await;
    let reply = get_with_token(&server, LOOPBACK_FILTERED_TOKEN, "/zones?name=example.com").await;
    assert_success(&reply);
}

// ---- verify ----

#[tokio::test]
async fn verify_user_token() {
    let server = start().await;
    let reply = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;

    let result = assert_success(&reply);
    assert_eq!(result["id"], FULL_TOKEN_ID);
    assert_eq!(result["status"], "active");
    assert!(result.get("expires_on").is_none(), "{result}");
    assert_eq!(reply.body["messages"][0]["code"], 10000);
    assert_eq!(
        reply.body["messages"][0]["message"],
        "This API Token is valid and active"
    );
}

#[tokio::test]
async fn verify_reports_expiry_date() {
    let server = start().await;
    let reply = get_with_token(&server, EXPIRING_TOKEN, "/user/tokens/verify").await;

    let result = assert_success(&reply);
    assert_eq!(result["status"], "active");
    let expires_on = result["expires_on"].as_str().expect("expires_on is set");
    let expiry = chrono::DateTime::parse_from_rfc3339(expires_on).expect("expires_on is RFC 3339");
    let days_left =
        (expiry.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!(
        (4.9..=5.0).contains(&days_left),
        "expires in {days_left} days"
    );
}

#[tokio::test]
async fn verify_reports_disabled_and_expired_status() {
    let server = start().await;
    for (token, status) in [(DISABLED_TOKEN, "disabled"), (EXPIRED_TOKEN, "expired")] {
        let reply = get_with_token(&server, token, "/user/tokens/verify").await;
        let result = assert_success(&reply);
        assert_eq!(result["status"], status);
        assert_eq!(reply.body["messages"], json!([]));
    }
}

#[tokio::test]
async fn unusable_tokens_rejected_elsewhere() {
    let server = start().await;
    for token in [DISABLED_TOKEN, EXPIRED_TOKEN, FUTURE_TOKEN] {
        let reply = get_with_token(&server, token, "/zones?name=example.com").await;
        assert_failure(&reply, 401, &[1000]);
    }
}

#[tokio::test]
async fn verify_not_yet_valid_token() {
    let server = start().await;
    let reply = get_with_token(&server, FUTURE_TOKEN, "/user/tokens/verify").await;

    let result = assert_success(&reply);
    assert!(result["not_before"].is_string(), "{result}");
    assert_eq!(reply.body["messages"], json!([]));
}

#[tokio::test]
async fn verify_account_token() {
    let server = start().await;
    let reply = get_with_token(
        &server,
        ACCOUNT_TOKEN,
        &format!("/accounts/{ACCOUNT_TWO}/tokens/verify"),
    )
    .await;

    let result = assert_success(&reply);
    assert_eq!(result["id"], ACCOUNT_TOKEN_ID);
    assert_eq!(result["status"], "active");
}

#[tokio::test]
async fn verify_rejects_wrong_token_kind() {
    let server = start().await;
    let account_on_user = get_with_token(&server, ACCOUNT_TOKEN, "/user/tokens/verify").await;
    assert_failure(&account_on_user, 403, &[9109]);

    let other_account = get_with_token(
        &server,
        ACCOUNT_TOKEN,
        &format!("/accounts/{ACCOUNT_ONE}/tokens/verify"),
    )
    .await;
    assert_failure(&other_account, 403, &[9109]);

    let user_on_account = get_with_token(
        &server,
        FULL_TOKEN,
        &format!("/accounts/{ACCOUNT_ONE}/tokens/verify"),
    )
    .await;
    assert_failure(&user_on_account, 403, &[9109]);

    let url = format!("{}/user/tokens/verify", server.cloudflare_url().unwrap());
    let global = send(
        client()
            .get(url)
            .header("X-Auth-Email", GLOBAL_EMAIL)
            .header("X-Auth-Key", GLOBAL_KEY),
    )
    .await;
    assert_failure(&global, 400, &[1001]);
    assert_eq!(global.first_message(), "Missing \"Authorization\" header");
}

// ---- zones ----

#[tokio::test]
async fn zone_object_shape() {
    let server = start().await;
    let reply = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;

    let zone = &assert_success(&reply)[0];
    assert_eq!(zone["id"], COM_ZONE);
    assert_eq!(zone["name"], "example.com");
    assert_eq!(zone["status"], "active");
    assert_eq!(
        zone["account"],
        json!({"id": ACCOUNT_ONE, "name": "Example Org"})
    );
    assert_eq!(zone["name_servers"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn zone_list_without_zone_read_is_10000() {
    let server = start().await;
    let reply = get_with_token(&server, DNS_ONLY_TOKEN, "/zones?name=example.com").await;

    assert_failure(&reply, 403, &[10000]);
    assert_eq!(reply.first_message(), "Authentication error");
}

#[tokio::test]
async fn zone_restricted_token_sees_only_its_zones() {
    let server = start().await;
    let com = get_with_token(&server, ORG_ONLY_TOKEN, "/zones?name=example.com").await;
    assert_eq!(assert_success(&com), &json!([]));
    assert_eq!(com.body["result_info"]["total_count"], 0);

    let all = get_with_token(&server, ORG_ONLY_TOKEN, "/zones").await;
    let names: Vec<&str> = assert_success(&all)
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.org"]);

    let records = get_with_token(
        &server,
        ORG_ONLY_TOKEN,
        &format!("/zones/{COM_ZONE}/dns_records"),
    )
    .await;
    assert_failure(&records, 400, &[7003, 7000]);
    assert_eq!(
        records.first_message(),
        format!("Could not route to /client/v4/zones/{COM_ZONE}/dns_records, perhaps your object identifier is invalid?")
    );
}

#[tokio::test]
async fn account_token_sees_only_its_account() {
    let server = start().await;
    let reply = get_with_token(&server, ACCOUNT_TOKEN, "/zones").await;
    let names: Vec<&str> = assert_success(&reply)
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.net"]);
}

#[tokio::test]
async fn global_key_sees_every_zone() {
    let server = start().await;
    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    let reply = send(
        client()
            .get(url)
            .header("X-Auth-Email", GLOBAL_EMAIL)
            .header("X-Auth-Key", GLOBAL_KEY),
    )
    .await;
    let names: Vec<&str> = assert_success(&reply)
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.com", "example.net", "example.org"]);
}

#[tokio::test]
async fn zone_filters() {
    let server = start().await;
    let cases = [
        ("/zones?name.exact=example.org", vec!["example.org"]),
        ("/zones?name=ends_with:.net", vec!["example.net"]),
        (
            &format!("/zones?account.id={ACCOUNT_ONE}") as &str,
            vec!["example.com", "example.org"],
        ),
        ("/zones?status=pending", vec![]),
        ("/zones?name=_acme-challenge.example.com", vec![]),
    ];
    for (path, expected) in cases {
        let reply = get_with_token(&server, FULL_TOKEN, path).await;
        let names: Vec<&str> = assert_success(&reply)
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "{path}");
    }
}

#[tokio::test]
async fn zone_pages_past_the_end_are_empty() {
    let server = start().await;
    let first = get_with_token(&server, FULL_TOKEN, "/zones?per_page=5&page=1").await;
    assert_eq!(assert_success(&first).as_array().unwrap().len(), 3);
    assert_eq!(first.body["result_info"]["total_pages"], 1);

    let second = get_with_token(&server, FULL_TOKEN, "/zones?per_page=5&page=2").await;
    assert_eq!(assert_success(&second), &json!([]));
    assert_eq!(second.body["result_info"]["page"], 2);
    assert_eq!(second.body["result_info"]["count"], 0);
    assert_eq!(second.body["result_info"]["total_count"], 3);
}

// ---- records ----

#[tokio::test]
async fn record_list_by_name_and_type() {
    let server = start().await;
    let path = format!(
        "/zones/{COM_ZONE}/dns_records?per_page=100&type=TXT&name=_acme-challenge.example.com"
    );
    let reply = get_with_token(&server, READ_ONLY_TOKEN, &path).await;

    let records = assert_success(&reply).as_array().unwrap().clone();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record["name"], "_acme-challenge.example.com");
    assert_eq!(record["type"], "TXT");
    assert_eq!(record["content"], "in-flight-challenge");
    assert_eq!(record["ttl"], 120);
    assert_eq!(record["zone_id"], COM_ZONE);
    assert_eq!(record["zone_name"], "example.com");
    assert_eq!(record["proxiable"], false);
    assert_eq!(record["proxied"], false);
    assert!(record["comment"].is_null());
    assert_eq!(record["tags"], json!([]));
    assert_eq!(record["id"].as_str().unwrap().len(), 32);
    assert!(record["created_on"].is_string());
    assert!(record["modified_on"].is_string());
    assert_eq!(reply.body["result_info"]["per_page"], 100);
}

#[tokio::test]
async fn record_list_name_exact_and_content() {
    let server = start().await;
    let base = format!("/zones/{COM_ZONE}/dns_records");
    let cases = [
        (format!("{base}?name.exact=_acme-challenge.example.com"), 1),
        (format!("{base}?name.exact=_ACME-challenge.example.com."), 1),
        (format!("{base}?name.exact=example.com"), 0),
        (format!("{base}?name.contains=acme"), 1),
        (format!("{base}?type=A"), 1),
        (format!("{base}?content=in-flight-challenge"), 1),
        (format!("{base}?content.exact=other"), 0),
        (base.clone(), 2),
    ];
    for (path, expected) in cases {
        let reply = get_with_token(&server, FULL_TOKEN, &path).await;
        assert_eq!(
            assert_success(&reply).as_array().unwrap().len(),
            expected,
            "{path}"
        );
    }
}

#[tokio::test]
async fn record_pages_past_the_end_are_empty() {
    let server = start().await;
    for index in 0..6 {
        let reply = create_txt(
            &server,
            FULL_TOKEN,
            COM_ZONE,
            "_acme-challenge.example.com",
            &format!("value-{index}"),
            120,
        )
        .await;
        assert_success(&reply);
    }
    let base = format!(
        "/zones/{COM_ZONE}/dns_records?type=TXT&name.exact=_acme-challenge.example.com&per_page=5"
    );
    let mut seen = Vec::new();
    for page in 1..=3 {
        let reply = get_with_token(&server, FULL_TOKEN, &format!("{base}&page={page}")).await;
        let records = assert_success(&reply).as_array().unwrap().clone();
        assert_eq!(reply.body["result_info"]["total_count"], 7, "page {page}");
        assert_eq!(reply.body["result_info"]["total_pages"], 2, "page {page}");
        seen.push(records.len());
    }
    assert_eq!(seen, [5, 2, 0]);
}

#[tokio::test]
async fn records_need_dns_read() {
    let server = start().await;
    let reply = get_with_token(
        &server,
        ZONE_READ_ONLY_TOKEN,
        &format!("/zones/{COM_ZONE}/dns_records"),
    )
    .await;
    assert_failure(&reply, 403, &[10000]);
}

#[tokio::test]
async fn create_and_delete_record() {
    let server = start().await;
    let created = create_txt(
        &server,
        FULL_TOKEN,
        COM_ZONE,
        "_acme-challenge.example.com",
        "probe-value",
        120,
    )
    .await;
    let record = assert_success(&created).clone();
    assert_eq!(record["name"], "_acme-challenge.example.com");
    assert_eq!(record["content"], "probe-value");
    assert_eq!(record["ttl"], 120);
    let id = record["id"].as_str().unwrap().to_string();

    let stored = cloudflare(&server).records("example.com");
    assert!(stored
        .iter()
        .any(|r| r.id == id && r.content == "probe-value" && r.record_type == "TXT"));
    // The in-flight challenge at the same name is untouched.
    assert!(stored.iter().any(|r| r.content == "in-flight-challenge"));

    let deleted = delete_record(&server, FULL_TOKEN, COM_ZONE, &id).await;
    assert_eq!(assert_success(&deleted), &json!({"id": id}));
    assert!(!cloudflare(&server)
        .records("example.com")
        .iter()
        .any(|r| r.id == id));

    let again = delete_record(&server, FULL_TOKEN, COM_ZONE, &id).await;
    assert_failure(&again, 404, &[81044]);
    assert_eq!(again.first_message(), "Record does not exist.");
}

#[tokio::test]
async fn read_only_token_cannot_create_or_delete() {
    let server = start().await;
    for token in [READ_ONLY_TOKEN, ZONE_READ_ONLY_TOKEN] {
        let reply = create_txt(
            &server,
            token,
            COM_ZONE,
            "_acme-challenge.example.com",
            "probe",
            120,
        )
        .await;
        assert_failure(&reply, 403, &[10000]);
        assert_eq!(reply.first_message(), "Authentication error");
    }
    let existing = cloudflare(&server).records("example.com")[0].id.clone();
    let reply = delete_record(&server, READ_ONLY_TOKEN, COM_ZONE, &existing).await;
    assert_failure(&reply, 403, &[10000]);
    assert_eq!(cloudflare(&server).records("example.com").len(), 2);
}

#[tokio::test]
async fn dns_edit_without_zone_read_can_write() {
    let server = start().await;
    let reply = create_txt(
        &server,
        DNS_ONLY_TOKEN,
        COM_ZONE,
        "_acme-challenge.example.com",
        "probe",
        120,
    )
    .await;
    assert_success(&reply);
}

#[tokio::test]
async fn identical_record_is_81058() {
    let server = start().await;
    let reply = create_txt(
        &server,
        FULL_TOKEN,
        COM_ZONE,
        "_acme-challenge.example.com",
        "in-flight-challenge",
        120,
    )
    .await;
    assert_failure(&reply, 400, &[81058]);
    assert_eq!(reply.first_message(), "An identical record already exists.");
    assert_eq!(cloudflare(&server).records("example.com").len(), 2);
}

#[tokio::test]
async fn invalid_ttl_is_1004_9021() {
    let server = start().await;
    for ttl in [0, 30, 59, 86401] {
        let reply = create_txt(
            &server,
            FULL_TOKEN,
            COM_ZONE,
            "_acme-challenge.example.com",
            "probe",
            ttl,
        )
        .await;
        assert_failure(&reply, 400, &[1004]);
        assert_eq!(reply.chain_codes(), vec![9021], "ttl {ttl}");
    }
    for ttl in [1, 60, 120, 86400] {
        let reply = create_txt(
            &server,
            FULL_TOKEN,
            COM_ZONE,
            "_acme-challenge.example.com",
            &format!("ttl-{ttl}"),
            ttl,
        )
        .await;
        assert_success(&reply);
    }
}

#[tokio::test]
async fn name_outside_zone_is_rejected() {
    let server = start().await;
    let reply = create_txt(
        &server,
        FULL_TOKEN,
        COM_ZONE,
        "_acme-challenge.example.org",
        "probe",
        120,
    )
    .await;
    assert_failure(&reply, 400, &[1004]);
    assert_eq!(cloudflare(&server).records("example.com").len(), 2);
    assert!(cloudflare(&server).records("example.org").is_empty());
}

#[tokio::test]
async fn relative_name_is_qualified() {
    let server = start().await;
    let reply = create_txt(
        &server,
        FULL_TOKEN,
        ORG_ZONE,
        "_acme-challenge",
        "probe",
        120,
    )
    .await;
    assert_eq!(
        assert_success(&reply)["name"],
        "_acme-challenge.example.org"
    );
}

#[tokio::test]
async fn invalid_body_is_9207() {
    let server = start().await;
    let url = format!(
        "{}/zones/{COM_ZONE}/dns_records",
        server.cloudflare_url().unwrap()
    );
    let reply = send(client().post(url).bearer_auth(FULL_TOKEN).body("{not json")).await;
    assert_failure(&reply, 400, &[9207]);
}

#[tokio::test]
async fn create_without_content_type_works() {
    // cert-manager's POST carries no Content-Type header.
    let server = start().await;
    let url = format!(
        "{}/zones/{COM_ZONE}/dns_records",
        server.cloudflare_url().unwrap()
    );
    let body = r#"{"name":"_acme-challenge.example.com","type":"TXT","content":"no-content-type","ttl":120}"#;
    let reply = send(client().post(url).bearer_auth(FULL_TOKEN).body(body)).await;
    assert_success(&reply);
}

#[tokio::test]
async fn unknown_zone_and_malformed_record_id() {
    let server = start().await;
    let unknown_zone = "d0000000000000000000000000000009";
    let reply = create_txt(
        &server,
        FULL_TOKEN,
        unknown_zone,
        "_acme-challenge.example.com",
        "probe",
        120,
    )
    .await;
    assert_failure(&reply, 400, &[7003, 7000]);

    let reply = delete_record(&server, FULL_TOKEN, COM_ZONE, "not-a-record-id").await;
    assert_failure(&reply, 400, &[7003, 7000]);
}

#[tokio::test]
async fn add_record_is_visible_over_http() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_record(
        "example.org",
        acme_token_mock::cloudflare::Record::new(
            "TXT",
            "_acme-challenge.example.org.",
            "seeded",
            60,
        ),
    );

    let reply = get_with_token(
        &server,
        FULL_TOKEN,
        &format!("/zones/{ORG_ZONE}/dns_records?name=_acme-challenge.example.org"),
    )
    .await;
    let records = assert_success(&reply).as_array().unwrap().clone();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["content"], "seeded");
    assert_eq!(mock.all_records().len(), 3);
    assert_eq!(mock.zone_id("example.org").as_deref(), Some(ORG_ZONE));
}
