#!/usr/bin/env bash
# .ci/services/slurm.sh start|stop|env -- the single-node SLURM cluster the
# slurm:// tests (crates/fz-cli/tests/cli_slurm.rs) and bench/slurm.sh run
# against. Adapted from the project's tested service recipes.
#
# start: installs what is missing (slurmctld slurmd slurm-client munge, and
#        slurmdbd + mariadb-server so that sacct works), writes
#        /etc/slurm/slurm.conf for one node on 127.0.0.1 (no cgroups:
#        proctrack/linuxproc + task/none; CPUs=max(4,nproc) with
#        config_overrides; partitions `debug` (default) and `compute`;
#        MaxArraySize=50, a site limit fz must split its arrays under),
#        starts munged, MariaDB (unix socket only), slurmdbd, slurmctld and
#        slurmd, waits until the node is idle, runs `srun -p debug true`
#        and prints the variables the tests read (see `env`).
#        Idempotent: daemons already serving the same config are reused;
#        a changed config restarts slurmctld/slurmd. A cluster this script
#        did not start (a controller answers that it has no record of) is
#        used as it is when `srun` works there: never reconfigured, never
#        stopped; otherwise start fails saying so.
# stop:  cancels every job, then stops the daemons this script started, by
#        their recorded PIDs (checked to still run the expected binary;
#        never by name). Packages, configs and the accounting DB are kept.
# env:   prints `export FZ_TEST_SLURM=1` (and FZ_TEST_SLURM_SACCT=1 when
#        sacct works) for a running cluster.
#
# Must run as root (re-execs through `sudo -n` otherwise). Log lines go to
# stderr, the export lines to stdout: eval "$(bash .ci/services/slurm.sh start)"
# Knobs: FZ_CI_SLURM_CPUS, FZ_CI_SLURM_ACCOUNTING (auto|1|0), FZ_CI_SLURM_WAIT.
set -euo pipefail

ACTION="${1:-}"
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "[slurm.sh] ERROR: needs root (no sudo)" >&2; exit 1; }
    exec sudo -n -E bash "$0" "$@"
fi

log() { printf '[slurm.sh] %s\n' "$*" >&2; }
warn() { printf '[slurm.sh] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[slurm.sh] ERROR: %s\n' "$*" >&2
    printf '[slurm.sh] logs: %s\n' "$LOG_DIR/slurmctld.log $LOG_DIR/slurmd.log $LOG_DIR/slurmdbd.log" >&2
    tail -n 5 "$LOG_DIR/slurmctld.log" >&2 2>/dev/null || true
    exit 1
}

NPROC=$(nproc)
CPUS="${FZ_CI_SLURM_CPUS:-$((NPROC > 4 ? NPROC : 4))}"
ACCT="${FZ_CI_SLURM_ACCOUNTING:-auto}"
WAIT_S="${FZ_CI_SLURM_WAIT:-60}"
PARTS=(debug compute)
NODE="$(hostname -s)"
MEM_MB=$(awk '/MemTotal/{printf "%d", $2/1024*0.8}' /proc/meminfo)
CONF_DIR=/etc/slurm
RUN_DIR=/run/slurm
LOG_DIR=/var/log/slurm
CTLD_SPOOL=/var/spool/slurmctld
SLURMD_SPOOL=/var/spool/slurmd
STARTED="$RUN_DIR/started-by-fz-ci"
STATE_FILE="$RUN_DIR/fz-ci-sacct"
DB_SOCK=/run/mysqld/mysqld.sock
DB_PID=/run/mysqld/mysqld.pid
DB_NAME=slurm_acct_db
DB_USER=slurm
DB_PASS=slurm-ci-only-loopback # socket-only MariaDB, test use only

declare -A EXE=([slurmd]=/usr/sbin/slurmd [slurmctld]=/usr/sbin/slurmctld
    [slurmdbd]=/usr/sbin/slurmdbd [mariadbd]=/usr/sbin/mariadbd [munged]=/usr/sbin/munged)

