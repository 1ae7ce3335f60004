"""boto3 against the Route53/STS mock: the calls cert-manager's solver and
acme-token make, with every response parsed by botocore.

Usage: route53_boto3_check.py URL KEY_ID SECRET DENIED_KEY_ID DENIED_SECRET
Prints one line per check and exits non-zero on the first mismatch.
"""
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

url, key_id, secret, denied_id, denied_secret = sys.argv[1:6]
config = Config(retries={"max_attempts": 1})


def client(service, key=key_id, secret_key=secret, token=None):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret_key,
        aws_session_token=token,
        config=config,
    )


def expect(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)
    print(f"ok: {message}")


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


sts = client("sts")
identity = sts.get_caller_identity()
expect(identity["Account"] == "123456789012", "GetCallerIdentity names the account")
expect(identity["Arn"].endswith(":user/dns"), "GetCallerIdentity names the user")

assumed = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/dns-role", RoleSessionName="cert-manager")
creds = assumed["Credentials"]
expect(creds["AccessKeyId"].startswith("ASIA"), "AssumeRole returns temporary credentials")
expect(hasattr(creds["Expiration"], "year"), "AssumeRole expiration parses as a timestamp")
expect(assumed["AssumedRoleUser"]["Arn"].endswith("assumed-role/dns-role/cert-manager"), "AssumeRole names the session")
role_sts = client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
expect(role_sts.get_caller_identity()["Arn"].endswith("assumed-role/dns-role/cert-manager"), "the session signs requests")

r53 = client("route53")
zones = r53.list_hosted_zones_by_name(DNSName="example.com")
public = [z for z in zones["HostedZones"] if not z["Config"]["PrivateZone"] and z["Name"] == "example.com."]
expect(len(public) == 1, "ListHostedZonesByName lists the public zone")
expect(zones["IsTruncated"] is False, "ListHostedZonesByName parses IsTruncated")
zone_id = public[0]["Id"].split("/")[-1]
zone = r53.get_hosted_zone(Id=zone_id)
expect(len(zone["DelegationSet"]["NameServers"]) >= 1, "GetHostedZone returns a delegation set")

value = '"acme-token-probe-boto3-check-000000000000000"'
record = {
    "Name": "_acme-challenge.example.com.",
    "Type": "TXT",
    "TTL": 10,
    "MultiValueAnswer": True,
    "SetIdentifier": value,
    "ResourceRecords": [{"Value": value}],
}
change = r53.change_resource_record_sets(
    HostedZoneId=zone_id,
    ChangeBatch={"Comment": "boto3 check", "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]},
)
expect(change["ChangeInfo"]["Status"] == "PENDING", "UPSERT answers PENDING")
change_id = change["ChangeInfo"]["Id"]
status = r53.get_change(Id=change_id)["ChangeInfo"]["Status"]
deadline = time.time() + 10
while status != "INSYNC" and time.time() < deadline:
    time.sleep(0.2)
    status = r53.get_change(Id=change_id)["ChangeInfo"]["Status"]
expect(status == "INSYNC", "GetChange turns INSYNC")

sets = r53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName="_acme-challenge.example.com", StartRecordType="TXT")
mine = [s for s in sets["ResourceRecordSets"] if s.get("SetIdentifier") == value]
expect(len(mine) == 1 and mine[0]["TTL"] == 10 and mine[0]["MultiValueAnswer"], "ListResourceRecordSets shows the record set")

# Several multivalue sets at one name: botocore's paginator resumes each
# page at NextRecordName, NextRecordType and NextRecordIdentifier, so every
# set is listed exactly once even when a page ends inside that name.
siblings = []
for index in range(5):
    sibling = dict(record, SetIdentifier=f'"sibling-{index}"', ResourceRecords=[{"Value": f'"sibling-{index}"'}])
    siblings.append(sibling)
r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": s} for s in siblings]})
pages = r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id, PaginationConfig={"PageSize": 2})
listed = [(s["Name"], s["Type"], s.get("SetIdentifier")) for page in pages for s in page["ResourceRecordSets"]]
expect(len(listed) == len(set(listed)), "paging with NextRecordIdentifier lists no set twice")
expect(sum(1 for (_, _, ident) in listed if ident and ident.startswith('"sibling-')) == 5, "paging with NextRecordIdentifier lists every set")
r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": s} for s in siblings]})

r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]})
code, status = error_code(lambda: r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]}))
expect((code, status) == ("InvalidChangeBatch", 400), "a second DELETE is InvalidChangeBatch")
code, status = error_code(lambda: r53.get_hosted_zone(Id="ZNOSUCHZONE"))
expect((code, status) == ("NoSuchHostedZone", 404), "an unknown zone is NoSuchHostedZone")
code, status = error_code(lambda: r53.get_change(Id="CNOSUCHCHANGE"))
expect((code, status) == ("NoSuchChange", 404), "an unknown change is NoSuchChange")

denied = client("route53", denied_id, denied_secret)
code, status = error_code(lambda: denied.list_hosted_zones_by_name(DNSName="example.com"))
expect((code, status) == ("AccessDenied", 403), "a missing permission is AccessDenied")
code, status = error_code(lambda: client("sts", key_id, "wrong-secret").get_caller_identity())
expect((code, status) == ("SignatureDoesNotMatch", 403), "a wrong secret is SignatureDoesNotMatch")
code, status = error_code(lambda: client("sts", "AKIANOSUCHKEY0000000", secret).get_caller_identity())
expect((code, status) == ("InvalidClientTokenId", 403), "an unknown key is InvalidClientTokenId")
print("boto3 check passed")
