"""Drive the acme-token Cloudflare mock with the official Cloudflare Python SDK.

Usage: cloudflare_sdk_check.py BASE_URL TOKEN [EMAIL GLOBAL_KEY]

The mock must serve the scenario written by tests/cloudflare_sdk.rs: zone
example.com with six TXT records at _acme-challenge.example.com. The script
verifies the token, lists the zone by name, creates a TXT record, lists the
records by name and deletes the record. The record list uses auto-pagination
with five records per page, so the SDK reads pages 1 to 3 and stops on the
empty third page. Any mismatch prints a message and exits with status 1.

Exit status 3 means the `cloudflare` package is not installed.
"""

import sys

try:
    import cloudflare
    from cloudflare import Cloudflare
except ImportError:
    print("skipped: python package cloudflare not installed")
    sys.exit(3)

import httpx

ZONE = "example.com"
CHALLENGE = "_acme-challenge.example.com"
PROBE = "sdk-probe-value"
SEEDED_RECORDS = 6

failures = []


def check(condition, message):
    """Record a failed expectation without stopping, so one run reports every mismatch."""
    if condition:
        print(f"ok: {message}")
    else:
        print(f"FAILED: {message}")
        failures.append(message)


def is_hex_id(value):
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def make_client(sent, **credentials):
    """A client that records every request it sends and never reads proxy settings from the environment."""
    http_client = httpx.Client(trust_env=False, event_hooks={"request": [sent.append]})
    return Cloudflare(base_url=BASE_URL, max_retries=0, http_client=http_client, **credentials)


def check_token_flow(token):
    sent = []
    client = make_client(sent, api_token=token)

    verified = client.user.tokens.verify()
    check(verified.status == "active", f"verify reports status active (got {verified.status!r})")
    check(is_hex_id(verified.id), f"verify returns a 32-hex token id (got {verified.id!r})")

    zones = list(client.zones.list(name=ZONE))
    check(len(zones) == 1, f"zones.list(name={ZONE}) finds one zone (got {len(zones)})")
    if not zones:
        return
    zone = zones[0]
    check(zone.name == ZONE, f"zone name is {ZONE} (got {zone.name!r})")
    check(is_hex_id(zone.id), f"zone id is 32 hex (got {zone.id!r})")
    check(zone.account is not None and is_hex_id(zone.account.id), "zone carries its account id")
    check(zone.status == "active", f"zone status is active (got {zone.status!r})")
    zone_pages = [request.url for request in sent if request.url.path.endswith("/zones")]
    check(
        any(url.params.get("page") == "2" for url in zone_pages),
        "zone auto-pagination asked for page 2 and stopped on the empty page",
    )

    created = client.dns.records.create(zone_id=zone.id, type="TXT", name=CHALLENGE, content=PROBE, ttl=120)
    check(is_hex_id(created.id), f"created record has a 32-hex id (got {created.id!r})")
    check(created.name == CHALLENGE, f"created record name is {CHALLENGE} (got {created.name!r})")
    check(created.content == PROBE, f"created record content round-trips (got {created.content!r})")
    check(created.ttl == 120, f"created record ttl is 120 (got {created.ttl!r})")
    check(created.type == "TXT", f"created record type is TXT (got {created.type!r})")

    try:
        client.dns.records.create(zone_id=zone.id, type="TXT", name=CHALLENGE, content=PROBE, ttl=120)
        check(False, "duplicate create raises BadRequestError")
    except cloudflare.BadRequestError as error:
        check(error.status_code == 400, "duplicate create raises BadRequestError with status 400")
        codes = [item.get("code") for item in (error.body or {}).get("errors", [])] if isinstance(error.body, dict) else []
        check(81058 in codes, f"duplicate create carries code 81058 (got {codes})")

    sent.clear()
    listed = list(client.dns.records.list(zone_id=zone.id, type="TXT", name={"exact": CHALLENGE}, per_page=5))
    contents = [record.content for record in listed]
    check(len(listed) == SEEDED_RECORDS + 1, f"auto-pagination returns all {SEEDED_RECORDS + 1} records (got {len(listed)})")
    check(PROBE in contents, "the created record is listed")
    pages = [request.url.params.get("page") for request in sent]
    check(pages == [None, "2", "3"], f"record pages requested: first, 2, then empty 3 (got {pages})")
    check(all(request.url.params.get("name.exact") == CHALLENGE for request in sent), "the SDK filters by name.exact")

    deleted = client.dns.records.delete(dns_record_id=created.id, zone_id=zone.id)
    check(deleted is not None and deleted.id == created.id, "delete returns the record id")

    remaining = list(client.dns.records.list(zone_id=zone.id, type="TXT", name={"exact": CHALLENGE}, per_page=5))
    check(PROBE not in [record.content for record in remaining], "the deleted record is gone")
    check(len(remaining) == SEEDED_RECORDS, f"the seeded records remain (got {len(remaining)})")

    try:
        client.dns.records.delete(dns_record_id=created.id, zone_id=zone.id)
        check(False, "deleting twice raises NotFoundError")
    except cloudflare.NotFoundError as error:
        check(error.status_code == 404, "deleting twice raises NotFoundError with status 404")


def check_rejections():
    sent = []
    unknown = make_client(sent, api_token="cf-never-issued-0000000000000000000000000")
    try:
        unknown.user.tokens.verify()
        check(False, "an unknown token raises AuthenticationError")
    except cloudflare.AuthenticationError as error:
        check(error.status_code == 401, "an unknown token raises AuthenticationError with status 401")


def check_global_key(email, key):
    sent = []
    client = make_client(sent, api_email=email, api_key=key)
    zones = list(client.zones.list(name=ZONE))
    check(len(zones) == 1, f"global key lists zone {ZONE} (got {len(zones)})")
    check(
        bool(sent) and all("x-auth-key" in request.headers and "authorization" not in request.headers for request in sent),
        "the SDK sent X-Auth-Key and no Authorization header",
    )


if __name__ == "__main__":
    if len(sys.argv) not in (3, 5):
        print(__doc__)
        sys.exit(2)
    BASE_URL = sys.argv[1]
    print(f"cloudflare SDK {cloudflare.__version__} against {BASE_URL}")
    check_token_flow(sys.argv[2])
    check_rejections()
    if len(sys.argv) == 5:
        check_global_key(sys.argv[3], sys.argv[4])
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")
