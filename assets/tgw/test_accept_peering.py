"""Tests of accept_peering.py against moto's EC2 API, served by moto_server
on 127.0.0.1 (started here). Run: python3 -m unittest discover -s assets/tgw"""
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

import boto3

import accept_peering as ap

MOTO = None
ENDPOINT = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule():
    global MOTO, ENDPOINT
    port = free_port()
    ENDPOINT = "http://127.0.0.1:%d" % port
    MOTO = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError("moto_server did not start")
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "OBSLINK_EC2_ENDPOINT": ENDPOINT})


def tearDownModule():
    MOTO.terminate()
    MOTO.wait(10)


def client(region):
    return boto3.client("ec2", region_name=region, endpoint_url=ENDPOINT)


def peering(accepter="eu-west-1"):
    """Creates two TGWs and a peering request from us-east-1; returns its id."""
    a = client("us-east-1").create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    b = client(accepter).create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    acct = boto3.client("sts", region_name="us-east-1", endpoint_url=ENDPOINT).get_caller_identity()["Account"]
    return client("us-east-1").create_transit_gateway_peering_attachment(
        TransitGatewayId=a, PeerTransitGatewayId=b, PeerAccountId=acct,
        PeerRegion=accepter)["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]


def event(kind, att, region="eu-west-1", **extra):
    e = {"RequestType": kind, "ResourceProperties": {"AttachmentId": att, "AccepterRegion": region},
         "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1", "RequestId": "r1",
         "LogicalResourceId": "Accept", "ResponseURL": "http://127.0.0.1:1/unused"}
    e.update(extra)
    return e


def no_sleep(_):
    pass


class AcceptTest(unittest.TestCase):
    def test_create_accepts_and_waits_until_available(self):
        att = peering()
        self.assertEqual(ap.state(client("eu-west-1"), att), "pendingAcceptance")
        status, pid, data, reason = ap.handle(event("Create", att), time.time() + 60, sleep=no_sleep)
        self.assertEqual((status, pid, data, reason), ("SUCCESS", att, {"State": "available"}, ""))
        self.assertEqual(ap.state(client("eu-west-1"), att), "available")
        self.assertEqual(ap.state(client("us-east-1"), att), "available")

    def test_update_of_an_available_attachment_is_idempotent(self):
        att = peering()
        ap.handle(event("Create", att), time.time() + 60, sleep=no_sleep)
        status, pid, _, _ = ap.handle(event("Update", att, PhysicalResourceId=att), time.time() + 60, sleep=no_sleep)
        self.assertEqual((status, pid), ("SUCCESS", att))

    def test_delete_calls_no_api(self):
        os.environ["OBSLINK_EC2_ENDPOINT"] = "http://127.0.0.1:1"  # nothing listens: any call would fail
        try:
            status, pid, _, _ = ap.handle(event("Delete", "tgw-attach-0123", PhysicalResourceId="tgw-attach-0123"), 0)
        finally:
            os.environ["OBSLINK_EC2_ENDPOINT"] = ENDPOINT
        self.assertEqual((status, pid), ("SUCCESS", "tgw-attach-0123"))

    def test_missing_attachment_waits_then_fails(self):
        # The accepter region may not see a new attachment yet: wait, but not
        # for the whole deadline (a wrong region never sees it).
        sleeps = []
        clock = iter(range(0, 10000, 10))
        status, _, _, reason = ap.handle(event("Create", "tgw-attach-0000000000000dead"), 900,
                                         sleep=sleeps.append, now=lambda: next(clock))
        self.assertEqual(status, "FAILED")
        self.assertIn("still missing in eu-west-1 after 180 s", reason)
        self.assertGreater(len(sleeps), 5)
        self.assertLess(len(sleeps), 30)

    def test_attachment_seen_late_is_accepted(self):
        att = peering()
        real, calls = ap.state, []

        def late(c, a):  # the accepter region sees the attachment on the fourth look
            calls.append(a)
            return "missing" if len(calls) < 4 else real(c, a)
        ap.state = late
        try:
            status, pid, data, _ = ap.handle(event("Create", att), time.time() + 60, sleep=no_sleep)
        finally:
            ap.state = real
        self.assertEqual((status, pid, data), ("SUCCESS", att, {"State": "available"}))
        self.assertGreaterEqual(len(calls), 4)

    def test_not_found_error_reads_as_missing(self):
        # moto answers an unknown id with an empty list; AWS answers with an error.
        from botocore.exceptions import ClientError

        class NotFound:
            def describe_transit_gateway_peering_attachments(self, **_):
                raise ClientError({"Error": {"Code": "InvalidTransitGatewayAttachmentID.NotFound"}},
                                  "DescribeTransitGatewayPeeringAttachments")

        class Denied:
            def describe_transit_gateway_peering_attachments(self, **_):
                raise ClientError({"Error": {"Code": "UnauthorizedOperation"}},
                                  "DescribeTransitGatewayPeeringAttachments")
        self.assertEqual(ap.state(NotFound(), "tgw-attach-0000000000000dead"), "missing")
        self.assertEqual(ap.state(client("eu-west-1"), "tgw-attach-0000000000000dead"), "missing")
        with self.assertRaises(ClientError):
            ap.state(Denied(), "tgw-attach-0000000000000dead")

    def test_rejected_attachment_fails(self):
        att = peering()
        client("eu-west-1").reject_transit_gateway_peering_attachment(TransitGatewayAttachmentId=att)
        status, _, _, reason = ap.handle(event("Create", att), time.time() + 60, sleep=no_sleep)
        self.assertEqual(status, "FAILED")
        self.assertIn("rejected", reason)

    def test_gives_up_at_the_deadline(self):
        att = peering()
        real = ap.state
        ap.state = lambda c, a: "pending"  # stuck, as a slow real attachment would be
        try:
            clock = iter(range(0, 10000, 10))
            status, _, _, reason = ap.handle(event("Create", att), 100, sleep=no_sleep, now=lambda: next(clock))
        finally:
            ap.state = real
        self.assertEqual(status, "FAILED")
        self.assertIn("TimeoutError", reason)

    def test_wrong_region_fails_after_the_grace(self):
        att = peering()
        clock = iter(range(0, 10000, 10))
        status, _, _, reason = ap.handle(event("Create", att, region="ap-south-1"), 900, sleep=no_sleep, now=lambda: next(clock))
        self.assertEqual(status, "FAILED")
        self.assertIn("still missing in ap-south-1", reason)


class HandlerTest(unittest.TestCase):
    def test_handler_reports_to_cloudformation(self):
        got = {}

        class H(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):
                got["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.handle_request, daemon=True).start()
        att = peering()

        class Ctx:
            def get_remaining_time_in_millis(self):
                return 120000

        ap.handler(event("Create", att, ResponseURL="http://127.0.0.1:%d/cb" % srv.server_port), Ctx())
        srv.server_close()
        body = got["body"]
        self.assertEqual(body["Status"], "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], att)
        self.assertEqual(body["Data"], {"State": "available"})
        self.assertEqual(body["LogicalResourceId"], "Accept")


if __name__ == "__main__":
    unittest.main()
