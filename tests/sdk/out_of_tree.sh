#!/usr/bin/env bash
# sdk.out_of_tree: the SDK as a partner gets it. Installs the `sdk` component of a Keel build tree into a
# temporary prefix, builds plugins/example standalone against it (find_package(KeelSDK 1)), and checks the
# manifest and that the library exports keel_plugin_entry only. When KEEL_BIN_DIR holds a `keel` that has
# `plugin list`, that keel must list the out-of-tree build as a loaded plugin instance.
#
#   tests/sdk/out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=${1:?usage: out_of_tree.sh BUILD_DIR SOURCE_DIR}
source=${2:?usage: out_of_tree.sh BUILD_DIR SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "sdk.out_of_tree: $*" >&2; exit 1; }

echo "== install the sdk component into $tmp/sdk"
cmake --install "$build" --component sdk --prefix "$tmp/sdk" >/dev/null
for f in include/keel/plugin_abi.h include/keel/plugin.hpp lib/cmake/KeelSDK/KeelSDKConfig.cmake \
         lib/cmake/KeelSDK/KeelSDKConfigVersion.cmake lib/cmake/KeelSDK/KeelPlugin.cmake \
         lib/cmake/KeelSDK/KeelPluginManifest.cmake lib/cmake/KeelSDK/keel-plugin.map; do
    [ -f "$tmp/sdk/$f" ] || fail "the sdk component did not install $f"
done
# The sdk component is the SDK only (and the keel-dev package's copyright and changelog): no plugin, no Keel library.
extra=$(cd "$tmp/sdk" && find . -type f | grep -v -e '^./include/keel/' -e '^./lib/cmake/KeelSDK/' \
        -e '^./share/doc/keel-dev/' || true)
[ -z "$extra" ] || fail "the sdk component installed more than the SDK: $extra"

echo "== build plugins/example standalone"
cmake -S "$source/plugins/example" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/sdk" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" >"$tmp/configure.log" 2>&1 \
    || { cat "$tmp/configure.log" >&2; fail "configuring the example against the installed SDK failed"; }
cmake --build "$tmp/build" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "building the example failed"; }
# It must have compiled against the installed headers, not the source tree's.
grep -q -- "-I$tmp/sdk/include\|-isystem $tmp/sdk/include" "$tmp/build/compile_commands.json" \
    || fail "the example was not compiled against $tmp/sdk/include"
! grep -q -- "$source/plugins/sdk/include" "$tmp/build/compile_commands.json" \
    || fail "the example saw the source tree's SDK headers"

library="$tmp/build/libkeel-plugin-example.so"
manifest="$tmp/build/example.keel-plugin.json"
[ -f "$library" ] || fail "no $library"
[ -f "$manifest" ] || fail "no manifest $manifest"

echo "== check the manifest"
python3 - "$manifest" "$library" <<'PY'
import hashlib, json, os, sys
manifest, library = sys.argv[1], sys.argv[2]
m = json.load(open(manifest))
expected = {"name": "example", "version": "1.0.0", "abi_major": 1, "abi_minor": 0,
            "capabilities": ["subscriber", "marketplace"], "library": os.path.basename(library),
            "sha256": hashlib.sha256(open(library, "rb").read()).hexdigest()}
if m != expected:
    sys.exit(f"sdk.out_of_tree: manifest {manifest}:\n  got      {m}\n  expected {expected}")
PY

echo "== check the exported symbols"
symbols=$(nm -D --defined-only "$library" | awk '{print $NF}')
[ "$symbols" = "keel_plugin_entry" ] || fail "$library exports more than keel_plugin_entry: $(echo $symbols)"

echo "== an SDK of another ABI major is refused by find_package"
mkdir -p "$tmp/major2"
cat >"$tmp/major2/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(major2 LANGUAGES NONE)
find_package(KeelSDK 2 REQUIRED)
CMAKE
if cmake -S "$tmp/major2" -B "$tmp/major2/build" -DCMAKE_PREFIX_PATH="$tmp/sdk" >"$tmp/major2.log" 2>&1; then
    fail "find_package(KeelSDK 2) accepted an SDK of ABI 1"
fi

# KEEL_BIN_DIR is build/modules as for the other tests (the binary is cli/keel there), or a directory holding keel.
keel="${KEEL_BIN_DIR:-}/cli/keel"
[ -x "$keel" ] || keel="${KEEL_BIN_DIR:-}/keel"
if [ -n "${KEEL_BIN_DIR:-}" ] && [ -x "$keel" ] && "$keel" --help 2>/dev/null | grep -q 'plugin list'; then
    echo "== $keel plugin list loads the out-of-tree build"
    mkdir -p "$tmp/plugins.d"
    printf 'plugin = example\noutput = %s\n' "$tmp/events.jsonl" >"$tmp/plugins.d/example.properties"
    # An empty SQLite database: plugin list only reads the exception queue from it (and says it could not), where
    # the default db.connection would be retried for a second. The library is unsigned.
    listing=$("$keel" --db "sqlite:$tmp/keel.db" -D "plugins.directory=$tmp/build" -D "plugins.instances=$tmp/plugins.d" \
                      -D plugins.allow_unsigned=true --json plugin list 2>"$tmp/plugin-list.err") \
        || fail "keel plugin list failed: $(cat "$tmp/plugin-list.err") $listing"
    python3 - "$listing" <<'PY' || fail "keel plugin list does not show the example as loaded: $listing"
import json, sys
listing = json.loads(sys.argv[1])
example = [i for i in listing["instances"] if i["instance"] == "example"]
assert example and example[0]["plugin"] == "example" and example[0]["state"] == "active", example
assert sorted(example[0]["capabilities"]) == ["marketplace", "subscriber"], example
assert not listing["refused"], listing["refused"]
PY
else
    echo "== skipped: KEEL_BIN_DIR has no keel with \`plugin list\` (${KEEL_BIN_DIR:-unset})"
fi
echo "sdk.out_of_tree: ok"
