Feature: Number Verification in the sentences of the Commonalities 0.9.0 testing templates

  # The kit's own file, written in the sentences of Commonalities 0.9.0
  # (artifacts/testing/sample-service-template.feature, syntax-errors-template.feature), with the
  # variants that occur in real files: "is not sent" / "is removed", "has same value" / "has the same
  # value", {} quoted or not, schema pointers with or without "#", "X" OR "Y" codes and the
  # "matches the rule:" conditions (compare, regular expression, presence). Run against API v2.1.1.

  Background: Common setup
    Given an environment at "apiRoot"
    And the resource "/number-verification/v2" as base url
    And the header "Content-Type" is set to "application/json"
    And the header "Authorization" is set to a valid access token
    And the header "x-correlator" complies with the schema at "#/components/schemas/XCorrelator"
    And the request body is set by default to a request body compliant with the schema at "#/components/schemas/NumberVerificationRequestBody"

  @cm090_01_success_default_body
  Scenario: The default compliant body is answered with a verification result
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has the same value as the request header "x-correlator"
    And the response body complies with the OAS schema at "/components/schemas/NumberVerificationMatchResponse"
    And the response property "$.devicePhoneNumberVerified" matches the rule: == true
    And the response property "$.devicePhoneNumberVerified" matches the rule: exists

  @cm090_02_success_compliant_body
  Scenario: A body compliant with the schema, without "#" in the pointer
    Given the request body is compliant with the schema at "/components/schemas/NumberVerificationRequestBody"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response property "$.devicePhoneNumberVerified" matches the rule: is not null

  @cm090_03_success_share
  Scenario: The shared number matches the E.164 rule
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response body complies with the OAS schema at "#/components/schemas/NumberVerificationShareResponse"
    And the response property "$.devicePhoneNumber" matches the rule: matches "^\+[1-9][0-9]{4,14}$"
    And the response property "$.devicePhoneNumber" matches the rule: the value is not empty

  @cm090_04_empty_body_unquoted
  Scenario: The request body {} unquoted
    Given the request body is set to {}
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" matches the rule: is greater than or equal to 400
    And the response property "$.status" matches the rule: $.status < 500
    And the response property "$.code" is "INVALID_ARGUMENT" OR "OUT_OF_RANGE"
    And the response property "$.code" matches the rule: matches the regular expression "^[A-Z_]+$"
    And the response property "$.message" matches the rule: is not empty

  @cm090_05_empty_body_quoted
  Scenario: The request body "{}" quoted
    Given the request body is set to "{}"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.code" is "INVALID_ARGUMENT"

  @cm090_06_property_set_to_empty_object
  Scenario: A property set to {}
    Given the request body property "$.phoneNumber" is set to {}
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.code" is "INVALID_ARGUMENT" OR "OUT_OF_RANGE"

  @cm090_07_property_not_included
  Scenario: The one property of the body not included
    Given the request body property "$.phoneNumber" is not included
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.code" is "INVALID_ARGUMENT"

  @cm090_08_body_not_compliant
  Scenario: A request body that is not compliant with the schema
    Given the request body is included but is not compliant with the schema at "#/components/schemas/NumberVerificationRequestBody"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  @cm090_09_invalid_x_correlator
  Scenario: An x-correlator that does not comply with its schema
    Given the header "x-correlator" does not comply with the schema at "#/components/schemas/XCorrelator"
    When the request "phoneNumberShare" is sent
    Then the response status code is 400
    And the response property "$.code" is "INVALID_ARGUMENT"

  @cm090_10_authorization_not_sent
  Scenario: No Authorization header ("is not sent")
    Given the header "Authorization" is not sent
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.code" is "UNAUTHENTICATED"
    And the response property "$.status" matches the rule: == 401

  @cm090_11_authorization_removed
  Scenario: No Authorization header ("is removed")
    Given the header "Authorization" is removed
    When the request "phoneNumberShare" is sent
    Then the response status code is 401
    And the response property "$.code" matches the rule: is "UNAUTHENTICATED"

  @cm090_12_token_without_scope
  Scenario: A token that does not include the operation's scope
    Given the header "Authorization" is set to an access token that does not include scope "number-verification:verify"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 403
    And the response property "$.code" is "PERMISSION_DENIED"

  # Recognised, not applicable to this API

  @cm090_13_array_items
  Scenario: An array response body (not applicable)
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response body is an array whose items comply with the OAS schema at "#/components/schemas/NumberVerificationShareResponse"

  @cm090_14_empty_array
  Scenario: An empty array response body (not applicable)
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response body is an empty array "[]"

  @cm090_15_too_many_requests
  Scenario: The request threshold (not applicable)
    Given the threshold of requests has been reached
    When the request "phoneNumberShare" is sent
    Then the response status code is 429

  # A condition the kit cannot evaluate: the scenario is defective, never passed

  @cm090_16_rule_not_evaluable
  Scenario: A rule in words the kit cannot evaluate
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    And the response property "$.devicePhoneNumber" matches the rule: is the number of the subscriber's contract
