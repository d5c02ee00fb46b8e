# Sourced by the ROM build scripts: checks that ca65/ld65 are there (Debian package cc65) and gives the build a private
# temp dir in $work, so parallel builds (tests) never share intermediates; it goes when the script exits.
for tool in ca65 ld65; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build.sh: $tool not found; install the cc65 package (apt-get install cc65)" >&2
    exit 127
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
