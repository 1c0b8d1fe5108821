"""Tests of revoke_connections.py against moto's EC2 API, served by moto's
threaded server on 127.0.0.1 (started here), with endpoint services, load
balancers and interface endpoints in two accounts (the consumer account via
STS AssumeRole, as moto separates accounts).

moto 5.2.1 does not implement DescribeVpcEndpointConnections nor
RejectVpcEndpointConnections. This file adds the two operations to moto's
EC2 responses, read from and written to moto's own endpoint and service
records (the owner is the account whose backend holds the endpoint); every
other call is moto's. moto serializes their answers and botocore parses them
with the real EC2 service model, so a field named wrong reads as missing and
fails the tests.
Run: python3 -m unittest discover -s assets/endpoints"""
import os
import unittest

import boto3
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.core.responses import ActionResult
from moto.ec2.responses import EC2Response
from moto.server import ThreadedMotoServer

import revoke_connections as rc

SERVER = None
URL = None
REGION = "eu-west-1"


def _endpoints(service_name):
    """(owner account, endpoint) of every interface endpoint to service_name."""
    for account in list(ec2_backends.keys()):
        backend = ec2_backends[account].get(REGION)
        if backend is None:
            continue
        for ep in backend.vpc_end_points.values():
            if ep.service_name == service_name:
                yield account, ep


def _service(self, service_id):
    svc = self.ec2_backend.configurations.get(service_id)
    if svc is None:
        raise EC2ClientError("InvalidVpcEndpointServiceId.NotFound", "The VpcEndpointService Id '%s' does not exist" % service_id)
    return svc


def describe_vpc_endpoint_connections(self):
    filters = self._filters_from_querystring()
    items = []
    for service_id in filters.get("service-id", list(self.ec2_backend.configurations)):
        svc = _service(self, service_id)
        for owner, ep in _endpoints(svc.service_name):
            items.append({"ServiceId": svc.id, "VpcEndpointId": ep.id,
                          "VpcEndpointOwner": owner, "VpcEndpointState": ep.state})
    return ActionResult({"VpcEndpointConnections": items})


def reject_vpc_endpoint_connections(self):
    svc = _service(self, self._get_param("ServiceId"))
    wanted = set(self._get_param("VpcEndpointIds", []))
    for _, ep in _endpoints(svc.service_name):
        if ep.id in wanted:
            ep.state = "rejected"
            wanted.discard(ep.id)
    return ActionResult({"Unsuccessful": [
        {"ResourceId": i, "Error": {"Code": "InvalidVpcEndpointId.NotFound", "Message": "not a connection of " + svc.id}}
        for i in sorted(wanted)]})


def setUpModule():
    global SERVER, URL
    EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
    EC2Response.reject_vpc_endpoint_connections = reject_vpc_endpoint_connections
    SERVER = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    SERVER.start()
    host, port = SERVER.get_host_and_port()
    URL = "http://%s:%d" % (host, port)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "OBSLINK_EC2_ENDPOINT": URL})


def tearDownModule():
    SERVER.stop()


def client(service, account=None):
    if account is None:
        return boto3.client(service, endpoint_url=URL, region_name=REGION)
    creds = boto3.client("sts", endpoint_url=URL, region_name=REGION).assume_role(
        RoleArn="arn:aws:iam::%s:role/consumer" % account, RoleSessionName="consumer")["Credentials"]
    return boto3.client(service, endpoint_url=URL, region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def provider_account():
    return client("sts").get_caller_identity()["Account"]


def endpoint_service():
    ec2, elb = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.100.0.0/24")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.100.0.0/26", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    nlb = elb.create_load_balancer(Name="obslink-%s" % vpc[-6:], Subnets=[sub], Scheme="internal",
                                   Type="network")["LoadBalancers"][0]["LoadBalancerArn"]
    return ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb], AcceptanceRequired=False)["ServiceConfiguration"]


def connect(account, service):
    ec2 = client("ec2", account)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    return ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service["ServiceName"], VpcEndpointType="Interface",
                                   SubnetIds=[sub])["VpcEndpoint"]["VpcEndpointId"]


def states(service):
    out = {}
    for c in client("ec2").describe_vpc_endpoint_connections(
            Filters=[{"Name": "service-id", "Values": [service["ServiceId"]]}])["VpcEndpointConnections"]:
        out[c["VpcEndpointId"]] = (c["VpcEndpointOwner"], c["VpcEndpointState"])
    return out


def event(kind, service, allowed, **extra):
    e = {"RequestType": kind, "ResourceProperties": {"ServiceId": service["ServiceId"], "AllowedAccounts": allowed},
         "StackId": "arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1", "RequestId": "r1",
         "LogicalResourceId": "Revoke", "ResponseURL": "http://127.0.0.1:1/unused"}
    e.update(extra)
    return e


