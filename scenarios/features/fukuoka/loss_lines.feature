Feature: Loss lines placed under coverages or refused with a reason (000 §2, §5, §8 イ, §9 イ)

  Background:
    Given a typical fukuoka-cyber-2025 claim

  Scenario: Costs of the same kind as a listed item are paid (the lists end with など)
    Given the losses are:
      | category       | amount  |
      | apology_visits | 120,000 |
      | claim_handling | 80,000  |
    When the claim is adjudicated
    Then "incident_response" pays 200,000 yen
    And rule FK-MAP-INCIDENT-RESPONSE fires

  Scenario: The all-risk plan places each cost under its coverage
    Given the losses are:
      | category               | amount    |
      | damages                | 1,000,000 |
      | litigation_costs       | 300,000   |
      | call_center            | 400,000   |
      | condolence_gifts       | 200,000   |
      | certification          | 100,000   |
      | forensic_investigation | 500,000   |
    When the claim is adjudicated
    Then "liability" pays 1,300,000 yen
    And "incident_response" pays 900,000 yen
    And "leak_response" pays 300,000 yen
    And rule FK-MAP-LIABILITY fires
    And rule FK-MAP-INCIDENT-RESPONSE fires
    And rule FK-MAP-LEAK-RESPONSE fires
    And rule FK-DUTY-REPORT-SUIT fires
    And rule FK-DUTY-NO-ADMISSION fires

  Scenario: The leak-only plan lists its own leak-response costs (and costs of the same kind)
    Given the plan is P3
    And the losses are:
      | category               | amount  |
      | condolence_gifts       | 200,000 |
      | call_center            | 300,000 |
      | forensic_investigation | 500,000 |
      | consulting             | 100,000 |
      | network_isolation      | 100,000 |
      | corporate_apology      | 50,000  |
    When the claim is adjudicated
    Then "leak_response" pays 1,100,000 yen
    And loss line 4 pays 100,000 yen
    And loss line 5 pays 0 yen
    And loss line 6 pays 0 yen
    And rule FK-MAP-LEAK-ONLY-RESPONSE fires
    And rule FK-REFUSE-LEAK-ONLY-UNLISTED fires
    And rule FK-MAP-INCIDENT-RESPONSE does not fire

  Scenario Outline: Items the policy does not pay
    Given the losses are:
      | category   | amount    |
      | <category> | 1,000,000 |
      | call_center | 10,000   |
    When the claim is adjudicated
    Then loss line 1 pays 0 yen
    And loss line 2 pays 10,000 yen
    And rule <rule> fires

    Examples:
      | category       | rule               |
      | fine_penalty   | FK-REFUSE-FINES    |
      | ransom_payment | FK-REFUSE-RANSOM   |
      | other          | FK-REFUSE-OTHER    |