# Debian installs the daemons as alternatives (slurmd -> slurmd-wlm):
# compare resolved paths. A zombie has no exe link: it counts as gone.
runs() { [[ "$(readlink "/proc/$1/exe" 2>/dev/null)" == "$(readlink -f "$2")" ]]; }
pid_of() { # pid_of PIDFILE EXE: the pid when it runs EXE
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(tr -dc '0-9' <"$1")"
    [[ -n "$pid" ]] && runs "$pid" "$2" && echo "$pid"
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
record() { sed -i "/^$1 /d" "$STARTED"; echo "$1 $2" >>"$STARTED"; }
wait_until() { # wait_until SECONDS CMD...
    local end=$(($(date +%s) + $1))
    shift
    while (($(date +%s) < end)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}
stop_pid() { # stop_pid NAME PID: TERM, wait, KILL -- only while PID runs NAME's binary
    local name="$1" pid="$2" exe="${EXE[$1]}" secs=15
    [[ "$name" == mariadbd ]] && secs=60
    runs "$pid" "$exe" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((secs * 2))); do runs "$pid" "$exe" || break; sleep 0.5; done
    if runs "$pid" "$exe"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
    if runs "$pid" "$exe"; then log "could not stop $name (pid $pid)"; return 1; fi
    log "stopped $name (pid $pid)"
}

apt_install() {
    local made_policy=0 rc=0 alog
    # Package scripts must not start services with the distro config.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local apt=(timeout 600 env DEBIAN_FRONTEND=noninteractive
        apt-get -q -y -o DPkg::Lock::Timeout=120 --no-install-recommends)
    apt-cache show "$@" >/dev/null 2>&1 || timeout 600 apt-get -q update >/dev/null || true
    alog="$(mktemp)"
    if ! "${apt[@]}" install "$@" >"$alog" 2>&1; then
        timeout 600 apt-get -q update >/dev/null || true
        "${apt[@]}" install "$@" >"$alog" 2>&1 || rc=$?
    fi
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || tail -n 30 "$alog" >&2
    rm -f "$alog"
    return "$rc"
}

install_packages() {
    local b
    for b in /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/srun /usr/sbin/munged; do
        if [[ ! -x "$b" ]]; then
            log "installing slurmctld slurmd slurm-client munge"
            apt_install slurmctld slurmd slurm-client munge || die "apt-get install of SLURM failed"
            break
        fi
    done
    if [[ "$ACCT" != 0 ]] && { [[ ! -x /usr/sbin/slurmdbd || ! -x /usr/sbin/mariadbd ]] ||
        ! compgen -G '/usr/lib/*/slurm-wlm/accounting_storage_mysql.so' >/dev/null; }; then
        log "installing slurmdbd mariadb-server (for sacct)"
        if ! apt_install slurmdbd mariadb-server; then
            [[ "$ACCT" == 1 ]] && die "apt-get install slurmdbd mariadb-server failed"
            warn "no slurmdbd: continuing without accounting (no sacct)"
            ACCT=0
        fi
    fi
}

acct_fail() {
    [[ "$ACCT" == 1 ]] && die "$1"
    warn "$1 -- continuing without accounting (no sacct)"
    ACCT=0
}

start_munge() {
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/log/munge /etc/munge
    install -d -o munge -g munge -m 711 /var/lib/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    local pid
    if pid=$(pid_of /run/munge/munged.pid "${EXE[munged]}"); then
        log "munged already running (pid $pid)"
    else
        rm -f /run/munge/munged.pid
        # munged insists on running as the owner of its key.
        timeout 20 runuser -u munge -- /usr/sbin/munged || die "munged failed to start"
        wait_until 10 test -s /run/munge/munged.pid || die "munged wrote no pid file"
        pid=$(pid_of /run/munge/munged.pid "${EXE[munged]}") || die "munged not running"
        record munged "$pid"
        log "started munged (pid $pid)"
    fi
    timeout 10 munge -n | timeout 10 unmunge >/dev/null || die "munge -n | unmunge failed"
}

