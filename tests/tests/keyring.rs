//! `keyring` commands and the `keyring:NAME` source against a real Secret
//! Service: GNOME Keyring in a private D-Bus session with a temporary HOME,
//! cross-checked with libsecret's `secret-tool`.

mod common;

use acme_token_tests::{require_peer, run_cli_async, run_cli_with, Run};
use common::{cluster_issuer, secret, Fixture, TOKEN, ZONES};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CANARY: &str = "CANARYcanary0123456789CANARYcanary012345";

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A private D-Bus session running an unlocked GNOME Keyring. Dropping it
/// closes the session, which stops the keyring daemon.
struct SecretService {
    session: Child,
    home: tempfile::TempDir,
    address: String,
}

impl SecretService {
    /// Starts the session, or returns `None` after printing `skipped: …`
    /// when the packages are missing (a failure under ACME_TOKEN_REQUIRE_PEERS=1).
    fn start() -> Option<Self> {
        let available = ["dbus-run-session", "gnome-keyring-daemon", "secret-tool", "dbus-send"]
            .iter()
            .all(|tool| installed(tool));
        if !require_peer(available, "GNOME Keyring (gnome-keyring, libsecret-tools, dbus-x11)") {
            return None;
        }
        let home = tempfile::tempdir().expect("temp HOME");
        let script = r#"printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS"
printf 'test-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
echo ready
exec cat >/dev/null"#;
        let mut session = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", script])
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-run-session");
        let mut lines = BufReader::new(session.stdout.take().unwrap()).lines();
        let address = lines.next().expect("bus address line").expect("read bus address");
        let ready = lines.next().expect("ready line").expect("read ready");
        assert_eq!(ready, "ready");
        Some(Self {
            session,
            home,
            address,
        })
    }

    fn env(&self) -> Vec<(String, String)> {
        let home = self.home.path();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("HOME".into(), home.display().to_string()),
            ("XDG_CONFIG_HOME".into(), home.join(".config").display().to_string()),
            ("XDG_DATA_HOME".into(), home.join(".local/share").display().to_string()),
        ]
    }

    fn cli(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_cli_with(args, &env, stdin)
    }

    /// Runs a tool such as `secret-tool` inside the session.
    fn tool(&self, program: &str, args: &[&str]) -> std::process::Output {
        Command::new(program)
            .args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("run {program}: {err}"))
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        drop(self.session.stdin.take());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.session.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.session.kill();
        let _ = self.session.wait();
    }
}

fn assert_no_canary(run: &Run, what: &str) {
    let output = run.all_output();
    assert!(!output.contains(CANARY), "{what}: the value leaked:\n{output}");
    assert!(!output.contains(&CANARY[4..24]), "{what}: part of the value leaked:\n{output}");
}

#[test]
fn keyring_round_trip() {
    let Some(service) = SecretService::start() else { return };

    let set = service.cli(&["keyring", "set", "cf-next"], Some(format!("{CANARY}\n").as_bytes()));
    assert_eq!(set.code, 0, "{}", set.all_output());
    assert_no_canary(&set, "set");
    assert!(set.stdout.contains("(40 bytes)"), "one trailing newline is removed: {}", set.stdout);

    // libsecret's own client finds the value under the service and account names.
    let lookup = service.tool("secret-tool", &["lookup", "service", "acme-token", "username", "cf-next"]);
    assert!(lookup.status.success(), "{}", String::from_utf8_lossy(&lookup.stderr));
    assert_eq!(lookup.stdout, CANARY.as_bytes());

    let get = service.cli(&["keyring", "get", "cf-next"], None);
    assert_eq!(get.code, 0, "{}", get.all_output());
    assert_no_canary(&get, "get");
    assert!(get.stdout.starts_with("cf-next: sha256:"), "{}", get.stdout);

    let list = service.cli(&["keyring", "list"], None);
    assert_eq!(list.stdout, "cf-next\n", "{}", list.all_output());
    let index = std::fs::read_to_string(service.home.path().join(".config/acme-token/keyring-names")).unwrap();
    assert!(!index.contains(CANARY), "{index}");

    let delete = service.cli(&["keyring", "delete", "cf-next"], None);
    assert_eq!(delete.code, 0, "{}", delete.all_output());
    assert_eq!(service.cli(&["keyring", "list"], None).stdout, "");
    let gone = service.cli(&["keyring", "get", "cf-next"], None);
    assert_eq!(gone.code, 2, "{}", gone.all_output());
    assert!(gone.stderr.contains("no keyring entry named 'cf-next'"), "{}", gone.stderr);
}

