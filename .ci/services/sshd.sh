#!/usr/bin/env bash
# .ci/services/sshd.sh start|stop|env  -- the private OpenSSH server the
# ssh:// tests (crates/fz-cli/tests/cli_ssh.rs) and bench/ssh.sh run against.
#
# start: installs openssh-server if sshd is missing, then runs an sshd of its
#        own on 127.0.0.1:$FZ_CI_SSHD_PORT (default 2222), loopback only, the
#        system sshd config untouched:
#          * key login for the current user (~/.ssh/id_ed25519, made if
#            missing, appended once to ~/.ssh/authorized_keys);
#          * password login (and only that) for a second local user,
#            $FZ_CI_SSHD_PASSWORD_USER (default fzpass; created when root),
#            with a random password kept in the state dir (mode 600);
#          * key login for $FZ_CI_SSHD_BENCH_USER (default fzbench; created
#            when root), a stock account for bench/ssh.sh;
#          * its host keys pinned in ~/.ssh/known_hosts for [127.0.0.1]:PORT
#            and [localhost]:PORT (tests of unknown host keys point ssh at a
#            scratch known_hosts file instead).
#        Idempotent: an instance already serving the same config is reused.
#        Prints the variables the tests read (see `env`).
# stop:  stops the sshd started above (by its recorded PID, after checking
#        that PID still runs sshd with our config; never by name).
# env:   prints `export FZ_TEST_SSH_...=...` lines for the running instance:
#        eval "$(bash .ci/services/sshd.sh env)"
#
# Port: $FZ_CI_SSHD_PORT, else the first of 2222-2321 free (or already ours).
# State dir: $FZ_CI_SSHD_DIR, default ~/.cache/fz-ci-sshd (home from passwd:
# OpenSSH uses it, not $HOME).
set -euo pipefail

ACTION="${1:-}"
PORT="${FZ_CI_SSHD_PORT:-2222}"
PW_USER="${FZ_CI_SSHD_PASSWORD_USER:-fzpass}"
BENCH_USER="${FZ_CI_SSHD_BENCH_USER:-fzbench}"
WAIT_S=20

