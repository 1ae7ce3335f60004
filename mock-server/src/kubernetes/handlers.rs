//! The wiremock responder: authentication, routing, authorization, and the
//! bodies of discovery, get and list responses.
//!
//! Order of checks, as in the API server: authentication (401), then
//! routing (404 for an unknown path or a group that is not installed), then
//! authorization (403), then the object lookup (404).

use std::sync::Arc;

use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::objects::{self, Selector};
use super::resources::{self, ResourceType};
use super::scenario::{KubernetesScenario, Rule, TokenSpec};
use super::{KubeRequest, Shared, LOG_CAPACITY};

pub(crate) struct KubernetesResponder {
    shared: Arc<Shared>,
}

impl KubernetesResponder {
    pub(crate) fn new(shared: Arc<Shared>) -> KubernetesResponder {
        KubernetesResponder { shared }
    }
}

/// The caller, after authentication.
enum Caller<'a> {
    /// No credentials and no `anonymous` section.
    Unauthenticated,
    Anonymous(&'a [Rule]),
    User(&'a TokenSpec),
}

const ANONYMOUS_USER: &str = "system:anonymous";

/// A request for objects of one resource type.
struct ObjectRequest<'a> {
    resource: &'static ResourceType,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
}

impl Respond for KubernetesResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_string();
        let query = request.url.query().map(str::to_string);
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        let caller = authenticate(&self.shared.scenario, authorization);
        let (status, body) = match &caller {
            Err(()) => unauthorized(),
            Ok(caller) => self.serve(request, caller),
        };
        let user = match caller {
            Ok(Caller::User(token)) => Some(token.user.clone()),
            Ok(Caller::Anonymous(_)) => Some(ANONYMOUS_USER.to_string()),
            _ => None,
        };
        tracing::debug!(method = %request.method, %path, ?user, status, "kubernetes request");
        let mut log = self.shared.log();
        if log.len() >= LOG_CAPACITY {
            log.remove(0);
        }
        log.push(KubeRequest {
            method: request.method.to_string(),
            path,
            query,
            user,
            status,
        });
        ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")
    }
}

fn authenticate<'a>(scenario: &'a KubernetesScenario, authorization: Option<&str>) -> Result<Caller<'a>, ()> {
    let tokens = &scenario.tokens;
    let Some(header) = authorization else {
        return Ok(match &scenario.anonymous {
            Some(anonymous) => Caller::Anonymous(&anonymous.rules),
            None => Caller::Unauthenticated,
        });
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(())?
        .trim();
    tokens
        .iter()
        .find(|spec| spec.token == token && !spec.expired)
        .map(Caller::User)
        .ok_or(())
}

impl KubernetesResponder {
    fn serve(&self, request: &Request, caller: &Caller<'_>) -> (u16, Value) {
        let path = request.url.path();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let installed = &self.shared.scenario.crd_groups;

        // Public endpoints, readable without credentials as the
        // system:public-info-viewer role allows.
        match segments.as_slice() {
            ["version"] => return (200, self.version()),
            ["healthz"] | ["livez"] | ["readyz"] => return (200, json!("ok")),
            _ => {}
        }
        let (user, rules) = match caller {
            Caller::Unauthenticated => return unauthorized(),
            Caller::Anonymous(rules) => (ANONYMOUS_USER, *rules),
            Caller::User(token) => (token.user.as_str(), token.rules.as_slice()),
        };
        if request.method.as_str() != "GET" {
            return status(405, "MethodNotAllowed", &format!("the mock API server serves only GET, not {}", request.method), json!({}));
        }

        let host = request
            .headers
            .get("host")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_string();
        let (group, version, rest) = match segments.as_slice() {
            ["api"] => return (200, resources::core_versions(&host)),
            ["apis"] => return (200, resources::group_list(installed)),
            ["apis", group] if is_installed(installed, group) => return (200, resources::group(group)),
            ["api", "v1"] => return (200, resources::resource_list("", "v1")),
            ["apis", group, "v1"] if is_installed(installed, group) => {
                return (200, resources::resource_list(group, "v1"))
            }
            ["api", "v1", rest @ ..] => ("", "v1", rest),
            ["apis", group, version, rest @ ..] if is_installed(installed, group) => (*group, *version, rest),
            _ => return page_not_found(),
        };
        let Some(object_request) = parse_object_path(group, version, rest) else {
            return page_not_found();
        };
        let query = Query::parse(request.url.query_pairs());
        if query.watch {
            return status(405, "MethodNotAllowed", "watch is not supported by the mock API server", json!({}));
        }
        let verb = if object_request.name.is_some() { "get" } else { "list" };
        if !allowed(rules, verb, &object_request) {
            return forbidden(user, verb, &object_request);
        }
        match object_request.name {
            Some(name) => self.get(&object_request, name),
            None => self.list(&object_request, &query),
        }
    }

    fn version(&self) -> Value {
        let git_version = &self.shared.scenario.version;
        let mut parts = git_version.trim_start_matches('v').split('.');
        let major = parts.next().unwrap_or("1");
        let minor = parts.next().unwrap_or("0");
        json!({
            "major": major,
            "minor": minor,
            "gitVersion": git_version,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.23.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        })
    }

