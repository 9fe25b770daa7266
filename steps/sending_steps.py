"""Sending: "When the request ... is sent" records the intent; the engine sends it lazily (see exchange.py)."""

from nv_conformance.bdd import actions
from nv_conformance.bdd.glue import nv, sentence


@sentence(r'the request "(?P<operation_id>[^"]+)" is sent')
def request_sent(context, operation_id):
    actions.request_sent(nv(context), operation_id)


@sentence(r"the same request is sent again with the same access token")
def resend_same_token(context):
    actions.resend_with_same_token(nv(context))
