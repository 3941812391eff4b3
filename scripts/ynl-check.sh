#!/usr/bin/env bash
# Keeps Documentation/netlink/specs/vnacct.yaml and include/uapi/linux/vnacct.h
# in sync: every enum value, count/max name, define and multicast group the
# spec implies must exist in the header with the same value (checked by the C
# compiler), every VNACCT_* name in the header must come from the spec, and
# the spec must validate against the kernel's genetlink-c schema when one is
# available (~/.cache/vnacct/linux-source-6.12, see scripts/ynl-fetch.sh).
# Usage: scripts/ynl-check.sh   (exit 0 when in sync)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
spec=Documentation/netlink/specs/vnacct.yaml
hdr=include/uapi/linux/vnacct.h
schema=${VNACCT_YNL_SCHEMA:-$HOME/.cache/vnacct/linux-source-6.12/Documentation/netlink/genetlink-c.yaml}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$spec" "$hdr" "$schema" "$tmp" <<'PY'
import os, re, sys, yaml
spec_p, hdr_p, schema_p, tmp = sys.argv[1:]
spec = yaml.safe_load(open(spec_p))
if os.path.exists(schema_p):
    import jsonschema
    jsonschema.validate(spec, yaml.safe_load(open(schema_p)))
    print(f"ynl-check: {spec_p} validates against {schema_p}")
else:
    print(f"ynl-check: no schema at {schema_p}, schema check skipped")

def c(s):
    return s.upper().replace("-", "_")

want = {}      # C name -> int value
enums = {}     # C enum name -> list of C names
for d in spec.get("definitions", []):
    if d["type"] != "enum":
        continue
    v = d.get("value-start", 0)
    names = []
    for e in d["entries"]:
        e = e if isinstance(e, dict) else {"name": e}
        n = d["name-prefix"] + c(e["name"])
        want[n] = e.get("value", v)
        v = want[n] + 1
        names.append(n)
    enums[d["enum-name"]] = names
for s in spec["attribute-sets"]:
    v = 0
    names = []
    for a in s["attributes"]:
        n = s["name-prefix"] + c(a["name"])
        want[n] = a.get("value", v)
        v = want[n] + 1
        names.append(n)
    want[s["attr-cnt-name"]] = v
    want[s["attr-max-name"]] = v - 1
    enums[s["enum-name"]] = names + [s["attr-cnt-name"], s["attr-max-name"]]
ops = spec["operations"]
v = 1
names = [ops["name-prefix"] + "UNSPEC"]
want[names[0]] = 0
for o in ops["list"]:
    n = ops["name-prefix"] + c(o["name"])
    want[n] = o.get("value", v)
    v = want[n] + 1
    names.append(n)
want[spec["cmd-cnt-name"]] = v
want[spec["cmd-max-name"]] = v - 1
enums[ops["enum-name"]] = names + [spec["cmd-cnt-name"], spec["cmd-max-name"]]
strs = {spec["c-family-name"]: spec["name"]}
for g in spec["mcast-groups"]["list"]:
    strs[g["c-define-name"]] = g["name"]
nums = {spec["c-version-name"]: spec.get("version", 1)}

hdr = open(hdr_p).read()
bad = []
# Every enum the spec names exists, with exactly the spec's enumerators.
for en, names in enums.items():
    m = re.search(r"enum\s+%s\s*\{(.*?)\};" % en, hdr, re.S)
    if not m:
        bad.append(f"enum {en} missing in the header")
        continue
    got = re.findall(r"^\s*(\w+)\s*(?:=[^,]*)?,?\s*$", m.group(1), re.M)
    if got != names:
        bad.append(f"enum {en}: header {got} != spec {names}")
# Every VNACCT_* name the header defines comes from the spec.
defined = set(re.findall(r"^\s*(VNACCT_\w+|__VNACCT_\w+)\s*[,=]", hdr, re.M))
defined |= set(re.findall(r"^#define\s+(VNACCT_\w+)", hdr, re.M))
defined.discard("_UAPI_LINUX_VNACCT_H")
extra = defined - set(want) - set(strs) - set(nums)
if extra:
    bad.append(f"header names not in the spec: {sorted(extra)}")
with open(os.path.join(tmp, "t.c"), "w") as f:
    f.write('#include <string.h>\n#include "%s"\n' % os.path.abspath(hdr_p))
    for n, v in want.items():
        f.write(f'_Static_assert({n} == {v}, "{n} must be {v}");\n')
    for n, v in nums.items():
        f.write(f'_Static_assert({n} == {v}, "{n} must be {v}");\n')
    f.write("int main(void)\n{\n")
    for n, v in strs.items():
        f.write(f'\tif (strcmp({n}, "{v}")) return 1;\n')
    f.write("\treturn 0;\n}\n")
for b in bad:
    print(f"ynl-check: {b}")
sys.exit(1 if bad else 0)
PY
cc -Wall -Werror -o "$tmp/t" "$tmp/t.c"
"$tmp/t" || { echo "ynl-check: string defines differ from the spec" >&2; exit 1; }
echo "ynl-check: $spec and $hdr are in sync"