db_ok() { timeout 5 mariadb-admin --socket="$DB_SOCK" ping; }
start_accounting() {
    install -d -o mysql -g mysql -m 755 /run/mysqld
    install -d -o mysql -g adm -m 2750 /var/log/mysql
    if [[ ! -d /var/lib/mysql/mysql ]]; then
        timeout 120 mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null 2>&1 ||
            { acct_fail "mariadb-install-db failed"; return; }
    fi
    local pid
    if pid=$(pid_of "$DB_PID" "${EXE[mariadbd]}") && db_ok >/dev/null 2>&1; then
        log "mariadbd already running (pid $pid)"
    else
        rm -f "$DB_PID"
        # Unix socket only: no TCP port.
        setsid /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --socket="$DB_SOCK" \
            --pid-file="$DB_PID" --skip-networking --innodb-buffer-pool-size=128M \
            --log-error=/var/log/mysql/error.log </dev/null >/dev/null 2>&1 &
        wait_until "$WAIT_S" db_ok || { acct_fail "mariadbd did not answer within ${WAIT_S}s"; return; }
        pid=$(pid_of "$DB_PID" "${EXE[mariadbd]}") || { acct_fail "mariadbd pid file missing"; return; }
        record mariadbd "$pid"
        log "started mariadbd (pid $pid, socket only)"
    fi
    timeout 20 mariadb --socket="$DB_SOCK" -u root <<SQL || { acct_fail "could not create the slurm database user"; return; }
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
    local new changed=0
    new="$(mktemp)"
    cat >"$new" <<EOF
# written by .ci/services/slurm.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=slurm
PidFile=$RUN_DIR/slurmdbd.pid
LogFile=$LOG_DIR/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$DB_USER
StoragePass=$DB_PASS
StorageLoc=$DB_NAME
EOF
    # slurmdbd refuses a config not owned by SlurmUser or readable by others.
    cmp -s "$new" "$CONF_DIR/slurmdbd.conf" || { install -o slurm -g slurm -m 600 "$new" "$CONF_DIR/slurmdbd.conf"; changed=1; }
    rm -f "$new"
    if pid=$(pid_of "$RUN_DIR/slurmdbd.pid" "${EXE[slurmdbd]}"); then
        if ((changed)); then stop_pid slurmdbd "$pid"; else log "slurmdbd already running (pid $pid)"; return; fi
    fi
    rm -f "$RUN_DIR/slurmdbd.pid"
    port_busy 6819 && { acct_fail "port 6819 (slurmdbd) is used by another process"; return; }
    timeout 30 /usr/sbin/slurmdbd || { acct_fail "slurmdbd failed to start"; return; }
    wait_until "$WAIT_S" port_busy 6819 || { acct_fail "slurmdbd did not listen on 6819"; return; }
    pid=$(pid_of "$RUN_DIR/slurmdbd.pid" "${EXE[slurmdbd]}") || { acct_fail "slurmdbd pid file missing"; return; }
    record slurmdbd "$pid"
    log "started slurmdbd (pid $pid)"
}

write_conf() { # prints 1 when a config file changed
    local new changed=0
    new="$(mktemp)"
    {
        cat <<EOF
# written by .ci/services/slurm.sh -- single-node test cluster on 127.0.0.1, no cgroups
# (the cluster name is kept in slurmctld's state: the recipes' name, so that
# either script can restart the other's cluster)
ClusterName=localcluster
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$CTLD_SPOOL
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobContainerType=job_container/none
SwitchType=switch/none
MpiDefault=none
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmctldTimeout=60
SlurmdTimeout=120
InactiveLimit=0
KillWait=5
MinJobAge=300
Waittime=0
# A site limit as clusters set them (SLURM's default is 1001): fz must
# split array mode into several arrays and size its packs within it.
MaxArraySize=50
JobCompType=jobcomp/none
EOF
        if [[ "$ACCT" != 0 ]]; then
            printf '%s\n' AccountingStorageType=accounting_storage/slurmdbd AccountingStorageHost=localhost \
                AccountingStoragePort=6819 JobAcctGatherType=jobacct_gather/linux JobAcctGatherFrequency=30
        else
            printf '%s\n' AccountingStorageType=accounting_storage/none JobAcctGatherType=jobacct_gather/none
        fi
        echo "NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN"
        echo "PartitionName=${PARTS[0]} Nodes=$NODE Default=YES MaxTime=INFINITE State=UP"
        echo "PartitionName=${PARTS[1]} Nodes=$NODE Default=NO MaxTime=INFINITE State=UP"
    } >"$new"
    if ! cmp -s "$new" "$CONF_DIR/slurm.conf"; then
        if [[ -s "$CONF_DIR/slurm.conf" ]] && ! grep -q '^# written by ' "$CONF_DIR/slurm.conf"; then
            cp -p "$CONF_DIR/slurm.conf" "$CONF_DIR/slurm.conf.bak.$(date +%Y%m%d%H%M%S)"
            log "backed up a foreign $CONF_DIR/slurm.conf"
        fi
        install -m 644 "$new" "$CONF_DIR/slurm.conf"
        changed=1
    fi
    printf '# written by .ci/services/slurm.sh: cgroup plugins are not used\nCgroupAutomount=no\n' >"$new"
    cmp -s "$new" "$CONF_DIR/cgroup.conf" || { install -m 644 "$new" "$CONF_DIR/cgroup.conf"; changed=1; }
    rm -f "$new"
    echo "$changed"
}

