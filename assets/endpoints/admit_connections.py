"""obslink: accept endpoint connections of named accounts (ALLOWED) and of
accounts under OUS (Organizations, via ORG_ROLE); reject the rest. Runs on
Connect notifications (SNS) and deploys (custom resource; Delete: no-op)."""
import json
import os
import urllib.request

import boto3

OPEN = {"pendingacceptance", "pending", "available"}


def client(name, **kw):
    return boto3.client(name, endpoint_url=os.environ.get("OBSLINK_ENDPOINT") or None, **kw)


def org():
    c = client("sts").assume_role(RoleArn=os.environ["ORG_ROLE"], RoleSessionName="obslink-admit")["Credentials"]
    return client("organizations", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                  aws_session_token=c["SessionToken"])


def under(orgs, account, ous, cache):
    if account not in cache:
        seen, child = set(), account
        try:
            while True:
                p = orgs.list_parents(ChildId=child)["Parents"][0]
                if p["Type"] == "ROOT":
                    break
                seen.add(p["Id"])
                child = p["Id"]
        except (orgs.exceptions.ChildNotFoundException, orgs.exceptions.AccountNotFoundException):
            seen = set()  # not in the organization
        cache[account] = seen
    return bool(cache[account] & ous)


def reconcile(service, allowed, ous, ec2=None, orgs=None):
    ec2 = ec2 or client("ec2")
    conns, kw = [], {"Filters": [{"Name": "service-id", "Values": [service]}]}
    while True:
        page = ec2.describe_vpc_endpoint_connections(**kw)
        conns += page.get("VpcEndpointConnections", [])
        if not page.get("NextToken"):
            break
        kw["NextToken"] = page["NextToken"]
    accept, reject, cache = [], [], {}
    for c in conns:
        state, owner = (c.get("VpcEndpointState") or "").lower(), c.get("VpcEndpointOwner")
        if state not in OPEN:
            continue
        ok = owner in allowed
        if not ok and ous:
            orgs = orgs or org()
            ok = under(orgs, owner, ous, cache)
        if not ok:
            reject.append(c["VpcEndpointId"])
        elif state == "pendingacceptance":
            accept.append(c["VpcEndpointId"])
    bad = []
    for call, ids in ((ec2.accept_vpc_endpoint_connections, accept), (ec2.reject_vpc_endpoint_connections, reject)):
        ids.sort()
        for i in range(0, len(ids), 100):
            bad += [u["ResourceId"] for u in call(ServiceId=service, VpcEndpointIds=ids[i:i + 100]).get("Unsuccessful", [])]
    if bad:
        raise RuntimeError("could not accept or reject %s on %s" % (", ".join(bad), service))
    return accept, reject


def settings(p):
    sp = lambda v: set(v) if isinstance(v, list) else set(filter(None, (v or "").split(",")))
    return p["ServiceId"], sp(p.get("AllowedAccounts")), sp(p.get("OrganizationalUnitIds"))


def handler(event, context, **kw):
    if "RequestType" not in event:  # SNS: settings from the environment
        e = os.environ
        a, r = reconcile(*settings({"ServiceId": e["SERVICE_ID"], "AllowedAccounts": e.get("ALLOWED"),
                                    "OrganizationalUnitIds": e.get("OUS")}), **kw)
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
