"""Creates and deletes one TXT record with dns-lexicon's Cloudflare provider,
the way a user scripts a DNS-01 challenge by hand, against a local mock.

Usage: python3 bench/lexicon_probe.py BASE_URL DOMAIN
The API token comes from the CF_BENCH_TOKEN environment variable.

lexicon's Cloudflare provider hard-codes https://api.cloudflare.com/client/v4
as its endpoint, so this driver builds the provider itself and points it at
BASE_URL before the first request. lexicon's client guesses the zone with
tldextract, which downloads the public suffix list by default; the driver
makes the same guess with the suffix list bundled in tldextract, so nothing
leaves the machine.
"""

import os
import secrets
import sys

import tldextract
from lexicon._private.providers.cloudflare import Provider
from lexicon.config import ConfigResolver


def main() -> None:
    base_url, domain = sys.argv[1], sys.argv[2]
    fqdn = f"_acme-challenge.{domain}"
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
    parts = extract(domain)
    zone = f"{parts.domain}.{parts.suffix}"

    config = ConfigResolver().with_dict(
        {
            "provider_name": "cloudflare",
            "domain": zone,
            "ttl": 120,
            "cloudflare": {"auth_token": os.environ["CF_BENCH_TOKEN"]},
        }
    )
    provider = Provider(config)
    provider.api_endpoint = base_url.rstrip("/")
    provider.authenticate()
    value = "lexicon-bench-" + secrets.token_urlsafe(21)
    provider.create_record("TXT", fqdn, value)
    provider.delete_record(None, "TXT", fqdn, value)


if __name__ == "__main__":
    main()
