"""Writes the hostile claim files of this folder (issue 14): `python tests/hostile/make_corpus.py`.

Each file's expected refusal (field and words of the message) is in expected.yaml; the files too
large or too special to keep in git (a FIFO, a 200 MB sparse file, a 20 MB string) are made by
tests/test_hostile.py itself.
"""
import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BASES = json.loads(json.dumps(yaml.safe_load((ROOT / "rules" / "test_bases.yaml").read_text(encoding="utf-8")),
                              default=str))
FK, NG = BASES["fukuoka-cyber-2025"], BASES["nagano-privacy-2016"]


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def patched(base: dict, **changes) -> dict:
    out = json.loads(json.dumps(base, default=str))
    for path, v in changes.items():
        node = out
        *parents, last = path.split("__")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = v
    return out


def write(name: str, content: str | bytes) -> None:
    path = HERE / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def main() -> None:
    fk_yaml = dump_yaml(FK)
    write("unhashable_key.yaml", fk_yaml + "? [a, b]\n: 1\n")
    write("deep_nesting.json", json.dumps(FK)[:-1] + ', "x": ' + "[" * 1000 + "]" * 1000 + "}")
    write("deep_nesting.yaml", fk_yaml + "x: " + "[" * 1000 + "]" * 1000 + "\n")
    write("deep_block_nesting.yaml", fk_yaml + "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v: 1\n")
    write("enrolled_on_year_9999.yaml", dump_yaml(patched(FK, policy__enrolled_on="9999-12-01")))
    write("date_year_10000.json", json.dumps(patched(FK, incident__occurred_on="10000-01-01")))
    write("date_far_from_period.yaml", dump_yaml(patched(FK, incident__claim_made_on="2099-01-01")))
    ng_many = patched(NG, incident__leak__personal_records=3000)
    ng_many["losses"][0]["persons"] = 4 * 10 ** 12
    write("persons_4e12.yaml", dump_yaml(ng_many))
    ng_more = patched(NG, incident__leak__personal_records=3000)
    ng_more["losses"][0]["persons"] = 3001
    write("persons_beyond_records.yaml", dump_yaml(ng_more))
    write("billion_laughs.yaml",
          'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
          + "".join(f"{k}: &{k} [{','.join(['*' + p] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi")))
    write("recursive_alias.yaml", fk_yaml + "x: &x [*x]\n")
    write("merge_key.yaml", fk_yaml.replace("policy:\n", "defaults: &d {plan: S3}\npolicy:\n  <<: *d\n", 1))
    write("python_tag.yaml", fk_yaml + "x: !!python/object/apply:os.system [echo hi]\n")
    write("duplicate_key.yaml", fk_yaml + "programme: jma-support\n")
    write("duplicate_key.json", json.dumps(FK)[:-1] + ', "programme": "jma-support"}')
    write("duplicate_nested_key.json", json.dumps(FK).replace('"plan": "S3"', '"plan": "S3", "plan": "S5"'))
    write("not_utf8.yaml", fk_yaml.encode("utf-8") + b"note: \xff\xfe\n")
    write("lone_surrogate.json", json.dumps(patched(FK, losses__0__note="x")).replace('"x"', '"\\ud800"'))
    write("integer_of_5000_digits.yaml", dump_yaml(FK).replace("amount: 1000000", "amount: " + "9" * 5000, 1))
    write("non_text_key.yaml", fk_yaml + "1: one\n")
    write("long_key.json", json.dumps(dict(FK, **{"k" * 100: 1})))
    write("claim_id_newline.json", json.dumps(patched(FK, claim_id="A\nB")))
    write("claim_id_escape.json", json.dumps(patched(FK, claim_id="\x1b[2J\x1b[HFK-1")))
    write("claim_id_bidi.json", json.dumps(patched(FK, claim_id="FK-\u202e1000-\u202c")))
    write("claim_id_blank.yaml", dump_yaml(patched(FK, claim_id="   ")))
    write("claim_id_100000.json", json.dumps(patched(FK, claim_id="x" * 100_000)))
    write("claim_id_65.json", json.dumps(patched(FK, claim_id="F" * 65)))
    write("policy_number_tab.json", json.dumps(patched(FK, policy__policy_number="FK\t123")))
    write("note_control.json", json.dumps(patched(FK, losses__0__note="ok\x07\x1b]0;owned\x07")))
    write("note_zero_width.yaml", dump_yaml(patched(FK, losses__0__note="支払\u200b済")))
    write("plan_long.json", json.dumps(patched(FK, policy__plan="S" * 500)))
    write("top_level_list.yaml", "- programme: fukuoka-cyber-2025\n")
    write("too_many_lines.json", json.dumps(dict(FK, losses=[{"category": "damages", "amount": 1}] * 1001)))
    big = dict(FK, losses=[{"category": "damages", "amount": 2 ** 53 - 1}] * 3)
    write("amounts_beyond_range.json", json.dumps(big))
    write("closure_days_huge.yaml", dump_yaml(patched(BASES["jma-support"], incident__closure_days=10 ** 15)))
    # dev_zero.yaml (a symlink to /dev/zero) is made by tests/test_hostile.py in its temporary copy
    # of this folder: committed, it would fill the disk of any tool that copies the tree.


if __name__ == "__main__":
    main()
