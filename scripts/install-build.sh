#!/bin/sh
# Lays out build/ (jars, JDK finder) and the two launchers from the Maven output. Every file is
# replaced by rename, so programs that are running (or starting) while a rebuild happens keep
# seeing whole files: the old ones or the new ones.
set -eu
cd "$(dirname "$0")/.."
mkdir -p build/lib
put() { # put SRC DEST: copy beside DEST, then rename over it
    cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}
want=""
for jar in common/target/common-*.jar fixed-rtunnel/target/fixed-rtunnel-*.jar \
           dynamic-rtunnel/target/dynamic-rtunnel-*.jar fixed-rtunnel/target/lib/*.jar dynamic-rtunnel/target/lib/*.jar; do
    name=$(basename "$jar")
    case " $want " in *" $name "*) continue ;; esac
    want="$want $name"
    put "$jar" "build/lib/$name"
done
for old in build/lib/*.jar; do # drop jars of an earlier build that are no longer wanted
    case " $want " in *" $(basename "$old") "*) ;; *) rm -f "$old" ;; esac
done
# The build's id names the per-user class data sharing archives (scripts/launcher.sh).
cat build/lib/*.jar | cksum | { read -r sum size; echo "$sum-$size"; } > build/build-id.tmp.$$
mv -f build/build-id.tmp.$$ build/build-id
put scripts/find-jdk build/find-jdk
chmod +x build/find-jdk
for prog in fixed_rtunnel:rtunnel.fixed.FixedMain dynamic_rtunnel:rtunnel.dynamic.DynamicMain; do
    name=${prog%%:*}
    main=${prog#*:}
    sed -e "s/@NAME@/$name/g" -e "s/@MAIN@/$main/" scripts/launcher.sh > "$name.tmp.$$"
    chmod +x "$name.tmp.$$"
    mv -f "$name.tmp.$$" "$name"
done
