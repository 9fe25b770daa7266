"""Token policy, off-network and version gates: the parts of the spec that are not one API call."""

from nv_conformance.bdd import actions
from nv_conformance.bdd.glue import nv, sentence

# -- gates (profile- and contract-driven; a rule the version lacks is "not applicable") ---------------

@sentence(r"the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator")
def gate_x_correlator(context):
    actions.require_invalid_x_correlator_400(nv(context))


@sentence(r"the API version under test rejects request body properties it does not declare")
def gate_strictness(context):
    actions.require_request_body_strictness(nv(context))


@sentence(r"the API version under test requires single-use access tokens")
def gate_single_use(context):
    actions.require_token_policy(nv(context), "single_use")


@sentence(r"the API version under test forbids refresh tokens")
def gate_refresh(context):
    actions.require_token_policy(nv(context), "refresh_tokens")


@sentence(r"the API version under test limits the access token lifetime")
def gate_lifetime(context):
    actions.require_token_policy(nv(context), "max_lifetime")


@sentence(r'the contract gives the request body property "(?P<path>[^"]+)" of "(?P<operation_id>[^"]+)" a pattern')
def gate_pattern(context, path, operation_id):
    actions.require_contract_pattern(nv(context), operation_id, path)


@sentence(r"the target can simulate a connection that is not on the mobile network")
def gate_off_network(context):
    actions.require_off_network(nv(context))


# -- token requests ----------------------------------------------------------------------------------

@sentence(r'a valid access token for "(?P<operation_id>[^"]+)" is obtained')
def obtain_token(context, operation_id):
    actions.obtain_valid_token(nv(context), operation_id)


@sentence(r"the token response does not include a refresh token")
def no_refresh_token(context):
    actions.expect_no_refresh_token(nv(context))


@sentence(r"the access token expires in at most (?P<seconds>\d+) seconds")
def lifetime(context, seconds):
    actions.expect_lifetime_at_most(nv(context), int(seconds))


@sentence(r"the access token expires within the maximum lifetime of the API version under test")
def lifetime_of_version(context):
    actions.expect_lifetime_within_policy(nv(context))


@sentence(r'a network-based access token for "(?P<operation_id>[^"]+)" is requested from a connection '
          r"that is not on the mobile network")
def off_network_request(context, operation_id):
    actions.request_off_network_token(nv(context), operation_id)


@sentence(r"no access token is issued")
def no_token(context):
    actions.expect_no_token_off_network(nv(context))


@sentence(r"the refusal carries an OAuth error code")
def refusal_error(context):
    actions.expect_off_network_error(nv(context))
