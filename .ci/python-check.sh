#!/usr/bin/env bash
# The short check of one more supported Python X.Y (the full suite runs on one interpreter): a fresh virtualenv in
# .venv-X.Y, the package with its dev tools, migrate, the small demo, one funnel, one Markov attribution and the API
# smoke tests. Prints one line; an interpreter this machine does not have is skipped with a note.
#   .ci/python-check.sh 3.12
set -uo pipefail
cd "$(dirname "$0")/.."

version=$1
py=$(.ci/python.sh "$version") || {
  echo "python $version: skipped, not installed here (pyenv install $version or apt-get install python$version to check it)"
  exit 0
}
venv=.venv-$version
data=$PWD/data/python-$version
log=$data/check.log
started=$SECONDS
rm -rf "$venv" "$data"
mkdir -p "$data"

step() {  # run one step, its output to the log (or stdout to $out); on failure show the end of the log and stop
  echo "\$ $*" >>"$log"
  "$@" >>"${out:-$log}" 2>>"$log" || {
    echo "python $version: FAILED at: $*" >&2
    tail -n 30 "$log" >&2
    exit 1
  }
}

step "$py" -m venv "$venv"
step "$venv/bin/pip" install -q --no-compile -e ".[dev]"  # modules compile on first import: faster
installed=$((SECONDS - started))

export SMARKETING_DATA_DIR=$data DATABASE_URL=sqlite:///$data/smarketing.db
step "$venv/bin/smarketing" migrate
step "$venv/bin/smarketing" seed --size small
out=$data/funnel.json step "$venv/bin/smarketing" funnel --from mql --to customer --json
out=$data/attribution.json step "$venv/bin/smarketing" attribution --model markov --json
unset DATABASE_URL
SMARKETING_DATA_DIR=$data/pytest step "$venv/bin/pytest" -q -p no:cacheprovider -m "not browser" \
  tests/test_openapi.py src/smarketing/crm/tests/test_api.py

summary=$("$venv/bin/python" - "$data" "$log" <<'EOF'
import json, re, sys
data, log = sys.argv[1], sys.argv[2]
funnel = json.load(open(f"{data}/funnel.json"))["total"]
attribution = json.load(open(f"{data}/attribution.json"))
passed = re.findall(r"(\d+) passed", open(log).read())[-1]
print(f"funnel mql→customer {funnel['entered']}→{funnel['converted']}, "
      f"markov P(convert) {attribution['conversion_probability']:.3f} over {attribution['journeys']} journeys, "
      f"{passed} API tests passed")
EOF
)
echo "python $version ($("$venv/bin/python" -V 2>&1 | cut -d' ' -f2)): ok, $summary; install ${installed} s, $((SECONDS - started)) s in all"
