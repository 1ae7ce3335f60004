#!/usr/bin/env bash
# Runs `check -f` on a ClusterIssuer with Route53 static keys and a
# Certificate, first against the acme-token mock, then against moto in
# server mode (an independent Route53/STS implementation), and prints both
# reports with every stage. The SOA walk asks the mock's DNS server in both
# runs, since moto serves no DNS.
#
# Usage: bench/route53_demo.sh
# Needs: cargo build --workspace --bins, and pip install "moto[server]" boto3.
# Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
bin=${ACME_TOKEN_BIN_DIR:-target/debug}

key_id="AKIAIOSFODNN7EXAMPLE"
secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
work=$(mktemp -d)
trap 'kill "${mock_pid:-}" "${moto_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/manifests.yaml" <<YAML
apiVersion: cert-manager.io/v1
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
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: www, namespace: web}
spec:
  secretName: www-tls
  dnsNames: [www.example.com]
  issuerRef: {kind: ClusterIssuer, name: letsencrypt-route53}
---
apiVersion: v1
kind: Secret
metadata: {name: route53-credentials, namespace: cert-manager}
stringData:
  access-key-id: $key_id
  secret-access-key: $secret
YAML

cat > "$work/scenario.yaml" <<YAML
route53:
  zones:
    - name: example.com
  users:
    - name: cert-manager
      access_key_id: $key_id
      secret_access_key: $secret
      policy:
        - actions: ["route53:GetChange", "route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListHostedZonesByName"]
YAML

# shellcheck source=bench/lib.sh
. bench/lib.sh
start_mock "$work/scenario.yaml" "$work" "$bin"
mock_pid=$MOCK_PID
url=$(mock_endpoint route53)
dns=$(mock_endpoint dns)

echo "=== against the acme-token mock"
set +e
"$bin/kubectl-acme_token" check -f "$work/manifests.yaml" -o wide \
    --endpoint "route53=$url" --endpoint "sts=$url" --dns01-recursive-nameservers "$dns"
echo "(exit $?)"
set -e

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" > /dev/null 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
done
python3 - "http://127.0.0.1:$port" <<'PY'
import sys, boto3
r53 = boto3.client("route53", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAMOTOSETUP0000001", aws_secret_access_key="moto-setup")
r53.create_hosted_zone(Name="example.com", CallerReference="acme-token-demo")
PY

echo
echo "=== against moto_server $(python3 -c 'import moto; print(moto.__version__)')"
set +e
"$bin/kubectl-acme_token" check -f "$work/manifests.yaml" -o wide \
    --endpoint "route53=http://127.0.0.1:$port" --endpoint "sts=http://127.0.0.1:$port" \
    --dns01-recursive-nameservers "$dns"
echo "(exit $?)"
