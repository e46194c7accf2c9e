Feature: All-risk and leak-only plans, leak evidence, regulatory costs and the lost-profit option (000 §7–§10)

  Background:
    Given a typical fukuoka-cyber-2025 claim

  Scenario: The all-risk plan covers a ransomware attack
    When the claim is adjudicated
    Then "liability" is covered under "000 §7; §8 ア・イ①"
    And "incident_response" is covered
    And "leak_response" is covered
    And rule FK-TRIG-ALL-RISK fires
    And rule FK-TRIG-LEAK-LIABILITY does not fire

  Scenario: Without the cause the all-risk plan cannot decide
    Given the claim does not say incident.cause
    When the claim is adjudicated
    Then "incident_response" is needs information
    And incident.cause is asked for
    And rule FK-TRIG-ALL-RISK:needs:incident.cause fires
    And rule FK-TRIG-ALL-RISK does not fire

  Scenario: The leak-only plan covers a leak's liability and leak costs, nothing else
    Given the plan is P3
    When the claim is adjudicated
    Then "liability" is covered
    And "leak_response" is covered
    And "incident_response" is not covered under "000 §7; §9 注2"
    And "cyber_attack_response" is not covered
    And rule FK-TRIG-LEAK-LIABILITY fires
    And rule FK-LEAK-ONLY-SCOPE fires
    And rule FK-TRIG-ALL-RISK does not fire

  Scenario: The leak-only plan without a leak covers nothing
    Given the plan is P1
    And the leak is none
    When the claim is adjudicated
    Then "liability" is not covered under "000 §7; §9"
    And the total payable is 0 yen
    And rule FK-LEAK-ONLY-NO-LEAK fires
    And rule FK-NO-LEAK-LEAK-RESPONSE fires

  Scenario: The all-risk plan without a leak still covers the incident, not leak costs
    Given the leak is none
    When the claim is adjudicated
    Then "leak_response" is not covered under "000 §8 イ③; §9 イ①"
    And "incident_response" is covered
    And rule FK-LEAK-ONLY-NO-LEAK does not fire

  Scenario: Leak status unknown on the leak-only plan
    Given the plan is P3
    And the claim does not say incident.leak.status
    When the claim is adjudicated
    Then "liability" is needs information
    And incident.leak.status is asked for
    And rule FK-TRIG-LEAK-LIABILITY:needs:incident.leak.status fires
    And rule FK-TRIG-LEAK-RESPONSE:needs:incident.leak.status fires

  Scenario: A personal-information leak on the leak-only plan must be made evident for its leak costs (000 §9 イ①・注1)
    Given the plan is P2
    And nothing made the leak evident
    And no report was made
    When the claim is adjudicated
    Then "leak_response" is not covered under "000 §9 イ①・注1"
    And "leak_response" pays 0 yen
    And rule FK-LEAK-ONLY-EVIDENCE fires

  Scenario: The 注1 marker sits on the leak-cost row, not on liability: damages are paid without the evidence
    Given the plan is P2
    And nothing made the leak evident
    And no report was made
    When the claim is adjudicated
    Then "liability" is covered
    And "liability" pays 1,000,000 yen
    And "leak_response" is not covered
    And the total payable is 1,000,000 yen

  Scenario Outline: Only a notice that a cyber attack occurred counts as 注1① (a notice of a non-attack leak does not)
    Given the plan is P2
    And the cause is <cause>
    And the leak was made evident by insurer_notified on 2025-09-03
    And no report was made
    When the claim is adjudicated
    Then "leak_response" is <status>
    And "liability" is covered

    Examples:
      | cause        | status      |
      | cyber_attack | covered     |
      | human_error  | not covered |
      | media_loss   | not covered |

  Scenario: A notice to the insurer after the attack was ruled out is not 注1①
    Given the plan is P2
    And the attack is ruled_out
    And the leak was made evident by insurer_notified
    And no report was made
    When the claim is adjudicated
    Then "leak_response" is not covered
    And rule FK-LEAK-ONLY-EVIDENCE fires

  Scenario: An undated notice of a leak no attack caused does not make up for an announcement after the period (000 §9 注1)
    Given the plan is P2
    And the cause is human_error
    And the leak was made evident by public_announcement on 2026-06-01
    And the leak was also made evident by insurer_notified, undated
    And no report was made
    And the losses are:
      | category    | amount  |
      | call_center | 400,000 |
    When the claim is adjudicated
    Then "leak_response" is not covered under "000 §9 イ①・注1"
    And the total payable is 0 yen
    And rule FK-LEAK-ONLY-EVIDENCE-OUTSIDE-PERIOD fires
    And rule FK-LEAK-ONLY-EVIDENCE-DATE-NEEDED-INSURER does not fire

  Scenario: An undated notice that a cyber attack occurred, beside an announcement after the period, waits for its date
    Given the plan is P2
    And the cause is cyber_attack
    And the leak was made evident by public_announcement on 2026-06-01
    And the leak was also made evident by insurer_notified, undated
    When the claim is adjudicated
    Then "leak_response" is needs information
    And incident.evidence_dates.insurer_notified is asked for
    And rule FK-LEAK-ONLY-EVIDENCE-OUTSIDE-PERIOD does not fire

  Scenario: A report to the PPC the claim records, but not as evidence, is asked for, not refused (000 §9 注1④)
    Given the plan is P2
    And nothing made the leak evident
    And reports were made to ppc
    When the claim is adjudicated
    Then "leak_response" is needs information under "000 §9 イ①・注1④"
    And incident.evidence is asked for
    And rule FK-LEAK-ONLY-EVIDENCE-REPORT-NOT-LISTED fires
    And rule FK-LEAK-ONLY-EVIDENCE does not fire

  Scenario: The same report listed as evidence in the period pays the leak costs
    Given the plan is P2
    And reports were made to ppc
    And the leak was made evident by authority_report on 2025-09-03
    When the claim is adjudicated
    Then "leak_response" is covered
    And rule FK-LEAK-ONLY-EVIDENCE-REPORT-NOT-LISTED does not fire

  Scenario: A notice to the insurer with the cause unknown waits for the cause
    Given the plan is P2
    And the claim does not say incident.cause
    And the claim does not say incident.attack
    And the leak was made evident by insurer_notified
    When the claim is adjudicated
    Then "leak_response" is needs information
    And incident.cause is asked for
    And rule FK-LEAK-ONLY-EVIDENCE-CAUSE-NEEDED fires

  Scenario: A filing with a public agency makes the leak evident
    Given the plan is P2
    And the leak was made evident by authority_report
    When the claim is adjudicated
    Then "liability" is covered
    And rule FK-LEAK-ONLY-EVIDENCE does not fire
    And rule FK-TRIG-REGULATORY-AUTHORITY fires

  Scenario: Evidence unknown on the leak-only plan
    Given the plan is P2
    And the claim does not say incident.evidence
    When the claim is adjudicated
    Then "leak_response" is needs information
    And incident.evidence is asked for
    And rule FK-LEAK-ONLY-EVIDENCE:needs:incident.evidence fires

  Scenario: A report to the PPC brings regulatory costs into cover
    Given the losses are:
      | category            | amount  |
      | regulatory_response | 400,000 |
    When the claim is adjudicated
    Then "regulatory_response" is covered under "000 §8 イ④; §9 イ②"
    And "regulatory_response" pays 400,000 yen
    And rule FK-TRIG-REGULATORY-REPORT fires
    And rule FK-MAP-REGULATORY fires

  Scenario: Regulatory costs without a report wait to know whether a breach of law was recognised (000 §8 イ④ second limb)
    Given no report was made
    And the losses are:
      | category            | amount  |
      | regulatory_response | 400,000 |
    When the claim is adjudicated
    Then "regulatory_response" is needs information
    And incident.breach_of_law_recognised is asked for
    And rule FK-REGULATORY-RECOGNITION-NEEDED fires

  Scenario Outline: A possible breach of law the insured recognised brings regulatory costs into cover with no filing
    Given no report was made
    And the insured <recognised> a possible breach of law
    And the losses are:
      | category            | amount  |
      | regulatory_response | 400,000 |
    When the claim is adjudicated
    Then "regulatory_response" is <status>
    And rule FK-REGULATORY-RECOGNITION-NEEDED does not fire

    Examples:
      | recognised        | status      |
      | recognised        | covered     |
      | did not recognise | not covered |

  Scenario: Regulatory costs without any report facts wait for them
    Given the claim does not say incident.reports
    And the losses are:
      | category            | amount  |
      | regulatory_response | 400,000 |
    When the claim is adjudicated
    Then "regulatory_response" is needs information
    And incident.reports is asked for
    And rule FK-REGULATORY-REPORTS-NEEDED fires

  Scenario: No regulatory procedure, no regulatory cover
    Given reports were made to individuals_notified
    When the claim is adjudicated
    Then "regulatory_response" is not covered
    And rule FK-TRIG-REGULATORY-REPORT does not fire
    And rule FK-REGULATORY-REPORTS-NEEDED does not fire

  Scenario: The lost-profit option pays lost profit and continuity costs up to its limit
    Given the lost-profit option limit is 5,000,000 yen
    And 1,000,000 yen was already paid under lost_profit
    And the losses are:
      | category         | amount    |
      | lost_profit      | 3,000,000 |
      | continuity_costs | 2,500,000 |
    When the claim is adjudicated
    Then "lost_profit" pays 3,000,000 yen
    And "continuity_costs" pays 1,000,000 yen
    And rule FK-TRIG-BI-OPTION fires
    And rule FK-MAP-LOST-PROFIT fires
    And rule FK-MAP-CONTINUITY fires
    And rule FK-BI-NO-OPTION does not fire

  Scenario: Without the option lost profit is not covered
    Given the losses are:
      | category    | amount    |
      | lost_profit | 3,000,000 |
    When the claim is adjudicated
    Then "lost_profit" is not covered
    And the total payable is 0 yen
    And rule FK-BI-NO-OPTION fires

  Scenario: The option with an unknown cause waits for it
    Given the lost-profit option limit is 5,000,000 yen
    And the claim does not say incident.cause
    When the claim is adjudicated
    Then "lost_profit" is needs information
    And rule FK-TRIG-BI-OPTION:needs:incident.cause fires

  Scenario: The leak-only plan cannot carry the option
    Given the plan is P3
    And the lost-profit option limit is 5,000,000 yen
    And the losses are:
      | category    | amount    |
      | lost_profit | 3,000,000 |
    When the claim is adjudicated
    Then "lost_profit" is not covered under "000 §9 注2"
    And rule FK-LEAK-ONLY-NO-OPTION fires
    And rule FK-REFUSE-BI-LEAK-ONLY fires
