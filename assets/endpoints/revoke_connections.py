"""obslink: reject the endpoint connections of accounts an endpoint service
no longer allows. PrivateLink keeps existing connections open when an account
leaves the allowed principals; this custom resource closes them as part of
the provider's update. Properties: ServiceId, AllowedAccounts (12-digit ids).
Delete rejects every open connection: AWS deletes a service only without any
(this resource goes before the service it depends on)."""
import json
import os
import urllib.request

import boto3
from botocore.exceptions import ClientError

OPEN = {"pendingacceptance", "pending", "available"}


def ec2():
    return boto3.client("ec2", endpoint_url=os.environ.get("OBSLINK_EC2_ENDPOINT") or None)


def strangers(client, service, allowed):
    """Open connections to service whose owner is not in allowed."""
    out, token = [], None
    while True:
        kw = {"Filters": [{"Name": "service-id", "Values": [service]}]}
        if token:
            kw["NextToken"] = token
        page = client.describe_vpc_endpoint_connections(**kw)
        for c in page.get("VpcEndpointConnections", []):
            if (c.get("VpcEndpointState") or "").lower() in OPEN and c.get("VpcEndpointOwner") not in allowed:
                out.append(c["VpcEndpointId"])
        token = page.get("NextToken")
        if not token:
            return sorted(out)


def revoke(props, client=None):
    """Rejects strangers' connections; returns the endpoint ids rejected."""
    client = client or ec2()
    service, allowed = props["ServiceId"], set(props.get("AllowedAccounts") or [])
    if "*" in allowed:  # the service admits by OU too: admit_connections.py decides
        return []
    ids = strangers(client, service, allowed)
    failed = []
    for i in range(0, len(ids), 100):
        r = client.reject_vpc_endpoint_connections(ServiceId=service, VpcEndpointIds=ids[i:i + 100])
        failed += [u["ResourceId"] for u in r.get("Unsuccessful", [])]
    if failed:
        raise RuntimeError("could not reject %s on %s" % (", ".join(failed), service))
    return ids


def handle(event, **kw):
    """Returns (status, physical id, data, reason) for a custom-resource event."""
    props = event.get("ResourceProperties", {})
    pid = event.get("PhysicalResourceId") or props.get("ServiceId") or "none"
    try:
        if event["RequestType"] == "Delete":
            if not pid.startswith("vpce-svc-"):  # the create failed before a service existed
                return "SUCCESS", pid, {}, ""
            try:
                revoke({"ServiceId": pid, "AllowedAccounts": []}, **kw)
            except ClientError as e:  # the service is gone already
                if not e.response.get("Error", {}).get("Code", "").startswith("InvalidVpcEndpointServiceId"):
                    raise
            return "SUCCESS", pid, {}, ""
        ids = revoke(props, **kw)
        return "SUCCESS", props["ServiceId"], {"Rejected": ",".join(ids)}, ""
    except Exception as e:  # reported to CloudFormation, which rolls back
        return "FAILED", pid, {}, "%s: %s" % (type(e).__name__, e)


def respond(event, status, pid, data, reason):
    body = json.dumps({
        "Status": status, "Reason": reason or "see CloudWatch Logs",
        "PhysicalResourceId": pid, "StackId": event["StackId"],
        "RequestId": event["RequestId"], "LogicalResourceId": event["LogicalResourceId"],
        "Data": data}).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                 headers={"Content-Type": ""})
    urllib.request.urlopen(req, timeout=30).read()


def handler(event, context):
    status, pid, data, reason = handle(event)
    print(json.dumps({"request": event["RequestType"], "status": status, "reason": reason,
                      "rejected": data.get("Rejected", "")}))
    respond(event, status, pid, data, reason)
