"""Tests of revoke_connections.py against moto's EC2 API, served by moto's
threaded server on 127.0.0.1 (moto_ec2.py: started here, with the endpoint
connection calls moto lacks), with endpoint services, load balancers and
interface endpoints in several accounts.
Run: python3 -m unittest discover -s assets/endpoints"""
import os
import unittest

import moto_ec2
from moto_ec2 import REGION, client, connect, endpoint_service

import revoke_connections as rc


def setUpModule():
    url = moto_ec2.start()
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "OBSLINK_EC2_ENDPOINT": url})


def tearDownModule():
    moto_ec2.stop()


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

    def test_star_leaves_admission_to_the_admission_handler(self):
        # A service that serves consumer groups allows "*": OU members are no strangers here.
        svc = endpoint_service()
        connect("444444444444", svc)
        status, _, data, _ = rc.handle(event("Update", svc, ["*"]))
        self.assertEqual((status, data), ("SUCCESS", {"Rejected": ""}))
        self.assertEqual({s for _, s in states(svc).values()}, {"available"})

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
            os.environ["OBSLINK_EC2_ENDPOINT"] = moto_ec2.URL
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
