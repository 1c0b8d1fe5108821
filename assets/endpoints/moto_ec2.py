"""moto's EC2 API with the endpoint-connection calls it lacks, served on
127.0.0.1 by moto's threaded server, for the tests of the handlers and
scripts that call them (test_revoke_connections, test_obslink_consumers).

moto 5.2.1 does not implement DescribeVpcEndpointConnections,
AcceptVpcEndpointConnections nor RejectVpcEndpointConnections, and creates
every endpoint available. This module adds the three operations to moto's
EC2 responses, read from and written to moto's own endpoint and service
records (the owner is the account whose backend holds the endpoint, the
endpoint's region the region of that backend); every other call is moto's.
moto serializes their answers and botocore parses them with the real EC2
service model, so a field named wrong reads as missing and fails the tests.
Filters: service-id and vpc-endpoint-state, as the callers use them."""
import boto3
from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.ec2.responses import EC2Response
from moto.server import ThreadedMotoServer

REGION = "eu-west-1"
URL = None
_SERVER = None


def _endpoints(service_name):
    """(owner account, region, endpoint) of every interface endpoint to service_name."""
    for account in list(ec2_backends.keys()):
        for region, backend in list(ec2_backends[account].items()):
            for ep in list(backend.vpc_end_points.values()):
                if ep.service_name == service_name:
                    yield account, region, ep


def _service(self, service_id):
    svc = self.ec2_backend.configurations.get(service_id)
    if svc is None:
        raise EC2ClientError("InvalidVpcEndpointServiceId.NotFound", "The VpcEndpointService Id '%s' does not exist" % service_id)
    return svc


def describe_vpc_endpoint_connections(self):
    filters = self._filters_from_querystring()
    wanted_states = filters.get("vpc-endpoint-state")
    items = []
    for service_id in filters.get("service-id", list(self.ec2_backend.configurations)):
        svc = _service(self, service_id)
        for owner, region, ep in _endpoints(svc.service_name):
            if wanted_states and ep.state not in wanted_states:
                continue
            items.append({"ServiceId": svc.id, "VpcEndpointId": ep.id, "VpcEndpointOwner": owner,
                          "VpcEndpointState": ep.state, "VpcEndpointRegion": region})
    return ActionResult({"VpcEndpointConnections": items})


def reject_vpc_endpoint_connections(self):
    svc = _service(self, self._get_param("ServiceId"))
    wanted = set(self._get_param("VpcEndpointIds", []))
    for _, _, ep in _endpoints(svc.service_name):
        if ep.id in wanted:
            ep.state = "rejected"
            wanted.discard(ep.id)
    return ActionResult({"Unsuccessful": [
        {"ResourceId": i, "Error": {"Code": "InvalidVpcEndpointId.NotFound", "Message": "not a connection of " + svc.id}}
        for i in sorted(wanted)]})


def accept_vpc_endpoint_connections(self):
    svc = _service(self, self._get_param("ServiceId"))
    wanted = set(self._get_param("VpcEndpointIds", []))
    for _, _, ep in _endpoints(svc.service_name):
        if ep.id in wanted and ep.state == "pendingAcceptance":
            ep.state = "available"
            wanted.discard(ep.id)
    return ActionResult({"Unsuccessful": [
        {"ResourceId": i, "Error": {"Code": "InvalidState", "Message": "not pending acceptance on " + svc.id}}
        for i in sorted(wanted)]})


def pending(endpoint_id):
    """Marks an endpoint pendingAcceptance, as a service with acceptance required leaves it."""
    for account in list(ec2_backends.keys()):
        for backend in list(ec2_backends[account].values()):
            if endpoint_id in backend.vpc_end_points:
                backend.vpc_end_points[endpoint_id].state = "pendingAcceptance"
                return
    raise KeyError(endpoint_id)


def start():
    """Patch moto and start its server; returns the URL."""
    global _SERVER, URL
    EC2Response.describe_vpc_endpoint_connections = describe_vpc_endpoint_connections
    EC2Response.reject_vpc_endpoint_connections = reject_vpc_endpoint_connections
    EC2Response.accept_vpc_endpoint_connections = accept_vpc_endpoint_connections
    _SERVER = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    _SERVER.start()
    host, port = _SERVER.get_host_and_port()
    URL = "http://%s:%d" % (host, port)
    return URL


def stop():
    _SERVER.stop()


def client(service, account=None, region=REGION):
    """A client of the provider account, or of account (assumed through STS, as moto separates accounts)."""
    if account is None:
        return boto3.client(service, endpoint_url=URL, region_name=region)
    creds = boto3.client("sts", endpoint_url=URL, region_name=region).assume_role(
        RoleArn="arn:aws:iam::%s:role/consumer" % account, RoleSessionName="consumer")["Credentials"]
    return boto3.client(service, endpoint_url=URL, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def endpoint_service():
    """An endpoint service in front of an NLB, in the provider account and REGION."""
    ec2, elb = client("ec2"), client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.100.0.0/24")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.100.0.0/26", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    nlb = elb.create_load_balancer(Name="obslink-%s" % vpc[-6:], Subnets=[sub], Scheme="internal",
                                   Type="network")["LoadBalancers"][0]["LoadBalancerArn"]
    return ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb], AcceptanceRequired=False)["ServiceConfiguration"]


def connect(account, service, region=REGION):
    """An interface endpoint to service in a new VPC of account in region; returns its id."""
    ec2 = client("ec2", account, region)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
    return ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=service["ServiceName"], VpcEndpointType="Interface",
                                   SubnetIds=[sub])["VpcEndpoint"]["VpcEndpointId"]
