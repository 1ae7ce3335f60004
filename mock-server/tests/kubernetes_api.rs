//! The Kubernetes API slice answered over HTTP: discovery shapes, Status
//! errors and RBAC rules. kubectl's own view is tested in the workspace's
//! end-to-end tests.

use acme_token_mock::{MockServer, Scenario};
use serde_json::Value;

const SCENARIO: &str = r#"
kubernetes:
  tokens:
    - token: reader
      user: reader-user
      rules:
        - apiGroups: [cert-manager.io]
          resources: [issuers]
          verbs: [list]
        - apiGroups: [""]
          resources: [secrets]
          verbs: [get]
          namespaces: [cert-manager]
          resourceNames: [cf]
    - token: old
      expired: true
  objects:
    - apiVersion: cert-manager.io/v1
      kind: Issuer
      metadata: {name: a, namespace: team-a, labels: {tier: prod}}
      spec: {acme: {solvers: []}}
    - apiVersion: cert-manager.io/v1
      kind: Issuer
      metadata: {name: b, namespace: team-b}
      spec: {acme: {solvers: []}}
    - apiVersion: v1
      kind: Secret
      metadata: {name: cf, namespace: cert-manager}
      stringData: {api-token: abc}
    - apiVersion: v1
      kind: Secret
      metadata: {name: other, namespace: cert-manager}
      stringData: {password: xyz}
"#;

async fn get(base: &str, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "application/json", "{path}");
    (status, response.json().await.expect("JSON body"))
}

async fn start(text: &str) -> (MockServer, String) {
    let server = MockServer::start(Scenario::from_yaml(text).expect("scenario"))
        .await
        .expect("start");
    let url = server.kubernetes_url().expect("kubernetes url");
    (server, url)
}

#[tokio::test]
async fn discovery_lists_installed_groups() {
    let (_server, url) = start(SCENARIO).await;
    let (status, groups) = get(&url, Some("reader"), "/apis").await;
    assert_eq!(status, 200);
    assert_eq!(groups["kind"], "APIGroupList");
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["cert-manager.io", "external-secrets.io"]);

    let (_, resources) = get(&url, Some("reader"), "/apis/cert-manager.io/v1").await;
    assert_eq!(resources["kind"], "APIResourceList");
    let issuers = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|resource| resource["name"] == "issuers")
        .expect("issuers listed");
    assert_eq!(issuers["namespaced"], true);
    assert!(issuers["verbs"].as_array().unwrap().contains(&Value::from("list")));
}

#[tokio::test]
async fn missing_group_is_404() {
    let text = SCENARIO.replace("kubernetes:\n", "kubernetes:\n  crd_groups: []\n");
    let (_server, url) = start(&text).await;
    let (status, body) = get(&url, Some("reader"), "/apis/cert-manager.io/v1").await;
    assert_eq!(status, 404);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "NotFound");
    let (status, _) = get(&url, Some("reader"), "/apis/cert-manager.io/v1/issuers").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn list_filters_namespace_and_labels() {
    let (_server, url) = start(SCENARIO).await;
    let (status, list) = get(&url, Some("reader"), "/apis/cert-manager.io/v1/issuers").await;
    assert_eq!(status, 200);
    assert_eq!(list["kind"], "IssuerList");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let (_, list) = get(&url, Some("reader"), "/apis/cert-manager.io/v1/issuers?labelSelector=tier%3Dprod").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["metadata"]["name"], "a");
    assert_eq!(items[0]["kind"], "Issuer");
}

#[tokio::test]
async fn secret_get_converts_string_data() {
    let (_server, url) = start(SCENARIO).await;
    let (status, secret) = get(&url, Some("reader"), "/api/v1/namespaces/cert-manager/secrets/cf").await;
    assert_eq!(status, 200);
    assert_eq!(secret["data"]["api-token"], "YWJj");
    assert!(secret.get("stringData").is_none(), "{secret}");
    assert!(secret["metadata"]["uid"].is_string(), "{secret}");
}

#[tokio::test]
async fn rbac_denies_other_names_and_verbs() {
    let (server, url) = start(SCENARIO).await;
    let (status, body) = get(&url, Some("reader"), "/api/v1/namespaces/cert-manager/secrets/other").await;
    assert_eq!(status, 403);
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "secrets \"other\" is forbidden: User \"reader-user\" cannot get resource \"secrets\" in API group \"\" in the namespace \"cert-manager\""
    );

    let (status, body) = get(&url, Some("reader"), "/api/v1/secrets").await;
    assert_eq!(status, 403);
    assert_eq!(
        body["message"],
        "secrets is forbidden: User \"reader-user\" cannot list resource \"secrets\" in API group \"\" at the cluster scope"
    );

    let log = server.kubernetes().unwrap().requests();
    assert_eq!(log.last().map(|request| request.status), Some(403));
    assert_eq!(log.last().and_then(|request| request.user.clone()).as_deref(), Some("reader-user"));
}

#[tokio::test]
async fn bad_and_expired_tokens_are_401() {
    let (_server, url) = start(SCENARIO).await;
    for token in [Some("old"), Some("nope"), None] {
        let (status, body) = get(&url, token, "/api/v1/namespaces").await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(body["reason"], "Unauthorized");
    }
    let (status, version) = get(&url, None, "/version").await;
    assert_eq!(status, 200);
    assert_eq!(version["gitVersion"], "v1.32.4");
}

#[test]
fn cluster_scoped_object_with_namespace_rejected() {
    let text = "kubernetes:\n  objects:\n    - {apiVersion: cert-manager.io/v1, kind: ClusterIssuer, metadata: {name: x, namespace: y}}\n";
    let error = Scenario::from_yaml(text).unwrap_err();
    assert!(error.to_string().contains("cluster-scoped"), "{error}");
}