    fn get(&self, request: &ObjectRequest<'_>, name: &str) -> (u16, Value) {
        match self.shared.store.get(request.resource, request.namespace, name) {
            Some(stored) => (200, stored.value.clone()),
            None => status(
                404,
                "NotFound",
                &format!("{} \"{name}\" not found", request.resource.qualified_plural()),
                details(request.resource, Some(name)),
            ),
        }
    }

    fn list(&self, request: &ObjectRequest<'_>, query: &Query) -> (u16, Value) {
        let labels = match Selector::parse(query.label_selector.as_deref().unwrap_or("")) {
            Ok(selector) => selector,
            Err(message) => return status(400, "BadRequest", &message, json!({})),
        };
        let fields = match Selector::parse(query.field_selector.as_deref().unwrap_or("")) {
            Ok(selector) => selector,
            Err(message) => return status(400, "BadRequest", &message, json!({})),
        };
        let resource = request.resource;
        let items: Vec<Value> = self
            .shared
            .store
            .list(resource, request.namespace)
            .filter(|stored| labels.matches(&objects::labels(stored)))
            .filter(|stored| fields.matches(&objects::selectable_fields(stored)))
            .map(|stored| {
                let mut item = stored.value.clone();
                // The API server leaves kind and apiVersion out of the items
                // of built-in lists, but keeps them for custom resources.
                if resource.group.is_empty() {
                    if let Some(object) = item.as_object_mut() {
                        object.remove("kind");
                        object.remove("apiVersion");
                    }
                }
                item
            })
            .collect();
        (
            200,
            json!({
                "kind": format!("{}List", resource.kind),
                "apiVersion": resource.api_version(),
                "metadata": {"resourceVersion": self.shared.store.resource_version()},
                "items": items,
            }),
        )
    }
}

fn is_installed(installed: &[String], group: &str) -> bool {
    installed.iter().any(|name| name == group)
}

/// Parses what follows `/api/v1` or `/apis/GROUP/VERSION`.
fn parse_object_path<'a>(group: &str, version: &str, rest: &[&'a str]) -> Option<ObjectRequest<'a>> {
    let (namespace, plural, name) = match rest {
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        ["namespaces", namespace, plural] => (Some(*namespace), *plural, None),
        ["namespaces", namespace, plural, name] => (Some(*namespace), *plural, Some(*name)),
        _ => return None,
    };
    let resource = resources::lookup(group, version, plural)?;
    // A cluster-scoped resource has no namespaced path, and a namespaced
    // one has no cluster-scoped get.
    if (namespace.is_some() && !resource.namespaced) || (resource.namespaced && namespace.is_none() && name.is_some()) {
        return None;
    }
    Some(ObjectRequest {
        resource,
        namespace,
        name,
    })
}

/// Query parameters the mock reads; `limit` and `continue` are accepted and
/// ignored, because every list fits in one page.
#[derive(Default)]
struct Query {
    label_selector: Option<String>,
    field_selector: Option<String>,
    watch: bool,
}

impl Query {
    fn parse<'a>(pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>) -> Query {
        let mut query = Query::default();
        for (key, value) in pairs {
            match key.as_ref() {
                "labelSelector" => query.label_selector = Some(value.into_owned()),
                "fieldSelector" => query.field_selector = Some(value.into_owned()),
                "watch" => query.watch = value == "true" || value == "1",
                _ => {}
            }
        }
        query
    }
}

fn allowed(rules: &[Rule], verb: &str, request: &ObjectRequest<'_>) -> bool {
    let matches = |list: &[String], value: &str| list.iter().any(|item| item == "*" || item == value);
    rules.iter().any(|rule| {
        matches(&rule.verbs, verb)
            && matches(&rule.api_groups, request.resource.group)
            && matches(&rule.resources, request.resource.plural)
            && (rule.namespaces.is_empty()
                || request
                    .namespace
                    .is_some_and(|namespace| rule.namespaces.iter().any(|n| n == namespace)))
            && (rule.resource_names.is_empty()
                || request
                    .name
                    .is_some_and(|name| rule.resource_names.iter().any(|n| n == name)))
    })
}

fn forbidden(user: &str, verb: &str, request: &ObjectRequest<'_>) -> (u16, Value) {
    let resource = request.resource;
    let subject = match request.name {
        Some(name) => format!("{} \"{name}\"", resource.qualified_plural()),
        None => resource.qualified_plural(),
    };
    let scope = match request.namespace {
        Some(namespace) => format!("in the namespace \"{namespace}\""),
        None => "at the cluster scope".to_string(),
    };
    let message = format!(
        "{subject} is forbidden: User \"{}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
        user, resource.plural, resource.group
    );
    status(403, "Forbidden", &message, details(resource, request.name))
}

fn details(resource: &ResourceType, name: Option<&str>) -> Value {
    let mut details = json!({"kind": resource.plural});
    if !resource.group.is_empty() {
        details["group"] = json!(resource.group);
    }
    if let Some(name) = name {
        details["name"] = json!(name);
    }
    details
}

fn unauthorized() -> (u16, Value) {
    status(401, "Unauthorized", "Unauthorized", Value::Null)
}

fn page_not_found() -> (u16, Value) {
    status(404, "NotFound", "the server could not find the requested resource", json!({}))
}

/// A `Status` object as the API server sends with every error.
fn status(code: u16, reason: &str, message: &str, details: Value) -> (u16, Value) {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if !details.is_null() {
        body["details"] = details;
    }
    (code, body)
}
