#!/usr/bin/env bash
# Every section of docs/formats.md that the sources cite ("formats.md §2.2", or a bare "§1.3" in a
# file that cites formats.md throughout; ranges such as "§1.1-1.3" cite each section in between)
# must exist as a heading of docs/formats.md, so that no citation points nowhere.
# Usage: check_formats_citations.sh SOURCE_DIR
set -euo pipefail
source_dir=${1:?usage: check_formats_citations.sh SOURCE_DIR}
document="$source_dir/docs/formats.md"
[[ -f $document ]] || { echo "FAIL: $document does not exist"; exit 1; }

section_sign=$'\xc2\xa7'
# Heading numbers: "## 2. Microsoft ..." -> 2, "### 2.4 Activation ..." -> 2.4.
headings=$(awk '/^##+ [0-9]/ { number = $2; sub(/\.$/, "", number); print number }' "$document" | sort -u)

folders=()
for folder in lib kernels shaders tests tools examples include bench bindings docs; do
  [[ -d $source_dir/$folder ]] && folders+=("$source_dir/$folder")
done
[[ -f $source_dir/README.md ]] && folders+=("$source_dir/README.md")

# Each citation with where it is: "path:line:§1.1-1.3".
# (node_modules: third-party packages the tests install, with their own § citations.)
citations=$(grep -rnoP --exclude="$(basename "$0")" --exclude-dir=node_modules "${section_sign} ?[0-9]+(\\.[0-9]+)?(-${section_sign}?[0-9]+(\\.[0-9]+)?)?" \
  "${folders[@]}" || true)
[[ -n $citations ]] || { echo "FAIL: found no citations at all (is the pattern right?)"; exit 1; }

missing=0
checked=0
while IFS= read -r line; do
  location=${line%:*}
  cited=${line##*:}
  cited=${cited//$section_sign/}
  cited=${cited// /}
  first=${cited%%-*}
  last=${cited##*-}
  numbers=("$first")
  if [[ $first != "$last" ]]; then
    # A range within one section: 1.1-1.3 -> 1.1 1.2 1.3.
    major=${first%%.*}
    if [[ $first != *.* || $last != "$major".* ]]; then
      echo "FAIL: $location: cannot expand the range $section_sign$cited"
      missing=$((missing + 1))
      continue
    fi
    numbers=()
    for ((minor = ${first#*.}; minor <= ${last#*.}; minor++)); do numbers+=("$major.$minor"); done
  fi
  for number in "${numbers[@]}"; do
    checked=$((checked + 1))
    if ! grep -qxF "$number" <<<"$headings"; then
      echo "FAIL: $location cites $section_sign$number, which docs/formats.md does not have"
      missing=$((missing + 1))
    fi
  done
done <<<"$citations"

if ((missing > 0)); then
  echo "$missing citation(s) of docs/formats.md point at no section"
  exit 1
fi
echo "ok: $checked cited sections all exist in docs/formats.md"