ctld_ok() { timeout 5 scontrol ping | grep -q 'is UP'; }
node_state() { timeout 5 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1; }
node_ready() { case "$(node_state)" in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac }

# The pid recorded by this script for daemon $1 (empty when none).
recorded() { awk -v n="$1" '$1 == n {print $2}' "$STARTED" 2>/dev/null | tail -n1; }

# A controller answers that this script did not start (a site's or another
# tool's cluster). It is used as it is, never reconfigured nor stopped.
foreign_cluster() {
    command -v scontrol >/dev/null && [[ -s "$CONF_DIR/slurm.conf" ]] || return 1
    ctld_ok 2>/dev/null || return 1
    local pid
    pid=$(pid_of "$RUN_DIR/slurmctld.pid" "${EXE[slurmctld]}") || pid=""
    [[ -z "$pid" || "$pid" != "$(recorded slurmctld)" ]]
}

reuse_foreign() {
    local out
    log "a SLURM cluster this script did not start answers: using it as it is (it will not be reconfigured or stopped)"
    out="$(cd / && timeout 60 srun -p "${PARTS[0]}" true 2>&1)" ||
        die "the running SLURM cluster (not started here) cannot run 'srun -p ${PARTS[0]} true': $out -- stop it, or run the tests elsewhere"
    local sacct=0
    if timeout 10 sacct -n -X -o JobID >/dev/null 2>&1; then sacct=1; fi
    echo "$sacct" >"$STATE_FILE"
    print_env
}

