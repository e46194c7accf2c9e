# language: ja
機能: 保険金をお支払いできない主な場合（000 §15）
  共通の免責事由はすべての補償に、費用固有の免責は各種対応費用に、
  利益損害固有の免責は利益損害・営業継続費用に適用される。
  故意・犯罪・法令違反の認識は、行為を行った被保険者だけが補償を失う。

  背景:
    前提 福岡サイバー の標準的な請求
    かつ 利益損害オプションの限度額は 5,000,000 円

  シナリオアウトライン: 共通の免責事由（事故の状況）
    前提 事故の状況に <状況> がある
    もし 判定する
    ならば 「賠償責任」は「<条項>」により免責
    かつ 「事故対応特別費用」は免責
    かつ 支払額合計は 0 円
    かつ ルール <ルール> が発火する

    例:
      | 状況               | 条項            | ルール                              |
      | bodily_injury      | 000 §15 共通④   | FK-EXC-COMMON-4-BODILY-INJURY       |
      | property_damage    | 000 §15 共通④   | FK-EXC-COMMON-4-PROPERTY            |
      | ip_infringement    | 000 §15 共通⑥   | FK-EXC-COMMON-6-IP                  |
      | fee_dispute        | 000 §15 共通⑦   | FK-EXC-COMMON-7-FEES                |
      | unfair_competition | 000 §15 共通⑧   | FK-EXC-COMMON-8-UNFAIR-COMPETITION  |
      | public_authority   | 000 §15 共通⑨   | FK-EXC-COMMON-9-PUBLIC-AUTHORITY    |
      | crypto_assets      | 000 §15 共通⑩   | FK-EXC-COMMON-10-CRYPTO             |
      | war                | 000 §15 共通⑪ア | FK-EXC-COMMON-11-WAR                |
      | national_security  | 000 §15 共通⑪ウ | FK-EXC-COMMON-11-NATIONAL-SECURITY  |

  シナリオ: 戦争の過程で行われた国家関与型のサイバー攻撃は免責（⑪イ）
    前提 国家関与型のサイバー攻撃である
    かつ 事故の状況に war がある
    もし 判定する
    ならば 「賠償責任」は「000 §15 共通⑪イ」により免責
    かつ 「事故対応特別費用」は免責
    かつ 支払額合計は 0 円
    かつ ルール FK-EXC-COMMON-11-STATE-ATTACK が発火する

  シナリオ: 国家関与型というだけのサイバー攻撃は免責されない（⑪イ・ウの要件なし）
    前提 国家関与型のサイバー攻撃である
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ 「事故対応特別費用」は補償対象
    かつ 支払額合計は 1,700,000 円
    かつ ルール FK-EXC-COMMON-11-STATE-ATTACK-ALONE が発火する
    かつ ルール FK-EXC-COMMON-11-STATE-ATTACK は発火しない

  シナリオ: 安全保障に重大な影響を与える国家関与型のサイバー攻撃は免責（⑪ウ）
    前提 国家関与型のサイバー攻撃である
    かつ 事故の状況に national_security がある
    もし 判定する
    ならば 「賠償責任」は「000 §15 共通⑪ウ」により免責
    かつ 「情報漏えい対応費用」は免責
    かつ ルール FK-EXC-COMMON-11-NATIONAL-SECURITY が発火する
    かつ ルール FK-EXC-COMMON-11-STATE-ATTACK-ALONE は発火しない

  シナリオアウトライン: 記名被保険者自身の故意・犯罪・法令違反の認識
    前提 「<行為>」の行為者は 記名被保険者
    もし 判定する
    ならば 「賠償責任」は「<条項>」により免責
    かつ ルール <ルール> が発火する
    かつ ルール FK-EXC-COMMON-1-3-ACTOR-ONLY は発火しない

    例:
      | 行為           | 条項          | ルール                          |
      | 故意           | 000 §15 共通① | FK-EXC-COMMON-1-INTENT          |
      | 犯罪行為       | 000 §15 共通② | FK-EXC-COMMON-2-CRIME           |
      | 法令違反の認識 | 000 §15 共通③ | FK-EXC-COMMON-3-KNOWN-VIOLATION |

  シナリオアウトライン: 使用人の行為では医療機関（記名被保険者）は補償を失わない
    前提 「<行為>」の行為者は 使用人
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ 支払額合計は 1,700,000 円
    かつ ルール FK-EXC-COMMON-1-3-ACTOR-ONLY が発火する
    かつ ルール <免責ルール> は発火しない

    例:
      | 行為           | 免責ルール                      |
      | 故意           | FK-EXC-COMMON-1-INTENT          |
      | 犯罪行為       | FK-EXC-COMMON-2-CRIME           |
      | 法令違反の認識 | FK-EXC-COMMON-3-KNOWN-VIOLATION |

  シナリオ: 他人の記録媒体の盗難による漏えいは財物の免責から除かれる
    前提 原因は 媒体の盗難
    かつ 事故の状況に property_damage がある
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ ルール FK-EXC-COMMON-4-MEDIA-EXCEPTION が発火する
    かつ ルール FK-EXC-COMMON-4-PROPERTY は発火しない

  シナリオ: 人的ミスによる履行遅滞は免責
    前提 原因は 人的ミス
    かつ 事故の状況に business_nonperformance がある
    もし 判定する
    ならば 「賠償責任」は「000 §15 共通⑤」により免責
    かつ ルール FK-EXC-COMMON-5-NONPERFORMANCE が発火する

  シナリオ: システムの機能停止による履行遅滞は免責されない
    前提 事故の状況に business_nonperformance がある
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ ルール FK-EXC-COMMON-5-SYSTEM-EXCEPTION が発火する
    かつ ルール FK-EXC-COMMON-5-NONPERFORMANCE は発火しない

  シナリオ: 著作権・商標権・意匠権の侵害は知的財産権の免責から除かれる
    前提 事故の状況に ip_infringement、ip_copyright_trademark_design がある
    もし 判定する
    ならば 「賠償責任」は補償対象
    かつ ルール FK-EXC-COMMON-6-IP-EXCEPTION が発火する
    かつ ルール FK-EXC-COMMON-6-IP は発火しない

  シナリオ: ただし書が戻すのは損害賠償請求だけで、同じ侵害の対応費用・利益損害は免責のまま
    前提 事故の状況に ip_infringement、ip_copyright_trademark_design がある
    かつ 損害は次のとおり:
      | 区分                   | 金額      |
      | damages                | 1,000,000 |
      | forensic_investigation | 500,000   |
      | condolence_gifts       | 200,000   |
      | lost_profit            | 300,000   |
    もし 判定する
    ならば 「賠償責任」の支払額は 1,000,000 円
    かつ 「事故対応特別費用」は「000 §15 共通⑥」により免責
    かつ 「情報漏えい対応費用」は免責
    かつ 「利益損害」は免責
    かつ 支払額合計は 1,000,000 円
    かつ ルール FK-EXC-COMMON-6-IP-COSTS が発火する

  シナリオアウトライン: 各種対応費用の固有の免責
    前提 <事実>
    もし 判定する
    ならば 「事故対応特別費用」は「<条項>」により免責
    かつ 「情報漏えい対応費用」は免責
    かつ 「賠償責任」は補償対象
    かつ ルール <ルール> が発火する

    例:
      | 事実                               | 条項             | ルール                    |
      | 情報は不正な手段により取得されていた | 000 §15 費用固有① | FK-EXC-COSTS-1-DECEIT     |
      | 漏えいした情報の本人は 役員          | 000 §15 費用固有② | FK-EXC-COSTS-2-OFFICERS   |
      | 原因は 電気・通信の停止              | 000 §15 費用固有③ | FK-EXC-COSTS-3-UTILITY    |

  シナリオ: 役員と患者の情報が漏えいした場合は役員分の費用を除いて請求する
    前提 漏えいした情報の本人は 役員、患者
    もし 判定する
    ならば 「事故対応特別費用」は補償対象
    かつ ルール FK-EXC-COSTS-2-OFFICERS-PART が発火する
    かつ ルール FK-EXC-COSTS-2-OFFICERS は発火しない

  シナリオアウトライン: 利益損害・営業継続費用の固有の免責
    前提 <事実>
    もし 判定する
    ならば 「利益損害」は「<条項>」により免責
    かつ 「営業継続費用」は免責
    かつ ルール <ルール> が発火する

    例:
      | 事実                                  | 条項             | ルール                            |
      | 事故の状況に gross_negligence がある   | 000 §15 利益固有① | FK-EXC-BI-1-INTENT-NEGLIGENCE     |
      | 事故の状況に utility_outage がある     | 000 §15 利益固有② | FK-EXC-BI-2-UTILITY               |
      | 事故の状況に labour_dispute がある     | 000 §15 利益固有③ | FK-EXC-BI-3-LABOUR                |
      | 事故の状況に political_economic がある | 000 §15 利益固有④ | FK-EXC-BI-4-POLITICAL-ECONOMIC    |
      | 事故の状況に operator_absent がある    | 000 §15 利益固有⑤ | FK-EXC-BI-5-OPERATOR-ABSENT       |
      | 事故の状況に political_violence がある | 000 §15 利益固有⑥ | FK-EXC-BI-6-POLITICAL-VIOLENCE    |
      | 事故の状況に satellite_failure がある  | 000 §15 利益固有⑦ | FK-EXC-BI-7-SATELLITE             |

  シナリオアウトライン: 新規・改定ソフトウェアの瑕疵による事故は利益損害の免責（利益固有⑧）
    前提 <事実>
    かつ 事故は新しいソフトウェアの瑕疵によるもの である
    もし 判定する
    ならば 「利益損害」は「<条項>」により免責
    かつ 「営業継続費用」は免責
    かつ 「賠償責任」は補償対象
    かつ ルール <ルール> が発火する

    例:
      | 事実                                  | 条項               | ルール                          |
      | 事故の状況に untested_software がある  | 000 §15 利益固有⑧ア | FK-EXC-BI-8-UNTESTED-SOFTWARE   |
      | 新しいソフトウェアの正式使用から 10 日   | 000 §15 利益固有⑧イ | FK-EXC-BI-8-NEW-SOFTWARE-PERIOD |
      | 新しいソフトウェアの正式使用から 0 日    | 000 §15 利益固有⑧イ | FK-EXC-BI-8-NEW-SOFTWARE-PERIOD |

  シナリオ: 正式使用から11日目以降のソフトウェアの瑕疵による事故は免責されない
    前提 新しいソフトウェアの正式使用から 11 日
    かつ 事故は新しいソフトウェアの瑕疵によるもの である
    もし 判定する
    ならば 「利益損害」は補償対象
    かつ ルール FK-EXC-BI-8-NEW-SOFTWARE-PERIOD は発火しない

  シナリオ: 正式使用から5日後の無関係なランサムウェア攻撃は利益損害を失わない
    前提 新しいソフトウェアの正式使用から 5 日
    かつ 事故は新しいソフトウェアの瑕疵によるもの ではない
    かつ 損害は次のとおり:
      | 区分        | 金額      |
      | lost_profit | 2,000,000 |
    もし 判定する
    ならば 「利益損害」は補償対象
    かつ 「利益損害」の支払額は 2,000,000 円
    かつ ルール FK-EXC-BI-8-NOT-CAUSED が発火する
    かつ ルール FK-EXC-BI-8-NEW-SOFTWARE-PERIOD は発火しない

  シナリオアウトライン: 期間内または未テストだが瑕疵との因果関係が不明なら確認を求める
    前提 <事実>
    もし 判定する
    ならば 「利益損害」は情報不足
    かつ 「賠償責任」は補償対象
    かつ incident.software_defect_caused が求められる
    かつ ルール <ルール>:needs:incident.software_defect_caused が発火する

    例:
      | 事実                                  | ルール                          |
      | 新しいソフトウェアの正式使用から 5 日    | FK-EXC-BI-8-NEW-SOFTWARE-PERIOD |
      | 事故の状況に untested_software がある  | FK-EXC-BI-8-UNTESTED-SOFTWARE   |

  シナリオ: 瑕疵による事故で正式使用からの日数が不明なら、期間外と推定せず日数を確認する
    前提 事故は新しいソフトウェアの瑕疵によるもの である
    もし 判定する
    ならば 「利益損害」は情報不足
    かつ 「営業継続費用」は情報不足
    かつ 「賠償責任」は補償対象
    かつ incident.software_days_in_production が求められる
    かつ ルール FK-EXC-BI-8-DAYS-NEEDED が発火する

  シナリオ: 瑕疵が未テストのソフトウェアのものなら日数を問わず免責（⑧ア）
    前提 事故の状況に untested_software がある
    かつ 事故は新しいソフトウェアの瑕疵によるもの である
    もし 判定する
    ならば 「利益損害」は「000 §15 利益固有⑧ア」により免責
    かつ ルール FK-EXC-BI-8-DAYS-NEEDED は発火しない

  シナリオ: 未テストのソフトウェアがあっても瑕疵によらない事故は免責されない
    前提 事故の状況に untested_software がある
    かつ 事故は新しいソフトウェアの瑕疵によるもの ではない
    もし 判定する
    ならば 「利益損害」は補償対象
    かつ ルール FK-EXC-BI-8-NOT-CAUSED が発火する
    かつ ルール FK-EXC-BI-8-UNTESTED-SOFTWARE は発火しない
