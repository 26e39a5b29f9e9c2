#!/bin/sh
# Launcher for @NAME@: finds a JDK 21 or newer and runs the built jars.
# Works in the source tree (after `make`) and after `make install`.
self=$(readlink -f "$0")
here=$(dirname "$self")
if [ -d "$here/build/lib" ]; then
    home="$here/build"
elif [ -d "$here/../share/rtunnel/lib" ]; then
    home="$here/../share/rtunnel"
else
    echo "@NAME@: cannot find its jars next to $self (run 'make' first)" >&2
    exit 1
fi
jdk=$("$home/find-jdk") || exit 1
# A one-shot command (control requests, --help) wants a fast start: the C1 compiler only. A
# server or a relay wants full speed: both compilers. SerialGC suits both: a relay's memory is
# mostly socket buffers, and idle tunnels should cost little.
jit=""
for a in "$@"; do
    case "$a" in
        --list-*|--lastip-*|--addip-*|--delip-*|--kill-tunnel*|--approve*|--revoke*|--port-of*|\
        --help|-h|--version|--generate-*) jit="-XX:TieredStopAtLevel=1" ;;
    esac
done
# One-shot commands also keep a class data sharing archive of their own classes (made by the JVM
# on first use, per JDK, in the user's cache), which takes a good share off every later start.
# Servers do not: they start once, and many of them exiting at once would race on the file.
cds=""
cache="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/rtunnel"
if [ -n "$jit" ] && mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; then
    cds="-XX:SharedArchiveFile=$cache/@NAME@-$(basename "$jdk").jsa -XX:+AutoCreateSharedArchive -Xlog:cds=off -Xlog:cds+dynamic=off"
fi
# Our own jars first, so a command finds its classes without opening the big libraries it does not
# need (a control command never touches BouncyCastle, JNA or junixsocket); the wildcard adds the rest.
cp=""
for j in "$home"/lib/*-rtunnel-*.jar "$home"/lib/common-*.jar "$home"/lib/picocli-*.jar; do
    [ -f "$j" ] && cp="$cp$j:"
done
# Native access is for the server's libraries (junixsocket, JNA); a one-shot command loads none,
# and leaving the flag out keeps class data sharing's optimized module handling on.
native="--enable-native-access=ALL-UNNAMED"
[ -n "$jit" ] && native=""
exec "$jdk/bin/java" -XX:+UseSerialGC $jit $cds -Xshare:auto $native \
    ${RTUNNEL_JAVA_OPTS:-} -cp "$cp$home/lib/*" @MAIN@ "$@"
