Feature: Who is insured, claims-made liability and brand protect (004 §4, §5)

  Background:
    Given a typical nagano-privacy-2016 claim

  Scenario: A stolen PC's leak with apology letters: liability and brand protect
    When the claim is adjudicated
    Then "liability" is covered under "004 §5 第三者への損害賠償に関する補償"
    And "brand_protect" is covered
    And rule NG-TRIG-LIABILITY fires
    And rule NG-BP-TRIGGER fires
    And rule NG-MAP-BRAND-PROTECT fires
    And rule NG-ELIG-FACILITY does not fire

  Scenario: A clinic's claim waits for its certificate (004 §4 <1>, <2>, <5>)
    Given the facility is a clinic
    When the claim is adjudicated
    Then "liability" is needs information under "004 §4 <1>"
    And "brand_protect" is needs information
    And policy.facility is asked for
    And rule NG-ELIG-FACILITY fires

  Scenario: No leak, no cover
    Given the leak is none
    When the claim is adjudicated
    Then "liability" is not covered
    And rule NG-NO-LEAK fires

  Scenario: Leak status unknown
    Given the claim does not say incident.leak.status
    When the claim is adjudicated
    Then "liability" is needs information
    And "brand_protect" is needs information
    And rule NG-TRIG-LIABILITY:needs:incident.leak.status fires
    And rule NG-BP-TRIGGER:needs:incident.leak.status fires

  Scenario: Damages claimed without a claim date
    Given the claim does not say incident.claim_made_on
    When the claim is adjudicated
    Then "liability" is needs information
    And incident.claim_made_on is asked for
    And rule NG-LIAB-CLAIM-DATE-NEEDED fires

  Scenario: Damages claimed after the period
    Given damages were first claimed on 2017-06-01
    When the claim is adjudicated
    Then "liability" is not covered
    And "brand_protect" is covered
    And rule NG-LIAB-CLAIM-AFTER-END fires

  Scenario: Damages claimed before the mid-term cover began
    Given the application was received on 2016-07-20
    When the claim is adjudicated
    Then "liability" is not covered under "004 加入にあたって <中途加入の場合>"
    And rule NG-LIAB-CLAIM-BEFORE-ENROLMENT fires
    And rule NG-BP-DISCOVERED-BEFORE-START fires

  Scenario: A leak found before the group period began, apologised for in it: brand protect pays (004 §5), liability does not
    Given the incident occurred on 2016-04-01 and was discovered on 2016-04-25
    And damages were first claimed on 2016-04-30
    And the leak was made evident by apology_letters on 2016-05-10
    And the losses are:
      | category         | amount  | persons |
      | mental_distress  | 250,000 | 5       |
      | apology_letters  | 200,000 |         |
    When the claim is adjudicated
    Then "brand_protect" is covered
    And "brand_protect" pays 80,000 yen
    And "liability" is excluded
    And rule NG-EXC-GEN-9-CLAIM-BEFORE-PERIOD fires
    And the total payable is 80,000 yen
    And rule NG-BP-DISCOVERED-BEFORE-START does not fire

  Scenario: Paid by the 10th: cover from the 1st of next month
    Given the application was received on 2016-05-10
    When the claim is adjudicated
    Then "liability" is covered
    And rule NG-LIAB-CLAIM-BEFORE-ENROLMENT does not fire
    And rule NG-BP-DISCOVERED-BEFORE-START does not fire

  Scenario: A suit abroad
    Given the circumstances include foreign_court
    When the claim is adjudicated
    Then "liability" is not covered under "004 §5; §8 日本国内の裁判所"
    And rule NG-TERRITORY-JAPAN fires

  Scenario: No apology, no brand protect
    Given nothing made the leak evident
    When the claim is adjudicated
    Then "brand_protect" is not covered
    And "liability" is covered
    And rule NG-BP-NO-APOLOGY fires

  Scenario: Apology facts unknown
    Given the claim does not say incident.evidence
    When the claim is adjudicated
    Then "brand_protect" is needs information
    And incident.evidence is asked for
    And rule NG-BP-TRIGGER:needs:incident.evidence fires

  Scenario: A corporate-information leak has no brand protect
    Given corporate information leaked
    And 0 persons' personal information leaked
    And the leaked data concern others
    And the claim does not say incident.leak.subjects
    And the losses are:
      | category          | amount    |
      | corporate_damages | 1,000,000 |
      | public_notice     | 300,000   |
    When the claim is adjudicated
    Then "brand_protect" is not covered under "004 §5 注④"
    And rule NG-BP-CORPORATE-ONLY fires

  Scenario: Whether personal data leaked is unknown
    Given the claim does not say incident.leak.personal_records
    And the claim does not say incident.leak.subjects
    When the claim is adjudicated
    Then "brand_protect" is needs information
    And rule NG-BP-PERSONAL-DATA-NEEDED fires

  Scenario: A leak discovered after the period
    Given the incident occurred on 2017-04-20 and was discovered on 2017-05-02
    And damages were first claimed on 2017-05-02
    When the claim is adjudicated
    Then "brand_protect" is not covered
    And rule NG-BP-DISCOVERED-AFTER-END fires

  Scenario: Costs this insurance does not list
    Given the losses are:
      | category               | amount  |
      | forensic_investigation | 500,000 |
      | public_notice          | 300,000 |
    When the claim is adjudicated
    Then loss line 1 pays 0 yen
    And "brand_protect" pays 170,000 yen
    And rule NG-REFUSE-UNLISTED fires
    And rule NG-MAP-LIABILITY does not fire
    And rule NG-DUTY-NO-ADMISSION fires

  Scenario: Nothing claimed yet, no claim duties
    Given no losses are claimed
    And the claim does not say incident.claim_made_on
    When the claim is adjudicated
    Then the total payable is 0 yen
    And rule NG-DUTY-GENERAL does not fire
    And rule NG-DUTY-DOCUMENTS does not fire
    And rule NG-DUTY-NO-ADMISSION does not fire
