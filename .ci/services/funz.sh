#!/usr/bin/env bash
# .ci/services/funz.sh fetch|start|stop|env -- the real Java Funz calculator
# daemons the funz:// tests (crates/fz-cli/tests/cli_funz.rs) and
# bench/funz.sh run against.
#
# fetch: downloads the PyPI wheel Funz==1.16.post1 (it bundles the daemon,
#        funz-calculator-1.16.jar, and its dependency jars) with pip into
#        the cache dir and unpacks its lib/ there. Idempotent.
# start: fetch, then starts three daemons (java from default-jre-headless,
#        installed by .ci/install), each with its own directory and spool
#        under the state dir, announcing themselves on UDP ports picked
#        here among the free ones:
#          * calc-a1 and calc-a2 on port A (codes bash and sh);
#          * calc-secure on port S, in secure mode (code bash), which fz
#            must refuse.
#        Waits until every daemon listens, then prints the variables the
#        tests read (see `env`). Idempotent: daemons already running from
#        this state dir are reused.
# stop:  stops the daemons started above, by their recorded PIDs (checked
#        to still run the Funz calculator with our config; never by name).
# env:   prints `export FZ_TEST_FUNZ_...=...` lines for the running daemons:
#          FZ_TEST_FUNZ_UDP_PORT         port A (two daemons)
#          FZ_TEST_FUNZ_SECURE_UDP_PORT  port S (one secure daemon)
#          FZ_TEST_FUNZ_CLASSPATH        the jars, to start a daemon of one's own
#          FZ_TEST_FUNZ_DIR              the state dir (daemon dirs and spools)
#
# Knobs: FZ_CI_FUNZ_CACHE (jars, default ~/.cache/fz-ci/funz), FZ_CI_FUNZ_DIR
# (state, default target/funz-run of this checkout), FZ_CI_FUNZ_PING (seconds between
# announcements, default 2; the daemon's own default is 5), FZ_CI_PYTHON
# (the python whose pip downloads the wheel).
set -euo pipefail

ACTION="${1:-}"
VERSION=1.16.post1
WAIT_S=60