log() { printf '[sshd.sh] %s\n' "$*" >&2; }
die() { printf '[sshd.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# A live process (not a zombie: daemons are reaped late by PID 1).
alive() {
    local st
    st="$(sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ -n "$st" && "$st" != Z ]]
}

[[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "bad port '$PORT'"
ME="$(id -un)"
MY_UID="$(id -u)"
HOME_DIR="$(getent passwd "$ME" | cut -d: -f6)"
[[ -n "$HOME_DIR" && -d "$HOME_DIR" ]] || die "no home directory for user $ME"
STATE="${FZ_CI_SSHD_DIR:-$HOME_DIR/.cache/fz-ci-sshd}"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The sshd started from config $2 runs as pid $1 (alive, not a zombie).
runs_conf() {
    [[ -n "$1" && -r "/proc/$1/cmdline" ]] && alive "$1" &&
        tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "-f $2"
}
# Without FZ_CI_SSHD_PORT, a machine whose 2222 is taken by someone else
# (another sshd, a test service) gets the first port from 2222 up that is
# either already ours or free; `stop` and `env` find it in $STATE/port.
pick_port() {
    local p
    for p in $(seq 2222 2321); do
        if runs_conf "$(cat "$STATE/sshd.$p.pid" 2>/dev/null)" "$STATE/sshd_config.$p" || ! port_busy "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "no free TCP port in 2222-2321 on 127.0.0.1 (set FZ_CI_SSHD_PORT)"
}
if [[ -z "${FZ_CI_SSHD_PORT:-}" ]]; then
    mkdir -p "$STATE"
    if [[ "$ACTION" == start ]]; then
        PORT="$(pick_port)"
        echo "$PORT" >"$STATE/port"
    elif [[ -s "$STATE/port" ]]; then
        PORT="$(tr -dc '0-9' <"$STATE/port")"
    fi
fi
CONF="$STATE/sshd_config.$PORT"
PIDF="$STATE/sshd.$PORT.pid"
LOGF="$STATE/sshd.$PORT.log"
PWFILE="$STATE/password"
SSHD=/usr/sbin/sshd

# The recorded PID runs sshd with our config file.
ours() {
    local pid="$1"
    runs_conf "$pid" "$CONF"
}

print_env() {
    echo "export FZ_TEST_SSH_PORT=$PORT"
    echo "export FZ_TEST_SSH_USER=$ME"
    if [[ -s "$PWFILE" ]] && getent passwd "$PW_USER" >/dev/null; then
        echo "export FZ_TEST_SSH_PASSWORD_USER=$PW_USER"
        echo "export FZ_TEST_SSH_PASSWORD=$(cat "$PWFILE")"
    fi
    if getent passwd "$BENCH_USER" >/dev/null; then
        echo "export FZ_TEST_SSH_BENCH_USER=$BENCH_USER"
    fi
}

install_openssh() {
    if [[ -x "$SSHD" ]] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; then
        return 0
    fi
    log "installing openssh-server openssh-client"
    local sudo=()
    [[ "$MY_UID" == 0 ]] || sudo=(sudo -n)
    # Keep the package scripts from starting a system sshd on port 22.
    local made_policy=0 rc=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local apt=(timeout 600 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
        apt-get -q -y -o DPkg::Lock::Timeout=120 --no-install-recommends)
    if ! "${apt[@]}" install openssh-server openssh-client >/tmp/fz-ci-sshd-apt.log 2>&1; then
        timeout 600 "${sudo[@]}" apt-get -q update >/dev/null || true
        "${apt[@]}" install openssh-server openssh-client >/tmp/fz-ci-sshd-apt.log 2>&1 || rc=$?
    fi
    if ((made_policy)); then "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; fi
    if ((rc != 0)); then
        tail -n 30 /tmp/fz-ci-sshd-apt.log >&2
        die "apt-get install openssh-server failed"
    fi
    [[ -x "$SSHD" ]] || die "$SSHD missing after install"
}

start() {
    install_openssh
    umask 077
    mkdir -p "$STATE"
    chmod 700 "$STATE"
    local hostkeys=() t hk
    for t in ed25519 ecdsa rsa; do
        hk="$STATE/ssh_host_${t}_key"
        [[ -s "$hk" ]] || ssh-keygen -q -t "$t" -N '' -C fz-ci-sshd -f "$hk"
        hostkeys+=("$hk")
    done

    # Client key of the current user, authorized once.
    local sshdir="$HOME_DIR/.ssh"
    mkdir -p "$sshdir"
    chmod 700 "$sshdir"
    local key="$sshdir/id_ed25519"
    [[ -s "$key" ]] || ssh-keygen -q -t ed25519 -N '' -C "$ME@fz-ci-sshd" -f "$key"
    [[ -s "$key.pub" ]] || ssh-keygen -y -f "$key" >"$key.pub"
    local auth="$sshdir/authorized_keys" body
    [[ -e "$auth" ]] || : >"$auth"
    chmod 600 "$auth"
    body="$(awk '{print $1" "$2}' "$key.pub")"
    grep -qF "$body" "$auth" || cat "$key.pub" >>"$auth"

    # Host keys pinned (replaced, never piled up) for both names.
    local kh="$sshdir/known_hosts" h name want have
    [[ -e "$kh" ]] || : >"$kh"
    chmod 600 "$kh"
    for h in 127.0.0.1 localhost; do
        name="[$h]:$PORT"
        want="$(for hk in "${hostkeys[@]}"; do echo "$name $(awk '{print $1" "$2}' "$hk.pub")"; done)"
        have="$( (ssh-keygen -F "$name" -f "$kh" 2>/dev/null || true) | awk '!/^#/ {print $1" "$2" "$3}')"
        if [[ "$(sort <<<"$want")" != "$(sort <<<"$have")" ]]; then
            ssh-keygen -q -R "$name" -f "$kh" >/dev/null 2>&1 || true
            echo "$want" >>"$kh"
        fi
    done
    rm -f "$kh.old"

    # Password-only user (needs root to create it and set its password).
    local allow="$ME" pw_enabled=0
    if [[ "$MY_UID" == 0 ]]; then
        getent passwd "$PW_USER" >/dev/null || useradd -m -s /bin/bash "$PW_USER"
        [[ -s "$PWFILE" ]] || od -An -tx1 -N 12 /dev/urandom | tr -d ' \n' >"$PWFILE"
        chmod 600 "$PWFILE"
        echo "$PW_USER:$(cat "$PWFILE")" | chpasswd
        # A key-login user with a stock Debian home, for bench/ssh.sh: its
        # shell start files cost what a normal account's do (root's here
        # may run slow tools such as `pyenv init` for every session).
        getent passwd "$BENCH_USER" >/dev/null || useradd -m -s /bin/bash "$BENCH_USER"
        # '*': no password, yet not "locked" ('!'), which sshd refuses.
        usermod -p '*' "$BENCH_USER"
        local bhome
        bhome="$(getent passwd "$BENCH_USER" | cut -d: -f6)"
        install -d -m 700 -o "$BENCH_USER" "$bhome/.ssh"
        install -m 600 -o "$BENCH_USER" "$key.pub" "$bhome/.ssh/authorized_keys"
        allow="$ME $PW_USER $BENCH_USER"
        pw_enabled=1
    else
        log "not root: no password user (the password tests will fail under CI)"
    fi

    local new
    new="$(mktemp "$STATE/.sshd_config.XXXXXX")"
    {
        echo "# written by .ci/services/sshd.sh -- private test sshd, loopback only"
        echo "Port $PORT"
        echo "ListenAddress 127.0.0.1"
        for hk in "${hostkeys[@]}"; do echo "HostKey $hk"; done
        echo "PidFile $PIDF"
        echo "AuthorizedKeysFile .ssh/authorized_keys"
        echo "PubkeyAuthentication yes"
        echo "PasswordAuthentication no"
        echo "KbdInteractiveAuthentication no"
        echo "UsePAM no"
        echo "PermitRootLogin prohibit-password"
        echo "AllowUsers $allow"
        echo "StrictModes no"
        echo "UseDNS no"
        echo "PrintMotd no"
        echo "MaxStartups 100:30:200"
        echo "MaxSessions 100"
        echo "LoginGraceTime 30"
        echo "LogLevel INFO"
        echo "Subsystem sftp internal-sftp"
        if ((pw_enabled)); then
            echo "Match User $PW_USER"
            echo "    PasswordAuthentication yes"
            echo "    PubkeyAuthentication no"
        fi
    } >"$new"

    local pid=""
    [[ -s "$PIDF" ]] && pid="$(cat "$PIDF")"
    if ours "$pid" && cmp -s "$new" "$CONF"; then
        rm -f "$new"
        log "sshd already running on 127.0.0.1:$PORT (pid $pid)"
    else
        if ours "$pid"; then
            log "config changed: stopping sshd pid $pid"
            stop
        fi
        mv -f "$new" "$CONF"
        if port_busy "$PORT"; then
            die "port $PORT on 127.0.0.1 is used by another process (set FZ_CI_SSHD_PORT)"
        fi
        [[ "$MY_UID" != 0 ]] || { mkdir -p /run/sshd && chmod 755 /run/sshd; }
        "$SSHD" -t -f "$CONF" || die "sshd -t rejected $CONF"
        rm -f "$PIDF"
        : >"$LOGF"
        # Sessions inherit sshd's umask: uploaded files must not be 0600.
        umask 022
        "$SSHD" -f "$CONF" -E "$LOGF" || { cat "$LOGF" >&2; die "sshd failed to start"; }
        local ok=0 i
        for i in $(seq $((WAIT_S * 10))); do
            if [[ -s "$PIDF" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
                ok=1
                break
            fi
            sleep 0.1
        done
        ((ok)) || { tail -n 20 "$LOGF" >&2; die "sshd did not listen on 127.0.0.1:$PORT within ${WAIT_S}s"; }
        log "started sshd pid $(cat "$PIDF") on 127.0.0.1:$PORT (log $LOGF)"
    fi
    timeout "$WAIT_S" ssh -p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o ConnectTimeout=5 127.0.0.1 true ||
        { tail -n 20 "$LOGF" >&2; die "key login 'ssh -p $PORT 127.0.0.1 true' failed"; }
    log "key login as $ME checked"
    print_env
}

stop() {
    if [[ ! -s "$PIDF" ]]; then
        log "no sshd recorded for port $PORT: nothing to stop"
        return 0
    fi
    local pid
    pid="$(cat "$PIDF")"
    if ! ours "$pid"; then
        log "pid $pid is not our sshd (stale pidfile): removed"
        rm -f "$PIDF"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
    alive "$pid" && die "could not stop sshd pid $pid"
    rm -f "$PIDF"
    log "stopped sshd pid $pid"
}

case "$ACTION" in
start) start ;;
stop) stop ;;
env)
    [[ -s "$PIDF" ]] && ours "$(cat "$PIDF")" || die "no sshd running on port $PORT: run '$0 start'"
    print_env
    ;;
*) die "usage: $0 start|stop|env" ;;
esac
