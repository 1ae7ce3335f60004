#!/usr/bin/env bash
# Runs `kubectl acme-token check -A` through the real kubectl against the
# mock Kubernetes API, with three issuers: a healthy Cloudflare token, a
# read-only Cloudflare token, and a Route53 key without route53:GetChange.
#
# Usage: bench/cluster_demo.sh
# Needs: cargo build --workspace --bins, and kubectl on PATH.
# Talks only to 127.0.0.1; the kubeconfig is generated and no other is read.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
bin=$(pwd)/${ACME_TOKEN_BIN_DIR:-target/debug}
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/scenario.yaml" <<'YAML'
cloudflare:
  zones: [{name: example.com}, {name: example.org}]
  tokens:
    - value: "HealthyT0kenABCDEFGHIJKLMNOPQRSTUVWXYZab"
      zones: all
      permissions: ["Zone:Read", "DNS:Edit"]
    - value: "ReadOnlyT0kenABCDEFGHIJKLMNOPQRSTUVWXYZa"
      zones: all
      permissions: ["Zone:Read", "DNS:Read"]
route53:
  zones: [{name: example.net}]
  users:
    - name: cert-manager
      access_key_id: AKIAIOSFODNN7EXAMPLE
      secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
      policy:
        - actions: [route53:ListHostedZonesByName, route53:ChangeResourceRecordSets]
kubernetes:
  anonymous:
    rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["get", "list"]}]
  objects:
    - apiVersion: cert-manager.io/v1
      kind: ClusterIssuer
      metadata: {name: letsencrypt-cloudflare}
      spec:
        acme:
          server: https://acme-v02.api.letsencrypt.org/directory
          privateKeySecretRef: {name: letsencrypt-cloudflare-account}
          solvers:
            - dns01:
                cloudflare:
                  apiTokenSecretRef: {name: cloudflare-api-token, key: api-token}
    - apiVersion: cert-manager.io/v1
      kind: Issuer
      metadata: {name: team-a, namespace: team-a}
      spec:
        acme:
          server: https://acme-v02.api.letsencrypt.org/directory
          privateKeySecretRef: {name: team-a-account}
          solvers:
            - dns01:
                cloudflare:
                  apiTokenSecretRef: {name: cloudflare-readonly, key: api-token}
    - apiVersion: cert-manager.io/v1
      kind: ClusterIssuer
      metadata: {name: letsencrypt-route53}
      spec:
        acme:
          server: https://acme-v02.api.letsencrypt.org/directory
          privateKeySecretRef: {name: letsencrypt-route53-account}
          solvers:
            - dns01:
                route53:
                  region: eu-west-1
                  accessKeyIDSecretRef: {name: route53-credentials, key: access-key-id}
                  secretAccessKeySecretRef: {name: route53-credentials, key: secret-access-key}
    - {apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: www, namespace: web},
       spec: {secretName: www-tls, dnsNames: [www.example.com], issuerRef: {kind: ClusterIssuer, name: letsencrypt-cloudflare}}}
    - {apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: app, namespace: team-a},
       spec: {secretName: app-tls, dnsNames: [app.example.org], issuerRef: {kind: Issuer, name: team-a}}}
    - {apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: shop, namespace: shop},
       spec: {secretName: shop-tls, dnsNames: [shop.example.net], issuerRef: {kind: ClusterIssuer, name: letsencrypt-route53}}}
    - {apiVersion: v1, kind: Secret, metadata: {name: cloudflare-api-token, namespace: cert-manager},
       stringData: {api-token: "HealthyT0kenABCDEFGHIJKLMNOPQRSTUVWXYZab"}}
    - {apiVersion: v1, kind: Secret, metadata: {name: cloudflare-readonly, namespace: team-a},
       stringData: {api-token: "ReadOnlyT0kenABCDEFGHIJKLMNOPQRSTUVWXYZa"}}
    - {apiVersion: v1, kind: Secret, metadata: {name: route53-credentials, namespace: cert-manager},
       stringData: {access-key-id: AKIAIOSFODNN7EXAMPLE, secret-access-key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}}
YAML

# shellcheck source=bench/lib.sh
. bench/lib.sh
start_mock "$work/scenario.yaml" "$work" "$bin"
mock_pid=$MOCK_PID
endpoint() { mock_endpoint "$1"; }

cat > "$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: mock, cluster: {server: "$(endpoint kubernetes)"}}]
users: [{name: mock, user: {}}]
contexts: [{name: mock, context: {cluster: mock, user: mock, namespace: default}}]
current-context: mock
KUBECONFIG
mkdir "$work/bin"
ln -s "$bin/kubectl-acme_token" "$work/bin/kubectl-acme_token"
export KUBECONFIG="$work/kubeconfig" PATH="$work/bin:$PATH"

echo "$ kubectl get clusterissuers,issuers,certificates -A"
kubectl get clusterissuers,issuers,certificates -A
echo
echo "$ kubectl acme-token check -A"
set +e
kubectl acme-token check -A \
    --endpoint "cloudflare=$(endpoint cloudflare)" \
    --endpoint "route53=$(endpoint route53)" --endpoint "sts=$(endpoint sts)" \
    --dns01-recursive-nameservers "$(endpoint dns)"
echo "(exit $?)"
