Feature: CAMARA Number Verification API, vwip (also v2.1.1, v2.1.0 and v2.0.0) - Operation phoneNumberVerify

  # Input to be provided by the implementation to the tester (the target config of nv-conformance):
  # * api_root and api_version; the base path comes from the version profile unless base_path is set
  # * test_data.phone_number: the phone number that the valid access tokens identify
  # * test_data.other_phone_number: a valid phone number that is not the one the tokens identify
  # * tokens: how to obtain a valid token, a token with only the phoneNumberShare scope (other_scope),
  #   a token not obtained by network- or SIM-based authentication (non_network) and an expired token;
  #   invalid and tampered tokens are made by the kit
  #
  # References to OAS schemas point into the contract of the API version under test
  # (schemas/<version>/number-verification.yaml, or the file given with --spec).
  # Version-specific rules (x-correlator 400, single-use tokens, request body strictness, the
  # hashedPhoneNumber pattern, length limits) come from
  # schemas/profiles.yaml and the contract; where a version does not have the rule the scenario is
  # skipped as not applicable.

  Background: Common phoneNumberVerify setup
    Given an environment at "apiRoot"
    And the resource of the API version under test as base url
    And the header "Content-Type" is set to "application/json"
    And the header "Authorization" is set to a valid access token
    And the header "x-correlator" complies with the schema at "#/components/schemas/XCorrelator"
    And the request body is set by default to a request body compliant with the schema

  # Success

  # clause: contract:#/paths/~1verify/post/responses/200
  # clause: user story: the number of the device's connection is confirmed
  @nv_verify_01_plain_number_true
  Scenario: The phone number identified by the token is verified as true
    Given a valid phone number supported by the service, identified by the token
    And the request body property "$.phoneNumber" is set to the phone number identified by the access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.devicePhoneNumberVerified" is true

  # clause: contract:#/paths/~1verify/post/responses/200
  # clause: user story: a number that is not the connection's is not confirmed
  @nv_verify_02_plain_number_false
  Scenario: Another valid phone number is verified as false
    Given the request body property "$.phoneNumber" is set to a valid phone number different from the one identified by the access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.devicePhoneNumberVerified" is false

  # clause: contract:#/components/schemas/HashedPhoneNumber (SHA-256, hex, of the E.164 number with '+')
  @nv_verify_03_hashed_number_lower_case_true
  Scenario: The hashed phone number identified by the token, in lower case hex, is verified as true
    Given the request body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in lower case hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.devicePhoneNumberVerified" is true

  # clause: contract:#/components/schemas/HashedPhoneNumber (pattern ^[a-fA-F0-9]{64}$: either case is the same hash)
  @nv_verify_04_hashed_number_upper_case_true
  Scenario: The hashed phone number identified by the token, in upper case hex, is verified as true
    Given the request body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in upper case hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.devicePhoneNumberVerified" is true

  # clause: contract:#/paths/~1verify/post/responses/200
  @nv_verify_05_hashed_number_false
  Scenario: The hash of another valid phone number is verified as false
    Given the request body property "$.hashedPhoneNumber" is set to a valid phone number different from the one identified by the access token, hashed in SHA-256 (in hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    And the response header "Content-Type" is "application/json"
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.devicePhoneNumberVerified" is false

  # 400: the request body

  # clause: contract:#/paths/~1verify/post/requestBody (required: true)
  @nv_verify_06_no_body
  Scenario: Request without a body
    Given the request body is not included
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response header "Content-Type" is "application/json"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/paths/~1verify/post/requestBody (application/json)
  @nv_verify_07_invalid_json
  Scenario: A request body that is not valid JSON
    Given the request body:
      """
      {"phoneNumber": "+447700900123",
      """
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/NumberVerificationRequestBody (type: object)
  @nv_verify_08_body_not_an_object
  Scenario: A JSON request body that is not an object
    Given the request body:
      """
      ["+447700900123"]
      """
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/NumberVerificationRequestBody (minProperties: 1)
  @nv_verify_09_empty_object
  Scenario: An empty object as request body
    Given the request body is set to "{}"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/NumberVerificationRequestBody (maxProperties: 1)
  @nv_verify_10_both_properties
  Scenario: Both phoneNumber and hashedPhoneNumber in the request body
    Given the request body property "$.phoneNumber" is set to the phone number identified by the access token
    And the request body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in hexadecimal representation)
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/NumberVerificationRequestBody (one of phoneNumber, hashedPhoneNumber)
  @nv_verify_11_unknown_property_alone
  Scenario: A request body whose only property is neither phoneNumber nor hashedPhoneNumber
    Given the request body property "$.msisdn" is set to "+447700900123"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # 400: phoneNumber format (values are fictitious numbers)

  # clause: contract:#/components/schemas/PhoneNumber (pattern ^\+[1-9][0-9]{4,14}$)
  @nv_verify_12_<id>
  Scenario Outline: A phoneNumber that breaks the E.164 pattern: <case>
    Given the request body property "$.phoneNumber" is set to <value>
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

    Examples:
      | id                    | case                          | value                 |
      | 1_without_plus        | number without leading +      | "447700900123"        |
      | 2_too_short           | four digits                   | "+4477"               |
      | 3_too_long            | sixteen digits                | "+4477009001234567"   |
      | 4_leading_zero        | country code with leading 0   | "+0447700900123"      |
      | 5_letters             | letters in the number         | "+44770090abcd"       |
      | 6_separators          | spaces as separators          | "+44 7700 900123"     |

  # clause: contract:#/components/schemas/HashedPhoneNumber (pattern ^[a-fA-F0-9]{64}$)
  @nv_verify_13_<id>
  Scenario Outline: A hashedPhoneNumber that breaks the pattern: <case>
    Given the contract gives the request body property "$.hashedPhoneNumber" of "phoneNumberVerify" a pattern
    And the request body property "$.hashedPhoneNumber" is set to <value>
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

    Examples:
      | id           | case                  | value                                                                 |
      | 1_too_short  | 63 hex digits         | "32f67ab4e4312618b09cd23ed8ce41b13e095fe52b73b2e8da8ef49830e50db"     |
      | 2_too_long   | 65 hex digits         | "32f67ab4e4312618b09cd23ed8ce41b13e095fe52b73b2e8da8ef49830e50dbaa"   |
      | 3_not_hex    | 64 chars, not hex     | "zz467ab4e4312618b09cd23ed8ce41b13e095fe52b73b2e8da8ef49830e50dba"    |

  # clause: contract:#/components/schemas/NumberVerificationRequestBody (property types)
  @nv_verify_14_<id>
  Scenario Outline: A property of the wrong JSON type: <case>
    Given the request body property "<property>" is set to the JSON value <value>
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

    Examples:
      | id                      | case                         | property            | value                 |
      | 1_number_as_integer     | phoneNumber as a JSON number | $.phoneNumber       | 447700900123          |
      | 2_number_as_object      | phoneNumber as an object     | $.phoneNumber       | {"e164": "+447700900123"} |
      | 3_number_as_null        | phoneNumber as null          | $.phoneNumber       | null                  |
      | 4_hash_as_boolean       | hashedPhoneNumber as boolean | $.hashedPhoneNumber | true                  |

  # clause: Commonalities 0.6 design guide: an x-correlator that breaks the pattern MUST get 400 INVALID_ARGUMENT
  @nv_verify_15_invalid_x_correlator
  Scenario: An x-correlator that breaks the contract's pattern is rejected
    Given the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator
    And the header "x-correlator" does not comply with the schema at "#/components/schemas/XCorrelator"
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # 400: request body strictness (v2.1.1 and vwip: undeclared properties, even next to a valid one)

  # clause: spec info.description, "Request body strictness": undeclared properties at any nesting level get 400 INVALID_ARGUMENT
  @nv_verify_31_unknown_property_beside_phone_number
  Scenario: An undeclared property next to a valid phoneNumber is rejected
    Given the API version under test rejects request body properties it does not declare
    And the request body property "$.phoneNumber" is set to the phone number identified by the access token
    And the request body property "$.consentReference" is set to "c-1234"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: spec info.description, "Request body strictness": undeclared properties at any nesting level get 400 INVALID_ARGUMENT
  @nv_verify_32_unknown_property_beside_hashed_phone_number
  Scenario: An undeclared property next to a valid hashedPhoneNumber is rejected
    Given the API version under test rejects request body properties it does not declare
    And the request body property "$.hashedPhoneNumber" is set to the phone number identified by the access token, hashed in SHA-256 (in hexadecimal representation)
    And the request body property "$.consentReference" is set to "c-1234"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # 400: length limits (where the contract states one: v2.1.1 and vwip)

  # clause: contract:#/components/schemas/PhoneNumber (maxLength)
  @nv_verify_33_phone_number_over_max_length
  Scenario: A phoneNumber one character longer than the contract's maximum length
    Given the request body property "$.phoneNumber" is set to a value longer than the maximum length of the schema at "#/components/schemas/PhoneNumber"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/HashedPhoneNumber (maxLength)
  @nv_verify_34_hashed_phone_number_over_max_length
  Scenario: A hashedPhoneNumber one character longer than the contract's maximum length
    Given the request body property "$.hashedPhoneNumber" is set to a value longer than the maximum length of the schema at "#/components/schemas/HashedPhoneNumber"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/schemas/XCorrelator (maxLength); Commonalities design guide: invalid x-correlator MUST get 400 INVALID_ARGUMENT
  @nv_verify_35_x_correlator_over_max_length
  Scenario: An x-correlator one character longer than the contract's maximum length is rejected
    Given the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator
    And the header "x-correlator" is set to a value longer than the maximum length of the schema at "#/components/schemas/XCorrelator"
    And the request body is set to a valid request body
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text

  # 401

  # clause: contract:#/components/responses/Generic401
  @nv_verify_16_no_authorization_header
  Scenario: Request without Authorization header
    Given the header "Authorization" is removed
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response header "Content-Type" is "application/json"
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  # clause: RFC 6750 section 2.1: the credentials use the Bearer scheme
  @nv_verify_17_wrong_authorization_scheme
  Scenario: A valid token sent with another authorization scheme
    Given the header "Authorization" is set to a valid access token with the "Basic" scheme
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  @nv_verify_18_garbage_token
  Scenario: A token the authorization server never issued
    Given the header "Authorization" is set to an invalid access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  # clause: RFC 7515: a JWS whose signature does not verify is not a valid token
  @nv_verify_19_tampered_signature
  Scenario: A valid token whose signature bytes were altered
    Given the header "Authorization" is set to a valid access token whose signature has been altered
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  @nv_verify_20_expired_token
  Scenario: An expired access token
    Given the header "Authorization" is set to an expired access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/Generic401
  @nv_verify_21_token_already_used
  Scenario: An access token is accepted once and rejected when used again
    Given the API version under test requires single-use access tokens
    And the request body property "$.phoneNumber" is set to the phone number identified by the access token
    When the request "phoneNumberVerify" is sent
    Then the response status code is 200
    When the same request is sent again with the same access token
    Then the response status code is 401
    And the response property "$.status" is 401
    And the response property "$.code" is a code the contract allows for this status
    And the response property "$.message" contains a user friendly text

  # 403

  # clause: contract:#/components/responses/PhoneNumberVerificationPermissionDenied403
  # clause: contract:#/paths/~1verify/post/security (scope number-verification:verify)
  @nv_verify_22_scope_of_other_operation
  Scenario: A token that carries only the phoneNumberShare scope
    Given the header "Authorization" is set to an access token with only the scope of the other operation
    When the request "phoneNumberVerify" is sent
    Then the response status code is 403
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 403
    And the response property "$.code" is "PERMISSION_DENIED"
    And the response property "$.message" contains a user friendly text

  # clause: contract:#/components/responses/PhoneNumberVerificationPermissionDenied403
  # clause: CAMARA Security and Interoperability Profile: NV tokens come from network- or SIM-based authentication
  @nv_verify_23_token_not_from_network_authentication
  Scenario: A token not obtained by network-based or SIM-based authentication
    Given the header "Authorization" is set to an access token not obtained by network-based or SIM-based authentication
    When the request "phoneNumberVerify" is sent
    Then the response status code is 403
    And the response body complies with the OAS schema for this operation and status code
    And the response property "$.status" is 403
    And the response property "$.code" is "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"
    And the response property "$.message" contains a user friendly text

  # x-correlator on errors

  # clause: Commonalities x-correlator: a non-empty request x-correlator is echoed in every response, errors included
  @nv_verify_30_error_echoes_x_correlator
  Scenario: An error response echoes the request's x-correlator
    Given the request body is set to "{}"
    When the request "phoneNumberVerify" is sent
    Then the response status code is 400
    And the response header "x-correlator" has same value as the request header "x-correlator"
    And the response property "$.status" is 400
    And the response property "$.code" is "INVALID_ARGUMENT"
    And the response property "$.message" contains a user friendly text
