Feature: CAMARA Number Verification API, vwip (also v2.1.1, v2.1.0 and v2.0.0) - Access token policy

  # Input to be provided by the implementation to the tester (the target config of nv-conformance):
  # * tokens.valid: how to obtain a valid access token (the token response is inspected, not only the token)
  # * for the off-network scenario: a token method that can ask for a network-based token from an address
  #   the mobile network does not know (the reference provider and its tester kit can; see docs/tokens.md)
  #
  # vwip info.description: an access token with Number Verification scopes is single-use (checked in the
  # operation features), MUST NOT live longer than 300 s, and no refresh token is issued. These rules are
  # mandatory only where schemas/profiles.yaml says so (token_policy of the version); elsewhere the scenarios
  # are skipped as not applicable. The lifetime limit is the version's (token_policy.max_lifetime_seconds).

  Background: Common token policy setup
    Given an environment at "apiRoot"
    And the resource of the API version under test as base url

  # clause: vwip info.description: refresh tokens MUST NOT be issued for Number Verification scopes
  @nv_token_01_no_refresh_token_verify
  Scenario: No refresh token comes with a phoneNumberVerify access token
    Given the API version under test forbids refresh tokens
    When a valid access token for "phoneNumberVerify" is obtained
    Then the token response does not include a refresh token

  # clause: vwip info.description: refresh tokens MUST NOT be issued for Number Verification scopes
  @nv_token_02_no_refresh_token_share
  Scenario: No refresh token comes with a phoneNumberShare access token
    Given the API version under test forbids refresh tokens
    When a valid access token for "phoneNumberShare" is obtained
    Then the token response does not include a refresh token

  # clause: vwip info.description: the access token MUST NOT exceed an expiration time of 300 seconds
  @nv_token_03_lifetime_verify
  Scenario: A phoneNumberVerify access token lives no longer than the version allows
    Given the API version under test limits the access token lifetime
    When a valid access token for "phoneNumberVerify" is obtained
    Then the access token expires within the maximum lifetime of the API version under test

  # clause: vwip info.description: the access token MUST NOT exceed an expiration time of 300 seconds
  @nv_token_04_lifetime_share
  Scenario: A phoneNumberShare access token lives no longer than the version allows
    Given the API version under test limits the access token lifetime
    When a valid access token for "phoneNumberShare" is obtained
    Then the access token expires within the maximum lifetime of the API version under test

  # clause: CAMARA Security and Interoperability Profile: network-based authentication identifies the subscriber from the connection
  # clause: user story: a device on Wi-Fi, a hotspot or a VPN is not on the mobile network and gets no network-based token
  @nv_token_05_off_network_no_token @optional
  Scenario: No network-based access token for a connection that is not on the mobile network
    Given the target can simulate a connection that is not on the mobile network
    When a network-based access token for "phoneNumberVerify" is requested from a connection that is not on the mobile network
    Then no access token is issued
    And the refusal carries an OAuth error code
