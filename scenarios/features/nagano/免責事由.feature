# language: ja
機能: 保険金をお支払いできない主な場合（004 §7）
  普通保険約款と個人情報取扱事業者特約条項の免責事由。
  使用人等の犯罪行為による漏えいは使用人等犯罪行為復活担保により補償される。

  背景:
    前提 長野個人情報漏えい の標準的な請求

  シナリオアウトライン: 事故の状況による免責
    前提 事故の状況に <状況> がある
    もし 判定する
    ならば 「賠償責任」は「<条項>」により免責
    かつ 「ブランドプロテクト費用」は免責
    かつ ルール <ルール> が発火する

    例:
      | 状況                            | 条項            | ルール                                |
      | illegal_private_gain            | 004 §7 普通約款④  | NG-EXC-GEN-4-PRIVATE-GAIN             |
      | bodily_injury                   | 004 §7 普通約款⑤ア | NG-EXC-GEN-5-BODILY-INJURY           |
      | property_damage                 | 004 §7 普通約款⑤イ | NG-EXC-GEN-5-PROPERTY                |
      | suit_before_retroactive_date    | 004 §7 普通約款⑦  | NG-EXC-GEN-7-SUIT-BEFORE-RETRO        |
      | prior_knowledge                 | 004 §7 普通約款⑧  | NG-EXC-GEN-8-PRIOR-KNOWLEDGE          |
      | pollution                       | 004 §7 普通約款⑩  | NG-EXC-GEN-10-POLLUTION               |
      | nuclear                         | 004 §7 普通約款⑪  | NG-EXC-GEN-11-NUCLEAR                 |
      | war                             | 004 §7 普通約款⑫  | NG-EXC-GEN-12-WAR                     |
      | natural_disaster                | 004 §7 普通約款⑬  | NG-EXC-GEN-13-NATURAL-DISASTER        |
      | outside_ordinary_business       | 004 §7 普通約款⑭  | NG-EXC-GEN-14-OUTSIDE-BUSINESS        |
      | employment_practices            | 004 §7 普通約款⑯  | NG-EXC-GEN-16-EMPLOYMENT              |
      | purpose_exceeded                | 004 §7 特約①     | NG-EXC-PI-1-PURPOSE-EXCEEDED          |
      | no_access_control               | 004 §7 特約③     | NG-EXC-PI-3-NO-ACCESS-CONTROL         |
      | regulator_order_uncorrected     | 004 §7 特約④     | NG-EXC-PI-4-REGULATOR-ORDER           |
      | political_violence              | 004 §7 特約⑤     | NG-EXC-PI-5-POLITICAL-VIOLENCE        |
      | before_premium_received         | 004 §7 特約⑥     | NG-EXC-PI-6-BEFORE-PREMIUM            |
      | unrelated_purpose_change        | 004 §7 特約⑦     | NG-EXC-PI-7-UNRELATED-PURPOSE         |
      | purpose_not_notified            | 004 §7 特約⑧     | NG-EXC-PI-8-PURPOSE-NOT-NOTIFIED      |
      | third_party_provision_claim     | 004 §7 特約⑨     | NG-EXC-PI-9-THIRD-PARTY-PROVISION     |
      | received_from_third_party_claim | 004 §7 特約⑩     | NG-EXC-PI-10-RECEIVED-FROM-THIRD-PARTY |

  シナリオアウトライン: 請求者を名指す免責（⑮・⑰）は賠償責任だけを除く
    # ⑮・⑰ は特定の請求者からの損害賠償請求を除くもので、漏えいそのものではない: 他の本人への賠償責任が残る
    # ため、謝罪広告のブランドプロテクト費用は支払う（300,000 × 90% − 100,000 = 170,000）
    前提 事故の状況に <状況> がある
    もし 判定する
    ならば 「賠償責任」は「<条項>」により免責
    かつ 「ブランドプロテクト費用」の支払額は 170,000 円
    かつ ルール <ルール> が発火する

    例:
      | 状況                   | 条項            | ルール                      |
      | household_family_claim | 004 §7 普通約款⑮  | NG-EXC-GEN-15-HOUSEHOLD     |
      | claim_by_other_insured | 004 §7 普通約款⑰  | NG-EXC-GEN-17-OTHER-INSURED |

  シナリオアウトライン: 被保険者（医療機関）自身の故意・犯罪行為・法令違反の認識
    前提 「<行為>」の行為者は 記名被保険者
    もし 判定する
    ならば 「賠償責任」は「<条項>」により免責
    かつ ルール <ルール> が発火する

    例:
      | 行為           | 条項            | ルール                       |
      | 故意           | 004 §7 普通約款① | NG-EXC-GEN-1-INTENT          |
      | 犯罪行為       | 004 §7 普通約款② | NG-EXC-GEN-2-CRIME           |
      | 法令違反の認識 | 004 §7 普通約款③ | NG-EXC-GEN-3-KNOWN-VIOLATION |

  シナリオ: 使用人の犯罪行為による漏えいは補償される（使用人等犯罪行為復活担保）
    前提 原因は 使用人の犯罪
    かつ 「犯罪行為」の行為者は 使用人
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ ルール NG-EMPLOYEE-CRIME-RESTORED が発火する
    かつ ルール NG-EXC-GEN-2-CRIME は発火しない

  シナリオ: 遡及日より前の行為は免責
    前提 遡及日は 2016-06-15
    もし 判定する
    ならば 「賠償責任」は「004 §7 普通約款⑥」により免責
    かつ ルール NG-EXC-GEN-6-RETROACTIVE が発火する

  シナリオ: 遡及日より後の行為は対象
    前提 遡及日は 2012-05-01
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ ルール NG-EXC-GEN-6-RETROACTIVE は発火しない

  シナリオ: 保険期間開始前の損害賠償請求は免責
    前提 事故は 2016-03-01 に発生し 2016-06-11 に発見された
    かつ 損害賠償請求は 2016-04-01 になされた
    もし 判定する
    ならば 「賠償責任」は「004 §7 普通約款⑨」により免責
    かつ ルール NG-EXC-GEN-9-CLAIM-BEFORE-PERIOD が発火する

  シナリオ: 地震などの自然災害が原因の漏えいは免責
    前提 原因は 自然災害
    もし 判定する
    ならば 「賠償責任」は免責
    かつ ルール NG-EXC-GEN-13-NATURAL-DISASTER が発火する

  シナリオ: 不正な手段で取得した個人情報の漏えいは免責
    前提 情報は不正な手段により取得されていた
    もし 判定する
    ならば 「賠償責任」は「004 §7 特約②」により免責
    かつ ルール NG-EXC-PI-2-DECEIT が発火する

  シナリオ: 不正確なデータ等で加重された賠償責任は分けて請求する
    前提 事故の状況に aggravated_by_data_or_requests がある
    もし 判定する
    ならば 「賠償責任」は情報不足
    かつ losses が求められる
    かつ ルール NG-EXC-PI-11-AGGRAVATED が発火する
