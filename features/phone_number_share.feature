Feature: CAMARA Number Verification API, vwip (also v2.1.1, v2.1.0 and v2.0.0) - Operation phoneNumberShare

  # Input to be provided by the implementation to the tester (the target config of nv-conformance):
  # * api_root and api_version; the base path comes from the version profile unless base_path is set
  # * test_data.phone_number: the phone number that the valid access tokens identify
  # * tokens: how to obtain a valid token, a token with only the phoneNumberVerify scope (other_scope),
  #   a token not obtained by network- or SIM-based authentication (non_network) and an expired token;
  #   invalid and tampered tokens are made by the kit
  #
  # References to OAS schemas point into the contract of the API version under test
  # (schemas/<version>/number-verification.yaml, or the file given with --spec).
  # Version-specific rules (x-correlator 400, single-use tokens) come from schemas/profiles.yaml;
  # where a version does not have the rule the scenario is skipped as not applicable.

  Background: Common phoneNumberShare setup
    Given an environment at "apiRoot"
    And the resource of the API version under test as base url
    And the header "Authorization" is set to a valid access token
    And the header "x-correlator" complies with the schema at "#/components/schemas/XCorrelator"

  # Success

  # clause: contract:#/paths/~1device-phone-number/get/responses/200
  # clause: user story: an app learns the phone number of the device's mobile connection
  @nv_share_01_success_returns_number_of_token
  Scenario: The phone number identified by the access token is returned
    Given a valid phone number supported by the service, identified by the token
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.devicePhoneNumber" is equal to the phone number identified by the access token

  # clause: Commonalities x-correlator: without a request value the response may carry any valid value or none
  @nv_share_02_success_without_x_correlator
  Scenario: A request without x-correlator is answered normally
    Given the header "x-correlator" is removed
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response body complies with the OAS schema for this operation and status code
    And the response header "x-correlator", if present, complies with the schema at "#/components/schemas/XCorrelator"

  # 400

  # clause: Commonalities 0.6 design guide: an x-correlator that breaks the pattern MUST get 400 INVALID_ARGUMENT
  @nv_share_03_invalid_x_correlator
  Scenario: An x-correlator that breaks the contract's pattern is rejected
    Given the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator
    And the header "x-correlator" does not comply with the schema at "#/components/schemas/XCorrelator"
    When the request "phoneNumberShare" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/XCorrelator (maxLength); Commonalities design guide: invalid x-correlator MUST get 400 INVALID_ARGUMENT
  @nv_share_12_x_correlator_over_max_length
  Scenario: An x-correlator one character longer than the contract's maximum length is rejected
    Given the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator
    And the header "x-correlator" is set to a value longer than the maximum length of the schema at "#/components/schemas/XCorrelator"
    When the request "phoneNumberShare" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # 401

  # clause: contract:#/components/responses/Generic401
  @nv_share_04_no_authorization_header
  Scenario: Request without Authorization header
    Given the header "Authorization" is removed
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response header "Content-Type" is "application/json"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  # clause: RFC 6750 section 2.1: the credentials use the Bearer scheme
  @nv_share_05_wrong_authorization_scheme
  Scenario: A valid token sent with another authorization scheme
    Given the header "Authorization" is set to a valid access token with the "Basic" scheme
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  @nv_share_06_garbage_token
  Scenario: A token the authorization server never issued
    Given the header "Authorization" is set to an invalid access token
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  # clause: RFC 7515: a JWS whose signature does not verify is not a valid token
  @nv_share_07_tampered_signature
  Scenario: A valid token whose signature bytes were altered
    Given the header "Authorization" is set to a valid access token whose signature has been altered
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  @nv_share_08_expired_token
  Scenario: An expired access token
    Given the header "Authorization" is set to an expired access token
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  @nv_share_09_token_already_used
  Scenario: An access token is accepted once and rejected when used again
    Given the API version under test requires single-use access tokens
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    When the same request is sent again with the same access token
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # 403

  # clause: contract:#/components/responses/PhoneNumberVerificationPermissionDenied403
  # clause: contract:#/paths/~1device-phone-number/get/security (scope number-verification:device-phone-number:read)
  @nv_share_10_scope_of_other_operation
  Scenario: A token that carries only the phoneNumberVerify scope
    Given the header "Authorization" is set to an access token with only the scope of the other operation
    When the request "phoneNumberShare" is sent
    Then the response status code is 403
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 403
    And the response property "$.code" is "PERMISSION_DENIED"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/PhoneNumberVerificationPermissionDenied403
  # clause: CAMARA Security and Interoperability Profile: NV tokens come from network- or SIM-based authentication
  @nv_share_11_token_not_from_network_authentication
  Scenario: A token not obtained by network-based or SIM-based authentication
    Given the header "Authorization" is set to an access token not obtained by network-based or SIM-based authentication
    When the request "phoneNumberShare" is sent
    Then the response status code is 403
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 403
    And the response property "$.code" is "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
    And the response property "$.message" contains a user friendly text

  # x-correlator on errors

  # clause: Commonalities x-correlator: a non-empty request x-correlator is echoed in every response, errors included
  @nv_share_30_error_echoes_x_correlator
  Scenario: An error response echoes the request's x-correlator
    Given the header "Authorization" is removed
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text
