"""obslink: accept a Transit Gateway peering attachment in the accepter
region and wait until it is available (CloudFormation has no resource for
this). Custom resource properties: AttachmentId, AccepterRegion.
The accepter region can take a while to see a new attachment: "missing"
means wait, like the pending states, for up to MISSING_GRACE seconds (a
wrong region never sees it, and should not hold the stack for 14 minutes).
Delete is a no-op: CloudFormation deletes the attachment after this resource."""
import json
import os
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

WAIT = {"missing", "initiating", "initiatingRequest", "pending", "modifying"}
MISSING_GRACE = 180


def ec2(region):
    return boto3.client("ec2", region_name=region,
                        endpoint_url=os.environ.get("OBSLINK_EC2_ENDPOINT") or None)


def state(client, att):
    """The attachment's state as the client's region sees it, or "missing"."""
    try:
        r = client.describe_transit_gateway_peering_attachments(
            TransitGatewayAttachmentIds=[att])["TransitGatewayPeeringAttachments"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code", "").endswith(".NotFound"):
            return "missing"
        raise
    return r[0]["State"] if r else "missing"


def accept(props, deadline, sleep=time.sleep, now=time.time):
    """Accepts and waits; returns the final state or raises."""
    att, region = props["AttachmentId"], props["AccepterRegion"]
    client = ec2(region)
    started = now()
    while True:
        s = state(client, att)
        if s == "available":
            return s
        if s == "missing" and now() - started > MISSING_GRACE:
            raise RuntimeError("attachment %s is still missing in %s after %d s; is AccepterRegion right?"
                               % (att, region, MISSING_GRACE))
        if s == "pendingAcceptance":
            client.accept_transit_gateway_peering_attachment(
                TransitGatewayAttachmentId=att)
        elif s not in WAIT:
            raise RuntimeError("attachment %s is %s in %s; it cannot become available" % (att, s, region))
        if now() > deadline:
            raise TimeoutError("attachment %s still %s in %s; gave up waiting" % (att, s, region))
        sleep(10)


def handle(event, deadline, **kw):
    """Returns (status, physical id, data, reason) for a custom-resource event."""
    props = event.get("ResourceProperties", {})
    pid = event.get("PhysicalResourceId") or props.get("AttachmentId") or "none"
    if event["RequestType"] == "Delete":
        return "SUCCESS", pid, {}, ""
    try:
        s = accept(props, deadline, **kw)
        return "SUCCESS", props["AttachmentId"], {"State": s}, ""
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
    deadline = time.time() + context.get_remaining_time_in_millis() / 1000 - 60
    status, pid, data, reason = handle(event, deadline)
    print(json.dumps({"request": event["RequestType"], "status": status, "reason": reason}))
    respond(event, status, pid, data, reason)
