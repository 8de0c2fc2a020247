#!/usr/bin/env bash
# packaging.deb: builds the Debian packages from the build tree (CPack), checks them with lintian, and installs
# them on this machine as an operator would: keel version, a SQLite database migrated in /var/lib/keel, keeld
# started as the keel user with /healthz and /readyz answering, the tax plugin loaded from its package with its
# signature verified, the SDK package used to build a plugin, edited configuration kept across a reinstall, an
# ABI-incompatible plugin package refused, then remove (data kept) and purge (everything gone).
#
# usage: deb.sh BUILD_DIR SOURCE_DIR      (root: it installs packages; CTest runs it alone, RUN_SERIAL)
set -euo pipefail

build=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
packages=(keel keel-dev keel-plugin-tax keel-plugin-edi)

fail() { echo "packaging.deb: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || fail "run as root: this test installs the packages on the machine (apt-get install ./*.deb)"
for tool in cpack dpkg-deb lintian apt-get curl runuser setpriv; do
    command -v "$tool" >/dev/null || fail "$tool is missing (packaging/install-deps.sh installs it)"
done

work=$(mktemp -d /tmp/keel-deb.XXXXXX)
keeld_pid=""
status_of() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true; }
installed() { [ "$(status_of "$1")" = "install ok installed" ]; }
# Known to dpkg in any state but "not installed" (installed, half-installed, removed with its conffiles left).
known() { local s; s=$(status_of "$1"); [ -n "$s" ] && [[ "$s" != *not-installed* ]]; }
purge_all() {
    local present=()
    for p in "${packages[@]}" keel-plugin-abi-test; do
        if known "$p"; then present+=("$p"); fi
    done
    if [ ${#present[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${present[@]}" >/dev/null
    fi
}
cleanup() {
    local rc=$?
    if [ -n "$keeld_pid" ]; then kill "$keeld_pid" 2>/dev/null || true; wait "$keeld_pid" 2>/dev/null || true; fi
    purge_all || true
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

if known keel || known keel-dev || known keel-plugin-tax || known keel-plugin-edi; then
    step "purging Keel packages left by an earlier run"
    purge_all
fi

step "building the packages (cpack) from $build"
cpack --config "$build/CPackConfig.cmake" -B "$work/packages" >"$work/cpack.log" 2>&1 \
    || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
cd "$work/packages"
version=$(dpkg-deb -f keel_*.deb Version)
arch=$(dpkg --print-architecture)
for p in "keel_${version}_${arch}" "keel-dev_${version}_all" "keel-plugin-tax_${version}_${arch}" \
         "keel-plugin-edi_${version}_${arch}"; do
    [ -f "$p.deb" ] || fail "expected $p.deb; cpack made: $(ls)"
done
keel_deb="$PWD/keel_${version}_${arch}.deb"
dev_deb="$PWD/keel-dev_${version}_all.deb"
tax_deb="$PWD/keel-plugin-tax_${version}_${arch}.deb"
edi_deb="$PWD/keel-plugin-edi_${version}_${arch}.deb"

step "control fields: computed dependencies and the plugin ABI"
abi_major=$(sed -n 's/^#define KEEL_PLUGIN_ABI_MAJOR \([0-9]*\)$/\1/p' "$source_dir/plugins/sdk/include/keel/plugin_abi.h")
[ -n "$abi_major" ] || fail "cannot read KEEL_PLUGIN_ABI_MAJOR from plugin_abi.h"
dpkg-deb -f "$keel_deb" Provides | grep -qx "keel-plugin-abi-$abi_major" \
    || fail "keel does not provide keel-plugin-abi-$abi_major: $(dpkg-deb -f "$keel_deb" Provides)"
dpkg-deb -f "$tax_deb" Depends | grep -q "keel-plugin-abi-$abi_major" \
    || fail "keel-plugin-tax does not depend on keel-plugin-abi-$abi_major: $(dpkg-deb -f "$tax_deb" Depends)"
for lib in libpoco libc6 libstdc++6 libodbc libssl; do
    dpkg-deb -f "$keel_deb" Depends | grep -q "$lib" \
        || fail "keel's Depends lacks $lib (dpkg-shlibdeps): $(dpkg-deb -f "$keel_deb" Depends)"
done
dpkg-deb -f "$tax_deb" Depends | grep -q "libpoco" || fail "keel-plugin-tax's Depends lacks its POCO libraries"
dpkg-deb -f "$edi_deb" Depends | grep -q "keel-plugin-abi-$abi_major" \
    || fail "keel-plugin-edi does not depend on keel-plugin-abi-$abi_major: $(dpkg-deb -f "$edi_deb" Depends)"
tax_contents=$(dpkg-deb -c "$tax_deb")
grep -q "usr/lib/keel/plugins/tax-table.keel-plugin.json.sig" <<<"$tax_contents" \
    || fail "the tax plugin's manifest is not signed: $tax_contents"

step "lintian"
# lintian leaves its mldbm-elf-* scratch files behind in TMPDIR: in the work directory, they go with it.
mkdir -p "$work/lintian-tmp"
TMPDIR="$work/lintian-tmp" lintian --fail-on error --tag-display-limit 0 \
    "$keel_deb" "$dev_deb" "$tax_deb" "$edi_deb" | tee "$work/lintian.log"

step "an ABI-incompatible plugin package cannot be installed"
mkdir -p "$work/abi"
dpkg-deb -R "$tax_deb" "$work/abi/root"
sed -i -e "s/^Package: .*/Package: keel-plugin-abi-test/" \
       -e "s/keel-plugin-abi-$abi_major/keel-plugin-abi-$((abi_major + 1))/" "$work/abi/root/DEBIAN/control"
rm -f "$work/abi/root/DEBIAN/conffiles"
rm -rf "$work/abi/root/etc"
dpkg-deb -b "$work/abi/root" "$work/abi/keel-plugin-abi-test.deb" >/dev/null
if DEBIAN_FRONTEND=noninteractive apt-get install -y "$keel_deb" "$work/abi/keel-plugin-abi-test.deb" \
       >"$work/abi.log" 2>&1; then
    fail "apt installed a plugin that needs keel-plugin-abi-$((abi_major + 1)) next to keel (ABI $abi_major)"
fi
grep -q "keel-plugin-abi-$((abi_major + 1))" "$work/abi.log" || { cat "$work/abi.log" >&2; fail "apt refused for another reason"; }
known keel && fail "keel got installed by the refused transaction"

step "apt-get install ./*.deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$keel_deb" "$dev_deb" "$tax_deb" "$edi_deb" >"$work/install.log" 2>&1 \
    || { cat "$work/install.log" >&2; fail "apt-get install failed"; }
for p in "${packages[@]}"; do installed "$p" || fail "$p is not installed"; done

step "keel version, the keel user and the directories"
keel version | tee "$work/version.txt"
grep -q "keel" "$work/version.txt" || fail "keel version printed nothing useful"
[ "$(command -v keel)" = /usr/bin/keel ] || fail "keel is not /usr/bin/keel"
[ -x /usr/sbin/keeld ] || fail "keeld is not /usr/sbin/keeld"
getent passwd keel >/dev/null || fail "the keel system user was not created"
[ "$(getent passwd keel | cut -d: -f6)" = /var/lib/keel ] || fail "keel's home is not /var/lib/keel"
[ "$(stat -c '%U:%G %a' /var/lib/keel)" = "keel:keel 750" ] || fail "/var/lib/keel is $(stat -c '%U:%G %a' /var/lib/keel)"
[ "$(stat -c '%U:%G %a' /var/log/keel)" = "keel:keel 750" ] || fail "/var/log/keel is $(stat -c '%U:%G %a' /var/log/keel)"
[ "$(stat -c '%U:%G %a' /etc/keel/keel.properties)" = "root:keel 640" ] \
    || fail "/etc/keel/keel.properties is $(stat -c '%U:%G %a' /etc/keel/keel.properties), not root:keel 640"
[ -f /lib/systemd/system/keeld.service ] || fail "no systemd unit"
grep -q "^User=keel" /lib/systemd/system/keeld.service || fail "keeld.service does not run as keel"
for key in StateDirectory LogsDirectory ConfigurationDirectory Restart; do
    grep -q "^$key=" /lib/systemd/system/keeld.service || fail "keeld.service lacks $key"
done
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/keeld.service 2>"$work/analyze.log" \
        || { cat "$work/analyze.log" >&2; fail "systemd-analyze verify keeld.service"; }
fi
man -w keel >/dev/null 2>&1 || [ -f /usr/share/man/man1/keel.1.gz ] || fail "no man page for keel"
[ -f /usr/share/man/man8/keeld.8.gz ] || fail "no man page for keeld"

step "keel db migrate as the keel user (SQLite in /var/lib/keel)"
runuser -u keel -- keel db migrate
[ "$(stat -c '%U' /var/lib/keel/keel.db)" = keel ] || fail "/var/lib/keel/keel.db is not the keel user's"
runuser -u keel -- keel db status | tee "$work/status.txt"

step "the tax plugin loads from its package, signature verified (plugins.allow_unsigned = false)"
grep -q "^plugins.allow_unsigned = false" /etc/keel/keel.properties || fail "the packaged configuration allows unsigned plugins"
runuser -u keel -- keel plugin list | tee "$work/plugins.txt"
grep -Eq "^tax-table +tax-table [0-9.]+ +\[tax\] +active" "$work/plugins.txt" \
    || fail "the tax-table instance is not active: $(cat "$work/plugins.txt")"
runuser -u keel -- keel --json plugin list >"$work/plugins.json"
grep -q '"refused": *\[\]' "$work/plugins.json" || grep -q '"refused":\[\]' "$work/plugins.json" \
    || fail "a packaged plugin was refused: $(cat "$work/plugins.json")"

step "the EDI plugin from its package translates a partner's 850"
grep -Eq "^edi +edi-x12 [0-9.]+ +\[edi\] +active" "$work/plugins.txt" \
    || fail "the edi-x12 instance is not active: $(cat "$work/plugins.txt")"
testdata="$source_dir/../shared/testdata/x12/valid"
[ -f "$testdata/nodex12_850.edi" ] || fail "no shared test data at $testdata"
printf 'isa.qualifier = 12\nisa.id = 4405197800\nour.isa.qualifier = 01\nour.isa.id = 999999999\ncustomer = XYZ\nitems = VN\n' \
    >/etc/keel/partners/xyz.properties
runuser -u keel -- keel --json edi translate "$testdata/nodex12_850.edi" --partner xyz >"$work/translate.json" \
    || fail "keel edi translate failed: $(cat "$work/translate.json")"
grep -q '"external_id":"08292233294"' "$work/translate.json" || fail "no order from the 850: $(cat "$work/translate.json")"
rm /etc/keel/partners/xyz.properties  # the operator's file: dpkg would leave it (and /etc/keel) behind on purge

step "keeld as the keel user: /healthz and /readyz"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# setpriv executes keeld itself as keel (runuser would stay in between as its parent and answer SIGTERM itself), in
# /var/lib/keel as the unit's WorkingDirectory says.
(cd /var/lib/keel && exec setpriv --reuid keel --regid keel --init-groups /usr/sbin/keeld -D server.port="$port" \
     -D events.dispatch.interval_ms=0) >"$work/keeld.log" 2>&1 &
keeld_pid=$!
ok=0
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >"$work/healthz.json" 2>/dev/null; then ok=1; break; fi
    kill -0 "$keeld_pid" 2>/dev/null || break
    sleep 0.1
done
[ "$ok" -eq 1 ] || { cat "$work/keeld.log" >&2; fail "keeld did not answer /healthz on port $port"; }
grep -q '"ok"' "$work/healthz.json" || fail "/healthz said $(cat "$work/healthz.json")"
curl -fsS "http://127.0.0.1:$port/readyz" | grep -q '"ready"' || fail "/readyz is not ready after the migration"
user=$(ps -o user= -p "$keeld_pid" | tr -d ' ')
[ "$user" = keel ] || fail "keeld runs as '$user', not keel"
for instance in tax-table edi; do
    grep -q "plugin instance $instance:" "$work/keeld.log" \
        || { cat "$work/keeld.log" >&2; fail "keeld did not load the $instance instance"; }
done
kill -TERM "$keeld_pid"
wait "$keeld_pid" || fail "keeld exited with $? on SIGTERM"
keeld_pid=""

step "keel-dev: a plugin builds against the installed SDK"
cmake -S "$source_dir/plugins/example" -B "$work/example" -DCMAKE_BUILD_TYPE=Release >"$work/example.log" 2>&1 \
    && cmake --build "$work/example" -j 2 >>"$work/example.log" 2>&1 \
    || { cat "$work/example.log" >&2; fail "the example plugin does not build against /usr/lib/cmake/KeelSDK"; }
grep -q "/usr/lib/cmake/KeelSDK" "$work/example/CMakeCache.txt" || fail "the example did not use the packaged SDK"

step "edited configuration survives a reinstall"
echo "# edited by the operator" >>/etc/keel/keel.properties
echo "# edited by the operator" >>/etc/keel/tax/us_states.csv
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "$keel_deb" "$tax_deb" >"$work/reinstall.log" 2>&1 \
    || { cat "$work/reinstall.log" >&2; fail "reinstall failed"; }
grep -q "edited by the operator" /etc/keel/keel.properties || fail "the reinstall overwrote /etc/keel/keel.properties"
grep -q "edited by the operator" /etc/keel/tax/us_states.csv || fail "the reinstall overwrote /etc/keel/tax/us_states.csv"
[ "$(stat -c '%U:%G %a' /etc/keel/keel.properties)" = "root:keel 640" ] || fail "the reinstall changed keel.properties' mode"
[ -f /var/lib/keel/keel.db ] || fail "the reinstall lost the database"

step "remove keeps the data and the configuration"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${packages[@]}" >"$work/remove.log" 2>&1 \
    || { cat "$work/remove.log" >&2; fail "apt-get remove failed"; }
[ ! -e /usr/bin/keel ] || fail "/usr/bin/keel is still there after remove"
[ -f /var/lib/keel/keel.db ] || fail "remove deleted the database"
[ -f /etc/keel/keel.properties ] || fail "remove deleted /etc/keel/keel.properties"
getent passwd keel >/dev/null || fail "remove deleted the keel user"

step "purge removes everything"
left=()
for p in "${packages[@]}"; do if known "$p"; then left+=("$p"); fi; done
known keel || fail "keel is not left with its configuration after remove: $(status_of keel)"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${left[@]}" >"$work/purge.log" 2>&1 \
    || { cat "$work/purge.log" >&2; fail "apt-get purge failed"; }
for path in /var/lib/keel /var/log/keel /etc/keel /usr/lib/keel /usr/share/keel /lib/systemd/system/keeld.service; do
    [ ! -e "$path" ] || fail "$path is still there after purge: $(ls -la "$path")"
done
getent passwd keel >/dev/null && fail "the keel user is still there after purge"
dpkg-statoverride --list /etc/keel/keel.properties >/dev/null 2>&1 && fail "a stat override is left after purge"
for p in "${packages[@]}"; do
    known "$p" && fail "$p is left in dpkg's database: $(status_of "$p")"
done

echo "packaging.deb: OK ($version: ${packages[*]})"
