//! Bad input gets exit code 2 and one clear message naming the file, never
//! a panic, and in bounded time and memory.

use acme_token_tests::{run_cli, run_cli_with, Run};
use std::io::Write;
use std::time::{Duration, Instant};

fn check_file(contents: &[u8]) -> (Run, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.yaml");
    std::fs::write(&path, contents).unwrap();
    let started = Instant::now();
    let run = run_cli(&["check", "--offline", "-f", path.to_str().unwrap()]);
    (run, started.elapsed())
}

fn assert_clear_error(run: &Run, expected: &str) {
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("input.yaml"), "no file name in: {}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains(expected),
        "expected '{expected}' in: {}",
        run.stderr
    );
    let lines = run.stderr.trim().lines().count();
    assert!(lines <= 3, "expected one clear message, got {lines} lines:\n{}", run.stderr);
}

#[test]
fn malformed_yaml() {
    let (run, _) = check_file(b"apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: [unclosed\n");
    assert_clear_error(&run, "input.yaml:4");
}

#[test]
fn binary_garbage() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let (run, _) = check_file(&garbage);
    assert_clear_error(&run, "input.yaml");
}

#[test]
fn alias_bomb_fails_fast() {
    let mut bomb = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let mut previous = 'a';
    for name in 'b'..='j' {
        bomb.push_str(&format!(
            "{name}: &{name} [*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous}]\n"
        ));
        previous = name;
    }
    let (run, elapsed) = check_file(bomb.as_bytes());
    assert_clear_error(&run, "input.yaml");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn huge_file_is_rejected_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.yaml");
    let mut file = std::fs::File::create(&path).unwrap();
    let line = b"# padding padding padding padding padding padding padding padding\n";
    for _ in 0..(50 * 1024 * 1024 / line.len()) {
        file.write_all(line).unwrap();
    }
    drop(file);
    let started = Instant::now();
    let run = run_cli(&["check", "--offline", "-f", path.to_str().unwrap()]);
    assert_clear_error(&run, "input.yaml");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn wrong_types_in_known_fields() {
    let cases: &[&str] = &[
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: x\nspec:\n  acme:\n    solvers: \"abc\"\n",
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: x\n  namespace: d\nspec:\n  dnsNames: 5\n  issuerRef:\n    name: y\n",
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: [1, 2]\n",
    ];
    for case in cases {
        let (run, _) = check_file(case.as_bytes());
        assert_clear_error(&run, "input.yaml");
    }
}

#[test]
fn missing_file_is_named() {
    let run = run_cli(&["check", "--offline", "-f", "/nonexistent/acme-token/input.yaml"]);
    assert_clear_error(&run, "input.yaml");
}

#[test]
fn unknown_flag_exits_2() {
    let run = run_cli(&["check", "--no-such-flag"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
}

#[test]
fn nothing_to_check_exits_2() {
    let run = run_cli(&["check"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("-f"), "{}", run.stderr);
}

#[test]
fn stdin_manifests_are_read() {
    let manifest = b"apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: from-stdin\nspec:\n  acme:\n    solvers:\n      - dns01:\n          cloudflare:\n            apiTokenSecretRef:\n              name: cf\n              key: token\n";
    let run = run_cli_with(&["check", "--offline", "-f", "-", "-o", "json"], &[], Some(manifest));
    assert_ne!(run.code, 2, "{}", run.all_output());
    assert!(run.stdout.contains("from-stdin"), "{}", run.stdout);
}

#[test]
fn issuer_filter_matching_nothing_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.yaml");
    std::fs::write(
        &path,
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: real\nspec:\n  acme:\n    solvers: []\n",
    )
    .unwrap();
    let run = run_cli(&["check", "--offline", "-f", path.to_str().unwrap(), "--cluster-issuer", "typo"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stdout.contains("no ClusterIssuer named typo"), "{}", run.stdout);
    assert!(run.stdout.contains("the input has the ClusterIssuers real"), "{}", run.stdout);
}

#[test]
fn input_without_issuers_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_cli(&["check", "--offline", "-f", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("no Issuer or ClusterIssuer"), "{}", run.stderr);
}

#[test]
fn zero_timeout_is_rejected() {
    let run = run_cli(&["check", "--offline", "-f", "x.yaml", "--timeout", "0s"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("timeout"), "{}", run.stderr);
}
