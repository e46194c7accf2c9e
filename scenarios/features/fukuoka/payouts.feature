Feature: Payouts to the yen: ② limits per facility, aggregates and the ① + ② cap (000 §5, §10)

  Scenario: The seed's worked example (000 §5) on S10000 for a hospital
    Given the claim file "scenarios/examples/fukuoka_seed_example.yaml"
    When the claim is adjudicated
    Then "incident_response" pays 12,000,000 yen
    And "leak_response" pays 18,000,000 yen
    And the total payable is 30,000,000 yen
    And nothing further is asked for

  Scenario: The same costs at a clinic on S10000 stop at the clinic's 30,000,000
    Given the claim file "scenarios/examples/fukuoka_seed_example.yaml"
    And the facility is a clinic
    And the losses are:
      | category         | amount     |
      | condolence_gifts | 18,000,000 |
      | call_center      | 15,000,000 |
    When the claim is adjudicated
    Then the total payable is 30,000,000 yen
    And "incident_response" pays 15,000,000 yen
    And "leak_response" pays 15,000,000 yen

  Scenario Outline: ② per facility on the high plans
    Given a typical fukuoka-cyber-2025 claim
    And the plan is <plan>
    And the facility is a <facility>
    And the losses are:
      | category      | amount     |
      | data_recovery | 60,000,000 |
    When the claim is adjudicated
    Then "incident_response" pays <paid> yen

    Examples:
      | plan   | facility      | paid       |
      | S5000  | clinic        | 30,000,000 |
      | S5000  | dental_clinic | 30,000,000 |
      | S5000  | hospital      | 50,000,000 |
      | S20000 | care_facility | 60,000,000 |
      | S3000  | hospital      | 30,000,000 |
      | S1     | hospital      | 1,000,000  |

  Scenario: ① + ② never exceed ①: liability is paid first
    Given a typical fukuoka-cyber-2025 claim
    And the plan is S1000
    And the losses are:
      | category    | amount    |
      | damages     | 8,000,000 |
      | call_center | 5,000,000 |
    When the claim is adjudicated
    Then "liability" pays 8,000,000 yen
    And "incident_response" pays 2,000,000 yen
    And the total payable is 10,000,000 yen

  Scenario: What earlier claims used of the aggregate is not available again
    Given a typical fukuoka-cyber-2025 claim
    And 48,000,000 yen was already paid under liability
    And the losses are:
      | category               | amount    |
      | forensic_investigation | 3,000,000 |
    When the claim is adjudicated
    Then "incident_response" pays 2,000,000 yen
