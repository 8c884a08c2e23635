#!/usr/bin/env bash
# install_test.sh BUILDDIR SOURCEROOT UPC: installs the build into a temporary
# folder (meson install --destdir), then checks what a user gets:
#   - upc, uprun, libuprun.a, uprun.h with rt_error.h, libuprun.pc, and the man pages
#     when the build made them;
#   - an embedding program (tests/run/embed_example.c) builds against the installed
#     copy with nothing but `pkg-config --cflags --libs libuprun`, and applies a bundle;
#   - `meson install --tags runtime` installs uprun alone.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) upc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "ok $1"; else echo "FAILED $1"; fail=1; fi; }

meson install -C "$build" --destdir "$tmp/root" --no-rebuild >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAILED meson install"; exit 1; }
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$tmp/root$prefix
check "upc and uprun are installed" '[ -x "$root/bin/upc" ] && [ -x "$root/bin/uprun" ]'
check "the public header is installed" '[ -f "$root/include/upgrade-plan/runtime/uprun.h" ] && [ -f "$root/include/upgrade-plan/runtime/rt_error.h" ]'
pc=$(find "$root" -name libuprun.pc | head -1)
check "libuprun.pc is installed" '[ -n "$pc" ]'
check "libuprun.a is installed" '[ -n "$(find "$root" -name libuprun.a)" ]'
if [ -d "$build/docs" ] && ls "$build/docs"/*.1 >/dev/null 2>&1; then
  check "the man pages are installed: upc(1), uprun(1), upg(5)" \
    '[ -f "$root/share/man/man1/upc.1" ] && [ -f "$root/share/man/man1/uprun.1" ] && [ -f "$root/share/man/man5/upg.5" ]'
fi

# An embedding program, built against the installed copy only.
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$tmp/root
flags=$(pkg-config --cflags --libs libuprun)
check "an embedding program builds with pkg-config alone" \
  'cc -std=c17 -Wall -Werror -o "$tmp/embed" "$src/tests/run/embed_example.c" $flags 2>"$tmp/cc.log" || { cat "$tmp/cc.log"; false; }'
"$upc" keygen -o "$tmp/k" >/dev/null
"$upc" build "$src/plans/identityserver.upg" -o "$tmp/bundle" --key "$tmp/k.key" >/dev/null
check "and applies a bundle" \
  '"$tmp/embed" "$tmp/bundle" "$tmp/k.pub" "sqlite:$tmp/app.db" >"$tmp/embed.out" 2>&1 && grep -q "5 steps applied, schema verified" "$tmp/embed.out" || { cat "$tmp/embed.out"; false; }'
check "the database it made is one uprun knows" \
  '"$root/bin/uprun" --bundle "$tmp/bundle" --pubkey "$tmp/k.pub" --db "sqlite:$tmp/app.db" status | grep -q "current version: 7.0"'

# The runtime alone.
meson install -C "$build" --destdir "$tmp/rt" --no-rebuild --tags runtime >"$tmp/rt.log" 2>&1 || cat "$tmp/rt.log"
check "--tags runtime installs uprun and not upc" '[ -x "$tmp/rt$prefix/bin/uprun" ] && [ ! -e "$tmp/rt$prefix/bin/upc" ]'
if [ -f "$root/share/man/man1/uprun.1" ]; then
  check "--tags runtime installs uprun(1) and not upc(1)" \
    '[ -f "$tmp/rt$prefix/share/man/man1/uprun.1" ] && [ ! -e "$tmp/rt$prefix/share/man/man1/upc.1" ]'
fi

[ "$fail" -eq 0 ] && echo "install: ok" || echo "install: FAILED"
exit $fail
