"""obslink: accept endpoint connections of ALLOWED accounts and of accounts
under OUS (read via ORG_ROLE) but not EXCLUDED, reject the rest; if the
organization cannot be read, reject EXCLUDED only. On Connect, each 15 min, deploys."""
import json
import os
import urllib.request

import boto3
from botocore.config import Config

OPEN = {"pendingacceptance", "pending", "available"}
CFG = Config(retries={"mode": "adaptive", "max_attempts": 10})


def client(name, **kw):
    return boto3.client(name, endpoint_url=os.environ.get("OBSLINK_ENDPOINT") or None, config=CFG, **kw)


def members(ous, orgs=None):
    try:
        if not orgs:
            c = client("sts").assume_role(RoleArn=os.environ["ORG_ROLE"], RoleSessionName="obslink-admit")["Credentials"]
            orgs = client("organizations", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                          aws_session_token=c["SessionToken"])
        out, todo = set(), list(ous)
        while todo:
            ou = todo.pop()
            for p in orgs.get_paginator("list_accounts_for_parent").paginate(ParentId=ou):
                out |= {a["Id"] for a in p["Accounts"]}
            for p in orgs.get_paginator("list_organizational_units_for_parent").paginate(ParentId=ou):
                todo += [o["Id"] for o in p["OrganizationalUnits"]]
        return out
    except Exception as e:
        print(json.dumps({"organizations": "%s: %s" % (type(e).__name__, e)}))
        return None


def reconcile(service, allowed, ous, excluded=frozenset(), ec2=None, orgs=None):
    ec2 = ec2 or client("ec2")
    conns = []
    for p in ec2.get_paginator("describe_vpc_endpoint_connections").paginate(
            Filters=[{"Name": "service-id", "Values": [service]}]):
        conns += p["VpcEndpointConnections"]
    known = members(ous, orgs) if ous else set()
    accept, reject = [], []
    for c in conns:
        state, owner = (c.get("VpcEndpointState") or "").lower(), c.get("VpcEndpointOwner")
        if state not in OPEN:
            continue
        if owner in excluded:
            reject.append(c["VpcEndpointId"])
        elif owner in allowed or (known is not None and owner in known):
            if state == "pendingacceptance":
                accept.append(c["VpcEndpointId"])
        elif known is not None:
            reject.append(c["VpcEndpointId"])
    bad = []
    for call, ids in ((ec2.accept_vpc_endpoint_connections, accept), (ec2.reject_vpc_endpoint_connections, reject)):
        ids.sort()
        for i in range(0, len(ids), 100):
            bad += call(ServiceId=service, VpcEndpointIds=ids[i:i + 100]).get("Unsuccessful", [])
    if bad:
        print(json.dumps({"unsuccessful": bad}, default=str))
    return accept, reject


def settings(p):
    return (p["ServiceId"], set(p.get("AllowedAccounts") or []), set(p.get("OrganizationalUnitIds") or []),
            set(p.get("ExcludedAccounts") or []))


def handler(event, context, **kw):
    if "RequestType" not in event:  # SNS or schedule
        e = os.environ
        a, r = reconcile(e["SERVICE_ID"], *[set(filter(None, e.get(k, "").split(","))) for k in ("ALLOWED", "OUS", "EXCLUDED")], **kw)
        print(json.dumps({"accepted": a, "rejected": r}))
        return r
    props, status, reason, data = event.get("ResourceProperties", {}), "SUCCESS", "", {}
    try:
        if event["RequestType"] != "Delete":
            a, r = reconcile(*settings(props), **kw)
            data = {"Accepted": ",".join(a), "Rejected": ",".join(r)}
    except Exception as e:  # CloudFormation rolls back
        status, reason = "FAILED", "%s: %s" % (type(e).__name__, e)
    body = dict(Status=status, Reason=reason or "see logs", PhysicalResourceId=props.get("ServiceId", "none"),
                Data=data, **{k: event[k] for k in ("StackId", "RequestId", "LogicalResourceId")})
    urllib.request.urlopen(urllib.request.Request(event["ResponseURL"], json.dumps(body).encode(), {"Content-Type": ""},
                                                  method="PUT"), timeout=30).read()
    return body