start() {
    local t0=$SECONDS
    install -d -m 755 "$RUN_DIR"
    touch "$STARTED"
    if foreign_cluster; then
        reuse_foreign
        return
    fi
    install_packages
    getent passwd slurm >/dev/null || die "user 'slurm' missing (package install incomplete?)"
    install -d -m 755 "$CONF_DIR" "$SLURMD_SPOOL"
    install -d -o slurm -g slurm -m 755 "$RUN_DIR" "$LOG_DIR" "$CTLD_SPOOL"
    touch "$STARTED"
    start_munge
    if [[ "$ACCT" != 0 ]]; then start_accounting; fi
    local changed ctld slurmd
    changed=$(write_conf)
    ctld=$(pid_of "$RUN_DIR/slurmctld.pid" "${EXE[slurmctld]}") || ctld=""
    slurmd=$(pid_of "$RUN_DIR/slurmd.pid" "${EXE[slurmd]}") || slurmd=""
    # Only daemons this script started are restarted for a new config.
    [[ -n "$ctld" && "$ctld" != "$(recorded slurmctld)" ]] &&
        die "slurmctld pid $ctld was not started by this script and does not answer: stop it first"
    [[ -n "$slurmd" && "$slurmd" != "$(recorded slurmd)" ]] &&
        die "slurmd pid $slurmd was not started by this script: stop it first"
    if ((changed)) && [[ -n "$ctld$slurmd" ]]; then
        log "configuration changed: restarting slurmctld and slurmd"
        [[ -n "$slurmd" ]] && stop_pid slurmd "$slurmd"
        [[ -n "$ctld" ]] && stop_pid slurmctld "$ctld"
        ctld="" slurmd=""
    fi
    if [[ -n "$ctld" ]]; then
        log "slurmctld already running (pid $ctld)"
    else
        rm -f "$RUN_DIR/slurmctld.pid"
        port_busy 6817 && die "port 6817 (slurmctld) is used by another process"
        timeout 30 /usr/sbin/slurmctld -i || die "slurmctld failed to start"
        wait_until "$WAIT_S" ctld_ok || die "slurmctld does not answer 'scontrol ping'"
        ctld=$(pid_of "$RUN_DIR/slurmctld.pid" "${EXE[slurmctld]}") || die "slurmctld pid file missing"
        record slurmctld "$ctld"
        log "started slurmctld (pid $ctld)"
    fi
    if [[ -n "$slurmd" ]]; then
        log "slurmd already running (pid $slurmd)"
    else
        rm -f "$RUN_DIR/slurmd.pid"
        port_busy 6818 && die "port 6818 (slurmd) is used by another process"
        timeout 30 /usr/sbin/slurmd || die "slurmd failed to start"
        wait_until 15 test -s "$RUN_DIR/slurmd.pid" || die "slurmd wrote no pid file"
        slurmd=$(pid_of "$RUN_DIR/slurmd.pid" "${EXE[slurmd]}") || die "slurmd not running"
        record slurmd "$slurmd"
        log "started slurmd (pid $slurmd)"
    fi
    # A node left DOWN/DRAIN in the saved state is resumed.
    local until=$((SECONDS + WAIT_S)) resumed=0 st
    while ! node_ready; do
        st="$(node_state)"
        ((SECONDS < until)) || die "node $NODE not idle within ${WAIT_S}s (state '$st')"
        case "$st" in down* | drain* | fail*)
            if ((!resumed)); then
                timeout 10 scontrol update NodeName="$NODE" State=RESUME || true
                resumed=1
            fi ;;
        esac
        sleep 0.5
    done
    local out
    out="$(cd / && timeout 60 srun -p "${PARTS[0]}" true 2>&1)" || die "smoke 'srun -p ${PARTS[0]} true' failed: $out"
    local sacct=0
    if [[ "$ACCT" != 0 ]] && timeout 10 sacct -n -X -o JobID >/dev/null 2>&1; then sacct=1; fi
    echo "$sacct" >"$STATE_FILE"
    log "SLURM $(sinfo -V | awk '{print $2}') on node $NODE (CPUs=$CPUS), partitions ${PARTS[*]}, sacct: $([[ $sacct == 1 ]] && echo yes || echo no); ready in $((SECONDS - t0)) s"
    print_env
}

print_env() {
    timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP' || die "no SLURM controller answers"
    echo "export FZ_TEST_SLURM=1"
    if [[ "$(cat "$STATE_FILE" 2>/dev/null)" == 1 ]]; then echo "export FZ_TEST_SLURM_SACCT=1"; fi
}

stop() {
    if [[ ! -s "$STARTED" ]]; then
        log "nothing started by this script: nothing to stop"
        return 0
    fi
    if command -v squeue >/dev/null && ctld_ok 2>/dev/null; then
        local jobs
        jobs="$(timeout 10 squeue -h -o '%i' 2>/dev/null | xargs)"
        if [[ -n "$jobs" ]]; then
            log "cancelling jobs: $jobs"
            # shellcheck disable=SC2086
            timeout 15 scancel $jobs 2>/dev/null || true
            # shellcheck disable=SC2016 # expanded by the inner bash, each poll
            wait_until 20 bash -c '[[ -z "$(squeue -h -o %i -t PD,R,CG,S)" ]]' || true
        fi
    fi
    local name n pid fail=0
    for name in slurmd slurmctld slurmdbd mariadbd munged; do
        while read -r n pid; do
            [[ "$n" == "$name" ]] || continue
            stop_pid "$name" "$pid" || fail=1
        done <"$STARTED"
    done
    ((fail)) && die "some daemon could not be stopped"
    : >"$STARTED"
    rm -f "$STATE_FILE"
}

case "$ACTION" in
start) start ;;
stop) stop ;;
env) print_env ;;
*)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
