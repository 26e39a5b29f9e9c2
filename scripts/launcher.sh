#!/bin/sh
# Launcher for @NAME@: finds a JDK 21 or newer and runs the built jars.
# Works in the source tree (after `make`) and after `make install`.
# Few processes before the JVM: a one-shot command's whole run is only a few times a JVM's start.
self=$0
[ -L "$self" ] && self=$(readlink -f "$self")
case "$self" in */*) here=${self%/*} ;; *) here=. ;; esac
if [ -d "$here/build/lib" ]; then
    home="$here/build"
elif [ -d "$here/../share/rtunnel/lib" ]; then
    home="$here/../share/rtunnel"
else
    echo "@NAME@: cannot find its jars next to $self (run 'make' first)" >&2
    exit 1
fi
rtunnel_find_jdk_only=1
. "$home/find-jdk"
find_jdk || exit 1
# A one-shot command (control requests, --help) wants a fast start: the C1 compiler only. A
# server or a relay wants full speed: both compilers. SerialGC suits both: a relay's memory is
# mostly socket buffers, and idle tunnels should cost little.
jit=""
control=yes
device=no
for a in "$@"; do
    case "$a" in
        --list-*|--lastip-*|--addip-*|--delip-*|--kill-tunnel*|--approve*|--revoke*|--port-of*)
            jit="-XX:TieredStopAtLevel=1" ;;
        --help|-h|--version|--generate-*) jit="-XX:TieredStopAtLevel=1"; control=no ;;
        --socketname=?*|--notroot|--json) ;;
        --device-keyfile*) device=yes; control=no ;;
        *) control=no ;;
    esac
done
[ -n "$jit" ] || control=no
# An archive of classes in the user's cache takes a good share off every later start. On JDK 25 or
# newer it is an ahead-of-time cache (classes loaded and linked), made once per build in the
# background by a training run, the lesson: for one-shot commands a control command against a
# stand-in server (fixed_rtunnel) or --version; for dynamic_rtunnel's start a whole start, up to a
# session through the tunnel, against stand-ins in the training JVM (DialRehearsal). Before JDK 25,
# one-shot commands get a class data sharing archive the JVM makes on first use, and servers none
# (many exiting at once would race on the file). The name carries the build's id: the JVM does not
# replace an archive made for other jars, it only stops using it, so each build gets its own and
# the launcher drops the others.
cds="-Xshare:auto"
train=""
kind=""
if [ -n "$jit" ]; then
    kind="@NAME@-"
    case @NAME@ in
        fixed_rtunnel) lesson="rtunnel.fixed.ControlRehearsal" ;;
        *) lesson="@MAIN@ --version" ;;
    esac
elif [ @NAME@ = dynamic_rtunnel ]; then
    kind="@NAME@.server-"
    lesson="rtunnel.dynamic.DialRehearsal"
fi
cache="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/rtunnel"
build=""
[ -r "$home/build-id" ] && read -r build < "$home/build-id"
if [ -n "$kind" ] && [ -n "$build" ] && { [ -d "$cache" ] || mkdir -p "$cache" 2>/dev/null; } && [ -w "$cache" ]; then
    rtunnel_major_of "$jdk"
    archive=""
    if [ "${major:-0}" -ge 25 ] 2>/dev/null; then
        archive="$cache/$kind${jdk##*/}-$build.aot"
        if [ -f "$archive" ]; then
            cds="-XX:AOTCache=$archive -Xlog:aot=off -Xlog:cds=off"
        else
            train="$archive"
        fi
    elif [ -n "$jit" ]; then
        archive="$cache/$kind${jdk##*/}-$build.jsa"
        cds="-Xshare:auto -XX:SharedArchiveFile=$archive -XX:+AutoCreateSharedArchive -Xlog:cds=off -Xlog:cds+dynamic=off"
    fi
    # Everything else of this kind goes: other builds' archives, and what killed trainings left.
    for old in "$cache"/$kind*; do
        case "$old" in
            "$archive"|"$archive".*) ;;
            *) [ ! -e "$old" ] || rm -rf "$old" ;;
        esac
    done
