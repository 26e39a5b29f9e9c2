#!/bin/sh
# Launcher for @NAME@: finds a JDK 21 or newer and runs the built jars.
# Works in the source tree (after `make`) and after `make install`.
self=$(readlink -f "$0")
here=$(dirname "$self")
if [ -d "$here/build/lib" ]; then
    home="$here/build"
elif [ -d "$here/../share/reversetunnel/lib" ]; then
    home="$here/../share/reversetunnel"
else
    echo "@NAME@: cannot find its jars next to $self (run 'make' first)" >&2
    exit 1
fi
jdk=$("$home/find-jdk") || exit 1
# -Xss/heap stay default; SerialGC and a small heap floor keep a short-lived control command cheap
# and are fine for a relay whose memory is mostly socket buffers.
exec "$jdk/bin/java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    --enable-native-access=ALL-UNNAMED \
    ${RTUNNEL_JAVA_OPTS:-} -cp "$home/lib/*" @MAIN@ "$@"