#[test]
fn keyring_rejects_bad_input() {
    let Some(service) = SecretService::start() else { return };
    let empty = service.cli(&["keyring", "set", "empty"], Some(b"\n"));
    assert_eq!(empty.code, 2, "{}", empty.all_output());
    assert!(empty.stderr.contains("is empty"), "{}", empty.stderr);
    let bad_name = service.cli(&["keyring", "set", "a/b"], Some(b"x"));
    assert_eq!(bad_name.code, 2, "{}", bad_name.all_output());
    assert!(bad_name.stderr.contains("invalid keyring entry name"), "{}", bad_name.stderr);
}

#[test]
fn locked_keyring_exits_two() {
    let Some(service) = SecretService::start() else { return };
    let set = service.cli(&["keyring", "set", "locked"], Some(CANARY.as_bytes()));
    assert_eq!(set.code, 0, "{}", set.all_output());
    let lock = service.tool(
        "dbus-send",
        &[
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ],
    );
    assert!(lock.status.success(), "{}", String::from_utf8_lossy(&lock.stderr));
    let get = service.cli(&["keyring", "get", "locked"], None);
    assert_eq!(get.code, 2, "{}", get.all_output());
    assert!(get.stderr.contains("locked or not available"), "{}", get.stderr);
    assert_no_canary(&get, "locked get");
}

#[test]
fn missing_keyring_exits_two() {
    let home = tempfile::tempdir().unwrap();
    let bus = format!("unix:path={}", home.path().join("no-bus").display());
    let home_text = home.path().display().to_string();
    let env = [("DBUS_SESSION_BUS_ADDRESS", bus.as_str()), ("HOME", home_text.as_str())];
    let get = run_cli_with(&["keyring", "get", "cf-next"], &env, None);
    assert_eq!(get.code, 2, "{}", get.all_output());
    assert!(get.stderr.contains("locked or not available"), "{}", get.stderr);
    let check = run_cli_with(
        &["check", "cloudflare", "--credential", "keyring:cf-next", "--domain", "example.com"],
        &env,
        None,
    );
    assert_eq!(check.code, 2, "{}", check.all_output());
    assert!(check.stderr.contains("locked or not available"), "{}", check.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn keyring_candidate_for_revoked_issuer() {
    let Some(service) = SecretService::start() else { return };
    let set = service.cli(&["keyring", "set", "cf-next"], Some(CANARY.as_bytes()));
    assert_eq!(set.code, 0, "{}", set.all_output());

    let scenario = format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{TOKEN}\"\n      owner: user\n      status: active\n      revoked: true\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n    - value: \"{CANARY}\"\n      owner: user\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n"
    );
    let manifests = cluster_issuer("cf", "apiTokenSecretRef:\n  name: cf\n  key: api-token", "www.example.com")
        + &secret("cert-manager", "cf", "api-token", TOKEN);
    let fixture = Fixture::new(&scenario, &manifests).await;
    let args: Vec<String> = [
        "check",
        "-f",
        fixture.manifests().to_str().unwrap(),
        "--cluster-issuer",
        "cf",
        "--candidate",
        "keyring:cf-next",
        "--endpoint",
        &format!("cloudflare={}", fixture.cloudflare_url()),
        "-o",
        "json",
        "-vvv",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_cli_async(args, service.env()).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_no_canary(&run, "keyring candidate");
    let report = run.json();
    assert_eq!(report["rotation"][0]["outcome"], "stale", "{report:#}");
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks[0]["role"], "in-cluster");
    assert_eq!(checks[0]["findings"][0]["reason"], "StaleCredential");
    assert_eq!(checks[1]["role"], "candidate");
    assert_eq!(checks[1]["verdict"], "OK");
    assert_eq!(checks[1]["context"]["candidate"], "keyring:cf-next");
}