fi
# Our own jars and the small ones first, so a command finds its classes without opening the big
# libraries it does not need; the wildcard adds the rest. A command made only of control options
# gets no wildcard at all: it never touches BouncyCastle, JNA or junixsocket, and the JDK opens every
# jar on the class path once a Unix-domain socket is opened (it looks for a SelectorProvider
# service), ~30 ms for those three. The training run uses the same short path: an archive made
# with it serves both, as the JVM accepts a class path that extends the one it was made with.
cp=""
for j in "$home"/lib/*-rtunnel-*.jar "$home"/lib/common-*.jar "$home"/lib/picocli-*.jar "$home"/lib/slf4j-*.jar; do
    [ -f "$j" ] && cp="$cp$j:"
done
base="$home/lib/*"
all=$base
if [ @NAME@ = dynamic_rtunnel ]; then
    # dynamic_rtunnel needs BouncyCastle only for a device key's certificate. Leaving it off the
    # class path saves every other start ~30 ms: JCE's set-up looks through every jar on the class
    # path for a service file, and BouncyCastle's three hold 7,300 entries and a signed manifest.
    base=""
    bc=""
    for j in "$home"/lib/*.jar; do
        case "$cp" in *"$j:"*) continue ;; esac
        case "${j##*/}" in
            bc*) bc="$bc:$j" ;;
            *) base="$base:$j" ;;
        esac
    done
    base=${base#:}
    all=$base
    [ "$device" = yes ] && all="$all$bc"
fi
[ "$control" = yes ] && all=""
# Native access is for the server's libraries (junixsocket, JNA); a one-shot command loads none,
# and leaving the flag out keeps class data sharing's optimized module handling on.
# Nor does it need the performance-data file every JVM creates in /tmp for jstat and jps.
native="--enable-native-access=ALL-UNNAMED"
# The server's busy links make their sockets blocking again (LinkSocket.blockReads: a wait is one
# read, not three calls), which the JDK offers no call for. Not for dynamic_rtunnel, whose link
# is never made non-blocking (and whose start would lose ~10 ms: class archives keep no
# optimized module graph when packages are opened).
[ @NAME@ = fixed_rtunnel ] && native="$native --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
[ -n "$jit" ] && native="-XX:-UsePerfData"
# dynamic_rtunnel's start runs on someone's clock (a tunnel coming up, a reconnect), and most of what
# it runs, it runs once: options, the JDK's TLS and crypto set-up, the handshake. On two cores,
# compiling that code costs more than interpreting it, so the JIT waits ten times longer than usual
# for everything but the data path, which compiles as soon as usual: TLS records, AES-GCM, sockets,
# buffers, locks, our own classes, and the JDK classes they call that the JIT's log showed reaching
# C2 only 11-38 s into a transfer otherwise (thread-local buffer caches, Unsafe copies, the
# selector's hash sets, streams). Measured with interleaved starts: ~350 -> ~300 ms to a session
# through the tunnel; throughput the same.
jitwait=""
if [ @NAME@ = dynamic_rtunnel ] && [ -z "$jit" ]; then
    jitwait="-XX:CompileThresholdScaling=10 -XX:CompileCommand=quiet"
    for c in 'com/sun/crypto/provider/*' 'javax/crypto/*' 'sun/security/ssl/*' 'sun/nio/ch/*' 'java/nio/*' \
            'java/net/*' 'java/io/*' 'java/util/concurrent/*' 'jdk/internal/misc/*' 'java/lang/ThreadLocal*' \
            'java/util/HashMap*' 'java/util/HashSet*' 'java/util/ArrayList*' 'java/util/ArrayDeque*' \
            'java/util/Objects' 'java/util/Arrays' 'java/lang/invoke/Invokers$Holder' \
            'java/lang/invoke/DirectMethodHandle$Holder' 'rtunnel/*'; do
        jitwait="$jitwait -XX:CompileCommand=CompileThresholdScaling,$c.*,0.1"
    done
fi
# One training at a time per archive (a lock directory; one left behind by a killed training
# expires after 2 minutes), in a session of its own so that the signal ending a command (Ctrl-C,
# timeout) does not end it too, and without the user's settings that a lesson would take as its
# own. The archive appears under its final name only when the lesson went well.
if [ -n "$train" ]; then
    find "$cache" -maxdepth 1 -name '*.lock' -mmin +2 -exec rmdir {} + 2>/dev/null
    if mkdir "$train.lock" 2>/dev/null; then
        rm -f "$train".*.tmp*
        tcp="${cp%:}"
        [ -n "$jit" ] || tcp="$tcp${base:+:$base}"
        setsid=""
        for s in /usr/bin/setsid /bin/setsid; do [ -x "$s" ] && setsid=$s && break; done
        tmp="$train.$$.tmp"
        $setsid sh -c 'tmp=$1 train=$2; shift 2; unset RTUNNEL_PASSWORD NOTIFY_SOCKET
            if "$@" && [ -s "$tmp" ]; then mv -f "$tmp" "$train"; fi
            rm -f "$tmp"*; rmdir "$train.lock"' rtunnel-training "$tmp" "$train" \
            "$jdk/bin/java" -XX:+UseSerialGC $jit $native -XX:AOTCacheOutput="$tmp" -Xlog:aot=off -Xlog:cds=off \
            -cp "$tcp" $lesson </dev/null >/dev/null 2>&1 &
    fi
fi
set -f # the options above are split into words, never expanded as file names (jitwait's patterns)
exec "$jdk/bin/java" -XX:+UseSerialGC $jit $jitwait $cds $native \
    ${RTUNNEL_JAVA_OPTS:-} -cp "${cp%:}${all:+:$all}" @MAIN@ "$@"
