#!/usr/bin/env bash
# Rotation and cleanup walkthrough on the mock, loopback only:
#
#   1. a candidate token kept in the OS keyring (GNOME Keyring's Secret
#      Service in a private D-Bus session) is checked for a Cloudflare
#      ClusterIssuer whose in-cluster token was revoked: StaleCredential on
#      the in-cluster credential, the candidate passes, exit 0;
#   2. a check is killed with SIGKILL while its probe record exists, and
#      `cleanup --dry-run` lists exactly that one leftover. `cleanup` then
#      deletes it and leaves the in-flight challenge and a look-alike alone.
#
# Needs: cargo build --workspace --bins, and the Debian packages
# gnome-keyring, dbus-x11 (or dbus-bin), libsecret-tools.
# Usage: bench/rotation_demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/debug/kubectl-acme_token}
MOCK=${MOCK:-target/debug/acme-token-mock}
for binary in "$BIN" "$MOCK"; do
    [[ -x $binary ]] || { echo "missing $binary: run cargo build --workspace --bins" >&2; exit 2; }
done

# Re-run inside a private D-Bus session with an unlocked GNOME Keyring and a
# temporary HOME, so the user's own keyring is never touched.
if [[ -z ${ROTATION_DEMO_INNER:-} ]]; then
    for tool in dbus-run-session gnome-keyring-daemon; do
        command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install gnome-keyring dbus-x11" >&2; exit 2; }
    done
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # dbus-daemon warns that it cannot raise its file limit when not root;
    # that line is dropped.
    HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
        ROTATION_DEMO_INNER="$work" dbus-run-session -- "$0" 2> >(grep -v 'Failed to set fd limit' >&2)
    exit $?
fi

work=$ROTATION_DEMO_INNER
mkdir -p "$HOME"
printf 'demo-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null

OLD_TOKEN=DemoOldToken0000000000000000000000000001
NEW_TOKEN=DemoNewToken0000000000000000000000000002
LOOKALIKE=acme-token-probe-looks.like-a-probe-value-x

cat >"$work/scenario.yaml" <<EOF
cloudflare:
  accounts:
    - {id: 01a7362d577a6c3019a474fd6f485823, name: Example Org}
  zones:
    - name: example.com
      records:
        - {type: TXT, name: _acme-challenge.www.example.com, content: in-flight-challenge-value-000000000000000000, ttl: 120}
        - {type: TXT, name: _acme-challenge.api.example.com, content: "$LOOKALIKE", ttl: 120}
  tokens:
    - {value: "$OLD_TOKEN", owner: user, status: active, revoked: true, permissions: ["Zone:Read", "DNS:Edit"], zones: all}
    - {value: "$NEW_TOKEN", owner: user, status: active, permissions: ["Zone:Read", "DNS:Edit"], zones: all}
  faults:
    # The second create (the run killed below) is applied at once, but its
    # response is delayed by 20 s, so the process dies holding a probe record.
    - {step: create, nth: 2, action: {delay: 20000}}
EOF

cat >"$work/manifests.yaml" <<EOF
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-prod
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef: {name: letsencrypt-prod-account}
    solvers:
      - dns01:
          cloudflare:
            apiTokenSecretRef: {name: cloudflare-api-token, key: api-token}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: www, namespace: default}
spec:
  secretName: www-tls
  dnsNames: [www.example.com]
  issuerRef: {kind: ClusterIssuer, name: letsencrypt-prod}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: cloudflare-api-token, namespace: cert-manager}
spec:
  refreshInterval: 1h
  secretStoreRef: {kind: ClusterSecretStore, name: vault}
  target: {name: cloudflare-api-token}
  data:
    - secretKey: api-token
      remoteRef: {key: dns/cloudflare}
---
apiVersion: v1
kind: Secret
metadata: {name: cloudflare-api-token, namespace: cert-manager}
type: Opaque
stringData:
  api-token: "$OLD_TOKEN"
EOF

# The mock prints "cloudflare URL", then "ready", and exits when its stdin closes.
coproc MOCK_PROC { "$MOCK" --scenario "$work/scenario.yaml" 2>"$work/mock.log"; }
exec 3>&"${MOCK_PROC[1]}"
read -r _ URL <&"${MOCK_PROC[0]}"
read -r _ready <&"${MOCK_PROC[0]}"
ENDPOINT=(--endpoint "cloudflare=$URL")

run() {
    echo "\$ kubectl acme-token $*"
    set +e
    "$BIN" "$@"
    local code=$?
    set -e
    echo "(exit $code)"
    echo
    return 0
}

echo "=== 1. keep the candidate in the OS keyring"
echo "\$ printf %s \"\$NEW_TOKEN\" | kubectl acme-token keyring set cf-next"
printf %s "$NEW_TOKEN" | "$BIN" keyring set cf-next
run keyring list
echo "\$ secret-tool lookup service acme-token username cf-next | wc -c   # the value is in GNOME Keyring"
secret-tool lookup service acme-token username cf-next | wc -c
echo

echo "=== 2. check the candidate for the issuer whose in-cluster token was revoked"
run check -f "$work/manifests.yaml" --cluster-issuer letsencrypt-prod --candidate keyring:cf-next "${ENDPOINT[@]}"

echo "=== 3. kill a check with SIGKILL while its probe record exists"
"$BIN" check cloudflare --credential keyring:cf-next --domain www.example.com "${ENDPOINT[@]}" >/dev/null 2>&1 &
victim=$!
for _ in $(seq 100); do
    found=$("$BIN" cleanup -f "$work/manifests.yaml" --credential keyring:cf-next --dry-run -o json "${ENDPOINT[@]}" 2>/dev/null \
        | sed -n 's/.*"found": \([0-9]*\).*/\1/p')
    [[ ${found:-0} -ge 1 ]] && break
    sleep 0.1
done
kill -KILL "$victim"
{ wait "$victim"; } 2>/dev/null || true
echo "check (pid $victim) killed with SIGKILL while its create was in flight"
echo

echo "=== 4. find and remove the leftover"
run cleanup -f "$work/manifests.yaml" --credential keyring:cf-next --dry-run "${ENDPOINT[@]}"
run cleanup -f "$work/manifests.yaml" --credential keyring:cf-next "${ENDPOINT[@]}"
run cleanup -f "$work/manifests.yaml" --credential keyring:cf-next --dry-run "${ENDPOINT[@]}"

echo "=== 5. TXT records left in example.com (the in-flight challenge and the look-alike)"
zone_id=$(curl -s -H "Authorization: Bearer $NEW_TOKEN" "$URL/zones?name=example.com" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["result"][0]["id"])')
curl -s -H "Authorization: Bearer $NEW_TOKEN" "$URL/zones/$zone_id/dns_records?type=TXT" \
    | python3 -c 'import json, sys; [print(r["name"], r["content"]) for r in json.load(sys.stdin)["result"]]'

"$BIN" keyring delete cf-next >/dev/null
exec 3>&-
