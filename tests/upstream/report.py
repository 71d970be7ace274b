"""Tally upstream's public-API tests from pytest JUnit files against the expected differences.

Owns: the verdict of tests/upstream/run.sh. Inputs: the classification
(classify.py output), a directory of per-file JUnit XML reports, the files
that did not finish (timeout), and docs/upstream-expected.tsv (test id, reason,
owner; a test id without ``[params]`` covers all its parametrizations).
Prints ``upstream public-API tests: N passed, M failed, K expected`` and exits
1 when a public test failed without being listed. Must not touch: the test
tree or the classification rule.

Usage: report.py CLASSES_TSV JUNIT_DIR EXPECTED_TSV [UNFINISHED_FILE ...]
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def read_classes(path):
    classes = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        test_id, kind, _why = line.split("\t", 2)
        classes[test_id] = kind
    return classes


def read_expected(path):
    expected = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            sys.exit("%s:%d: expected 'test id<TAB>reason<TAB>owner', got %r" % (path, number, line))
        expected[fields[0]] = (fields[1], fields[2])
    return expected


def case_id(testcase):
    """'file.py::Class::name[params]' from a JUnit testcase's classname and name."""
    parts = testcase.get("classname", "").split(".")
    for i, part in enumerate(parts):
        if part.startswith("test_"):
            return "::".join(["%s.py" % part] + parts[i + 1:] + [testcase.get("name", "")])
    return "::".join(parts + [testcase.get("name", "")])


def outcome(testcase):
    for child in testcase:
        if child.tag in ("failure", "error"):
            return "failed", (child.get("message") or "").splitlines()[0:1]
        if child.tag == "skipped":
            return "skipped", [(child.get("message") or "")]
    return "passed", []


def collect(junit_dir):
    """{test id with params: (outcome, message)} over all JUnit files."""
    results = {}
    for xml in sorted(Path(junit_dir).glob("*.xml")):
        for testcase in ET.parse(xml).getroot().iter("testcase"):
            status, message = outcome(testcase)
            results[case_id(testcase)] = (status, " ".join(message)[:160])
    return results


def main():
    classes_tsv, junit_dir, expected_tsv, *unfinished = sys.argv[1:]
    classes = read_classes(classes_tsv)
    expected = read_expected(expected_tsv)
    results = collect(junit_dir)
    counts = {"passed": 0, "failed": 0, "expected": 0, "skipped": 0}
    unexpected, fixed, seen = [], [], set()
    private_passed = private_total = 0
    for full, (status, message) in sorted(results.items()):
        base = full.split("[", 1)[0]
        kind = classes.get(base)
        if kind is None:
            continue  # a collection error line: its tests are counted as missing below
        seen.add(base)
        if kind == "private":
            private_total += 1
            private_passed += status == "passed"
            continue
        listed = expected.get(full) or expected.get(base)
        if status == "failed" and listed:
            counts["expected"] += 1
        elif status == "failed":
            counts["failed"] += 1
            unexpected.append("%s: %s" % (full, message))
        else:
            counts[status] += 1
            if listed and status == "passed":
                fixed.append(full)
    for base, kind in sorted(classes.items()):
        if kind != "public" or base in seen:
            continue
        why = "did not finish (timeout)" if base.split("::")[0] in unfinished else "not run (collection error)"
        if expected.get(base):
            counts["expected"] += 1
        else:
            counts["failed"] += 1
            unexpected.append("%s: %s" % (base, why))
    for line in unexpected:
        print("FAILED (not in %s) %s" % (Path(expected_tsv).name, line))
    for line in fixed:
        print("now passes, remove from %s: %s" % (Path(expected_tsv).name, line))
    print("upstream private tests (information only): %d of %d ran and passed"
          % (private_passed, private_total))
    print("upstream public-API tests: %d passed, %d failed, %d expected"
          % (counts["passed"], counts["failed"], counts["expected"]))
    print("upstream public-API tests skipped by upstream's own conditions: %d" % counts["skipped"])
    sys.exit(1 if counts["failed"] else 0)


if __name__ == "__main__":
    main()