class RevokeTest(unittest.TestCase):
    def test_removed_consumer_is_rejected_and_the_others_stay(self):
        svc = endpoint_service()
        stay, leave = connect("222222222222", svc), connect("333333333333", svc)
        self.assertEqual(states(svc), {stay: ("222222222222", "available"), leave: ("333333333333", "available")})
        # The topology dropped 333333333333: the provider's update runs the handler.
        status, pid, data, reason = rc.handle(event("Update", svc, ["222222222222"], PhysicalResourceId=svc["ServiceId"]))
        self.assertEqual((status, pid, reason), ("SUCCESS", svc["ServiceId"], ""))
        self.assertEqual(data, {"Rejected": leave})
        self.assertEqual(states(svc), {stay: ("222222222222", "available"), leave: ("333333333333", "rejected")})

    def test_create_with_every_consumer_allowed_rejects_nothing(self):
        svc = endpoint_service()
        a, b = connect("222222222222", svc), connect("333333333333", svc)
        status, _, data, _ = rc.handle(event("Create", svc, ["222222222222", "333333333333"]))
        self.assertEqual((status, data), ("SUCCESS", {"Rejected": ""}))
        self.assertEqual({s for _, s in states(svc).values()}, {"available"})
        self.assertEqual(set(states(svc)), {a, b})

    def test_unknown_account_is_rejected(self):
        # An account that was never in the topology (allowed by hand, say) is a stranger too.
        svc = endpoint_service()
        ours, theirs = connect("222222222222", svc), connect("444444444444", svc)
        status, _, data, _ = rc.handle(event("Update", svc, ["222222222222"]))
        self.assertEqual((status, data), ("SUCCESS", {"Rejected": theirs}))
        self.assertEqual(states(svc)[ours][1], "available")

    def test_an_already_rejected_connection_is_left_alone(self):
        svc = endpoint_service()
        gone = connect("333333333333", svc)
        rc.handle(event("Update", svc, []))
        status, _, data, _ = rc.handle(event("Update", svc, []))
        self.assertEqual((status, data), ("SUCCESS", {"Rejected": ""}))
        self.assertEqual(states(svc)[gone][1], "rejected")

    def test_no_consumers_left_rejects_all(self):
        svc = endpoint_service()
        ids = sorted([connect("222222222222", svc), connect("333333333333", svc)])
        status, _, data, _ = rc.handle(event("Update", svc, []))
        self.assertEqual((status, data["Rejected"]), ("SUCCESS", ",".join(ids)))

    def test_unsuccessful_rejection_fails_the_update(self):
        class Stuck:
            def describe_vpc_endpoint_connections(self, **_):
                return {"VpcEndpointConnections": [{"VpcEndpointId": "vpce-1", "VpcEndpointOwner": "333333333333",
                                                    "VpcEndpointState": "available"}]}

            def reject_vpc_endpoint_connections(self, **kw):
                return {"Unsuccessful": [{"ResourceId": "vpce-1", "Error": {"Code": "x"}}]}
        status, _, _, reason = rc.handle(event("Update", {"ServiceId": "vpce-svc-1"}, []), client=Stuck())
        self.assertEqual(status, "FAILED")
        self.assertIn("could not reject vpce-1", reason)

    def test_delete_rejects_every_open_connection(self):
        # AWS deletes an endpoint service only without open connections: the
        # resource that goes first (it depends on the service) closes them.
        svc = endpoint_service()
        a, b = connect("222222222222", svc), connect("333333333333", svc)
        status, pid, _, reason = rc.handle(event("Delete", svc, ["222222222222"], PhysicalResourceId=svc["ServiceId"]))
        self.assertEqual((status, pid, reason), ("SUCCESS", svc["ServiceId"], ""))
        self.assertEqual({s for _, s in states(svc).values()}, {"rejected"})
        self.assertEqual(set(states(svc)), {a, b})

    def test_delete_of_a_service_already_gone_succeeds(self):
        status, _, _, reason = rc.handle(event("Delete", {"ServiceId": "vpce-svc-0000dead"}, [], PhysicalResourceId="vpce-svc-0000dead"))
        self.assertEqual((status, reason), ("SUCCESS", ""))

    def test_delete_after_a_failed_create_calls_no_api(self):
        os.environ["OBSLINK_EC2_ENDPOINT"] = "http://127.0.0.1:1"  # nothing listens: any call would fail
        try:
            status, pid, _, _ = rc.handle(event("Delete", {"ServiceId": "vpce-svc-1"}, [], PhysicalResourceId="none"))
        finally:
            os.environ["OBSLINK_EC2_ENDPOINT"] = URL
        self.assertEqual((status, pid), ("SUCCESS", "none"))

    def test_states_are_read_in_any_case(self):
        class Upper:  # the API reference spells states with a capital letter
            def describe_vpc_endpoint_connections(self, **_):
                return {"VpcEndpointConnections": [{"VpcEndpointId": "vpce-1", "VpcEndpointOwner": "333333333333",
                                                    "VpcEndpointState": "Available"}]}

            def reject_vpc_endpoint_connections(self, **kw):
                self.rejected = kw["VpcEndpointIds"]
                return {"Unsuccessful": []}
        c = Upper()
        status, _, data, _ = rc.handle(event("Update", {"ServiceId": "vpce-svc-1"}, []), client=c)
        self.assertEqual((status, data, c.rejected), ("SUCCESS", {"Rejected": "vpce-1"}, ["vpce-1"]))


if __name__ == "__main__":
    unittest.main()