log() { printf '[funz.sh] %s\n' "$*" >&2; }
die() { printf '[funz.sh] ERROR: %s\n' "$*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOME_DIR="$(getent passwd "$(id -un)" | cut -d: -f6)"
CACHE="${FZ_CI_FUNZ_CACHE:-${HOME_DIR:-$HOME}/.cache/fz-ci/funz}"
# The daemons of one checkout are its own: another checkout (another CI
# run, a developer's tree) neither reuses nor stops them.
STATE="${FZ_CI_FUNZ_DIR:-$root/target/funz-run}"
LIB="$CACHE/wheel/Funz/inst/Funz/lib"
PING="${FZ_CI_FUNZ_PING:-2}"
NAMES=(calc-a1 calc-a2 calc-secure)

python_bin() {
    if [[ -n "${FZ_CI_PYTHON:-}" ]]; then
        echo "$FZ_CI_PYTHON"
    elif [[ -x "$root/.ci/.venv/bin/python" ]]; then
        echo "$root/.ci/.venv/bin/python"
    else
        echo python3
    fi
}

fetch() {
    if [[ -s "$LIB/funz-calculator-1.16.jar" && -s "$LIB/funz-core-1.16.jar" ]]; then
        return 0
    fi
    local py wheel
    py="$(python_bin)"
    mkdir -p "$CACHE"
    wheel="$CACHE/Funz-$VERSION-py3-none-any.whl"
    if [[ ! -s "$wheel" ]]; then
        log "downloading the Funz $VERSION wheel (the Java daemon) into $CACHE"
        "$py" -m pip download --quiet --disable-pip-version-check --no-deps \
            "Funz==$VERSION" -d "$CACHE" || die "pip download Funz==$VERSION failed"
    fi
    [[ -s "$wheel" ]] || die "no $wheel after pip download"
    "$py" - "$wheel" "$CACHE/wheel" <<'EOF'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("Funz/inst/Funz/lib/") and name.endswith(".jar"):
            z.extract(name, dest)
EOF
    [[ -s "$LIB/funz-calculator-1.16.jar" ]] || die "funz-calculator-1.16.jar missing from the wheel"
    log "Funz daemon jars in $LIB"
}

# The jars the daemon needs (as FunzDaemon.sh lists them).
classpath() {
    local cp="" j
    for j in funz-core-1.16 funz-calculator-1.16 commons-io-2.4 commons-exec-1.1 commons-lang-2.6 \
        ftpserver-core-1.1.1 ftplet-api-1.1.1 mina-core-2.0.16 sigar-1.6.6 slf4j-api-1.7.2 slf4j-nop-1.7.2; do
        [[ -s "$LIB/$j.jar" ]] || die "missing $LIB/$j.jar"
        cp="${cp:+$cp:}$LIB/$j.jar"
    done
    echo "$cp"
}

# A live process (not a zombie).
alive() {
    local st
    st="$(sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ -n "$st" && "$st" != Z ]]
}
# The PID runs the Funz calculator with the config of daemon $2.
ours() {
    [[ -n "$1" && -r "/proc/$1/cmdline" ]] && alive "$1" &&
        tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "org.funz.calculator.Calculator file:$STATE/$2/calculator.xml"
}
pid_of() { [[ -s "$STATE/$1.pid" ]] && cat "$STATE/$1.pid"; }

# Two distinct UDP ports free right now on every address.
free_udp_ports() {
    "$(python_bin)" - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

print_env() {
    [[ -s "$STATE/ports" ]] || die "no $STATE/ports: run '$0 start'"
    local a s
    read -r a s <"$STATE/ports"
    echo "export FZ_TEST_FUNZ_UDP_PORT=$a"
    echo "export FZ_TEST_FUNZ_SECURE_UDP_PORT=$s"
    echo "export FZ_TEST_FUNZ_CLASSPATH=$(classpath)"
    echo "export FZ_TEST_FUNZ_DIR=$STATE"
}

all_running() {
    local n
    for n in "${NAMES[@]}"; do ours "$(pid_of "$n" || true)" "$n" || return 1; done
}

start_daemon() { # start_daemon NAME UDP_PORT SECURE(yes|no) CODES...
    local name="$1" port="$2" secure="$3"
    shift 3
    local dir="$STATE/$name" codes="" c
    mkdir -p "$dir/spool"
    # A previous run's log would announce "listening" before this one does.
    rm -f "$dir/daemon.log"
    for c in "$@"; do codes+="<CODE name=\"$c\" command=\"/bin/$c\"/>"; done
    cat >"$dir/calculator.xml" <<EOF
<CALCULATOR name="$name" spool="$dir/spool" secure="$secure" PING_PERIOD="$PING"><HOST name="127.0.0.1" port="$port"/>$codes</CALCULATOR>
EOF
    (cd "$dir" && exec java -Dapp.home=. -classpath "$(classpath)" org.funz.calculator.Calculator \
        "file:$dir/calculator.xml" </dev/null >"$dir/daemon.log" 2>&1) &
    echo $! >"$STATE/$name.pid"
}

start() {
    command -v java >/dev/null || die "java not found: run .ci/install (default-jre-headless)"
    fetch
    mkdir -p "$STATE"
    if all_running && [[ -s "$STATE/ports" ]]; then
        log "Funz daemons already running (state $STATE)"
        print_env
        return 0
    fi
    stop
    # A busy machine may take a port between our probe and the daemon's
    # bind, or kill a daemon early: start the three again on fresh ports.
    local try
    for try in 1 2 3; do
        if start_all; then
            print_env
            return 0
        fi
        stop
        log "attempt $try failed; retrying on fresh ports"
    done
    die "the Funz daemons did not start (logs under $STATE)"
}

# Starts the three daemons on fresh ports and waits until each listens.
start_all() {
    local a s
    read -r a s <<<"$(free_udp_ports)"
    [[ -n "$a" && -n "$s" ]] || die "could not find free UDP ports"
    echo "$a $s" >"$STATE/ports"
    start_daemon calc-a1 "$a" no bash sh
    start_daemon calc-a2 "$a" no bash sh
    start_daemon calc-secure "$s" yes bash
    local n pid end=$((SECONDS + WAIT_S))
    for n in "${NAMES[@]}"; do
        pid="$(pid_of "$n")"
        until grep -q "Accept connection on local adress" "$STATE/$n/daemon.log" 2>/dev/null; do
            # Only "alive" here: until the subshell has exec'd java its
            # command line is still this script's, so `ours` would say no.
            if ! alive "$pid"; then
                tail -n 20 "$STATE/$n/daemon.log" >&2
                log "daemon $n exited before listening"
                return 1
            fi
            if ((SECONDS >= end)); then
                tail -n 20 "$STATE/$n/daemon.log" >&2
                log "daemon $n did not listen within ${WAIT_S}s"
                return 1
            fi
            sleep 0.2
        done
        ours "$pid" "$n" || { log "pid $pid of $n is not the Funz daemon"; return 1; }
        log "started $n (pid $pid), log $STATE/$n/daemon.log"
    done
    log "daemons announce on UDP 127.0.0.1:$a (calc-a1, calc-a2) and :$s (calc-secure), every ${PING}s"
}

stop() {
    local n pid
    for n in "${NAMES[@]}"; do
        pid="$(pid_of "$n" || true)"
        [[ -n "$pid" ]] || continue
        if ours "$pid" "$n"; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
            if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
            log "stopped $n (pid $pid)"
        fi
        rm -f "$STATE/$n.pid"
    done
}

case "$ACTION" in
fetch) fetch ;;
start) start ;;
stop) stop ;;
env)
    all_running || die "Funz daemons not running: run '$0 start'"
    print_env
    ;;
*) die "usage: $0 fetch|start|stop|env" ;;
esac
