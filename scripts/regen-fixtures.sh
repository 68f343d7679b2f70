#!/usr/bin/env bash
# Regenerates test/fixtures/real/ from real TLS servers: nginx (http and
# stream), HAProxy, Apache httpd, Caddy, a Go net/http server, Dovecot (imaps)
# and Postfix (smtps, and STARTTLS on a plain port) run in a
# network namespace of their own, and scripts/fixture-client.mjs makes their
# handshakes fail in every way we classify, from a second namespace, over IPv4
# and IPv6. Each server's log is kept as a fixture, with a .cases.tsv file
# saying which lines each provoked failure wrote (the tests check the cause
# of each against a table written by hand, never against this run).
#
# Needs root, iproute2, openssl, node and the servers:
#   apt-get install nginx-light libnginx-mod-stream haproxy apache2 caddy golang-go dovecot-imapd postfix
# Touches nothing outside the two namespaces and a temp dir; removes both on exit.
# Addresses: 198.51.100.0/24 and 2001:db8::/64 (documentation ranges), in the namespaces only.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/test/fixtures/real"
client_js="$root/scripts/fixture-client.mjs"
id="$(printf '%x' $$)"
srv="hbfs-$id"
cli="hbfc-$id"
work="$(mktemp -d /tmp/hb-fixtures-XXXXXX)"
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for ns in "$srv" "$cli"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for cmd in ip openssl node nginx haproxy apache2 caddy go dovecot postfix; do
  command -v "$cmd" >/dev/null || { echo "regen-fixtures: $cmd is missing (see the header of this script)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "regen-fixtures: needs root (network namespaces)" >&2; exit 2; }

# ── Namespaces: server 198.51.100.1 / 2001:db8::1, client .2 / ::2 ──────────────
ip netns add "$srv"
ip netns add "$cli"
ip -n "$srv" link set lo up
ip -n "$cli" link set lo up
ip -n "$srv" link add v0 type veth peer name eth0 netns "$cli"
ip -n "$srv" addr add 198.51.100.1/24 dev v0
ip -n "$srv" addr add 2001:db8::1/64 dev v0 nodad
ip -n "$cli" addr add 198.51.100.2/24 dev eth0
ip -n "$cli" addr add 2001:db8::2/64 dev eth0 nodad
ip -n "$srv" link set v0 up
ip -n "$cli" link set eth0 up
in_srv() { ip netns exec "$srv" "$@"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=test -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/combined.pem"

# ── nginx: http on 443, ssl_reject_handshake on 444, stream on 8443, a proxy on 8080 ──
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/http.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx/cb; proxy_temp_path $work/nginx/px; fastcgi_temp_path $work/nginx/fc;
  uwsgi_temp_path $work/nginx/uw; scgi_temp_path $work/nginx/sc;
  client_header_timeout 1s;
  server {
    listen 198.51.100.1:443 ssl; listen [2001:db8::1]:443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    return 200 "ok";
  }
  server {
    listen 198.51.100.1:444 ssl default_server; listen [2001:db8::1]:444 ssl default_server;
    error_log $work/nginx/reject.log info;
    ssl_reject_handshake on;
  }
  server {
    listen 198.51.100.1:444 ssl; listen [2001:db8::1]:444 ssl;
    server_name test;
    error_log $work/nginx/reject.log info;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    return 200 "ok";
  }
  server {
    listen 198.51.100.1:8080; listen [2001:db8::1]:8080;
    error_log $work/nginx/upstream.log info;
    location / { proxy_pass https://198.51.100.1:8081; }
  }
  server { listen 198.51.100.1:8081; error_log $work/nginx/plain.log info; return 200 "plain"; }
}
stream {
  error_log $work/nginx/stream.log info;
  server {
    listen 198.51.100.1:8443 ssl; listen [2001:db8::1]:8443 ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_handshake_timeout 1s;
    return "ok\n";
  }
}
EOF
in_srv nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/http.log" &
pids+=($!)

# ── HAProxy on 9443, logging raw to stderr ──────────────────────────────────────
mkdir -p "$work/haproxy"
cat >"$work/haproxy/haproxy.cfg" <<EOF
global
  log stderr format raw local0 info
defaults
  mode http
  log global
  option httplog
  timeout client 1s
  timeout connect 1s
  timeout server 1s
  timeout http-request 1s
frontend fe_tls
  bind 198.51.100.1:9443 ssl crt $work/combined.pem
  bind [2001:db8::1]:9443 ssl crt $work/combined.pem
  http-request return status 200 content-type text/plain string ok
EOF
in_srv haproxy -db -f "$work/haproxy/haproxy.cfg" 2>"$work/haproxy/haproxy.log" &
pids+=($!)

# ── Apache httpd with mod_ssl at ssl:info, on 10443 ─────────────────────────────
mkdir -p "$work/apache/htdocs"
echo ok >"$work/apache/htdocs/index.html"
mods=/usr/lib/apache2/modules
cat >"$work/apache/httpd.conf" <<EOF
ServerName test
ServerRoot $work/apache
DefaultRuntimeDir $work/apache
PidFile $work/apache/httpd.pid
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
Listen 198.51.100.1:10443
Listen [2001:db8::1]:10443
ErrorLog $work/apache/error.log
LogLevel warn ssl:info
DocumentRoot $work/apache/htdocs
Timeout 2
<VirtualHost *:10443>
  SSLEngine on
  SSLProtocol -all +TLSv1.2 +TLSv1.3
  SSLCertificateFile $work/cert.pem
  SSLCertificateKeyFile $work/key.pem
</VirtualHost>
EOF
in_srv apache2 -DFOREGROUND -f "$work/apache/httpd.conf" &
pids+=($!)

# ── Caddy (JSON log at debug level) on 11443 ────────────────────────────────────
mkdir -p "$work/caddy"
cat >"$work/caddy/Caddyfile" <<EOF
{
  admin off
  debug
  auto_https off
  storage file_system $work/caddy/data
}
https://:11443 {
  tls $work/cert.pem $work/key.pem
  respond "ok"
}
EOF
HOME="$work/caddy" XDG_DATA_HOME="$work/caddy" XDG_CONFIG_HOME="$work/caddy" \
  ip netns exec "$srv" caddy run --config "$work/caddy/Caddyfile" --adapter caddyfile 2>"$work/caddy/caddy.log" &
pids+=($!)

# ── A Go net/http server (what Hysteria, Traefik, Xray … log through) on 12443 ──
mkdir -p "$work/go"
cat >"$work/go/main.go" <<'EOF'
package main

import (
	"crypto/tls"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	srv := &http.Server{
		Addr:              ":12443",
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("ok"))
		}),
	}
	log.Fatal(srv.ListenAndServeTLS(os.Args[1], os.Args[2]))
}
EOF
(cd "$work/go" && GO111MODULE=off GOCACHE="$work/go/cache" GOPATH="$work/go/path" go build -o server main.go)
in_srv "$work/go/server" "$work/cert.pem" "$work/key.pem" 2>"$work/go/go.log" &
pids+=($!)

# ── Dovecot, imaps on 10993, its own log file ───────────────────────────────────
mkdir -p "$work/dovecot/run" "$work/dovecot/state" "$work/dovecot/mail"
chmod 755 "$work" "$work/dovecot" "$work/dovecot/run"
cat >"$work/dovecot/dovecot.conf" <<EOF
protocols = imap
listen = 198.51.100.1, 2001:db8::1
base_dir = $work/dovecot/run
state_dir = $work/dovecot/state
log_path = $work/dovecot/dovecot.log
ssl = required
ssl_cert = <$work/cert.pem
ssl_key = <$work/key.pem
mail_location = maildir:$work/dovecot/mail/%u
passdb {
  driver = static
  args = password=x
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$work/dovecot/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 10993
  }
}
service anvil {
  chroot =
}
EOF
in_srv dovecot -F -c "$work/dovecot/dovecot.conf" &
pids+=($!)

# ── Postfix: smtps (wrapper mode) on 10465, STARTTLS on 10025, log via postlogd ──
pf="$work/postfix"
mkdir -p "$pf/queue" "$pf/data"
cp "$work/cert.pem" "$work/key.pem" "$pf/"
cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
myhostname = mail.test
mydestination =
alias_maps =
alias_database =
inet_interfaces = 198.51.100.1, [2001:db8::1]
inet_protocols = all
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
smtpd_tls_cert_file = $pf/cert.pem
smtpd_tls_key_file = $pf/key.pem
smtpd_tls_security_level = may
EOF
{
  for a in 198.51.100.1 '[2001:db8::1]'; do
    echo "$a:10465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"
    echo "$a:10025 inet n - n - - smtpd"
  done
  cat <<'EOF'
postlog   unix-dgram n - n - 1 postlogd
anvil     unix - - n - 1 anvil
tlsmgr    unix - - n 1000? 1 tlsmgr
scache    unix - - n - 1 scache
proxymap  unix - - n - - proxymap
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
error     unix - - n - - error
EOF
} >"$pf/master.cf"
# Only our own folders: postfix creates the queue's subfolders itself on start.
chown postfix "$pf/queue" "$pf/data"
in_srv postfix -c "$pf" start-fg >/dev/null 2>&1 &
pids+=($!)

# ── Wait until everything listens ───────────────────────────────────────────────
declare -A port=([nginx-http]=443 [nginx-reject]=444 [nginx-stream]=8443 [nginx-proxy]=8080 [haproxy]=9443 [apache]=10443 [caddy]=11443 [go]=12443
  [dovecot]=10993 [postfix]=10465 [postfix-starttls]=10025)
declare -A logf=(
  [nginx-http]="$work/nginx/http.log" [nginx-reject]="$work/nginx/reject.log" [nginx-stream]="$work/nginx/stream.log"
  [nginx-proxy]="$work/nginx/upstream.log" [haproxy]="$work/haproxy/haproxy.log" [apache]="$work/apache/error.log"
  [caddy]="$work/caddy/caddy.log" [go]="$work/go/go.log" [dovecot]="$work/dovecot/dovecot.log"
  [postfix]="$pf/maillog" [postfix-starttls]="$pf/maillog"
)
targets=(nginx-http nginx-reject nginx-stream nginx-proxy haproxy apache caddy go dovecot postfix postfix-starttls)
# Targets that share a log file with another are provoked on their own, after the others.
solo=(postfix-starttls)
for t in "${targets[@]}"; do
  for i in $(seq 100); do
    if in_srv ss -Hltn "sport = :${port[$t]}" | grep -q LISTEN; then break; fi
    [[ $i == 100 ]] && { echo "regen-fixtures: $t did not start listening on ${port[$t]}" >&2; exit 1; }
    sleep 0.1
  done
done
sleep 0.5

lines() { if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi; }
declare -A cases
for t in "${targets[@]}"; do cases[$t]="case	family	client	first	last"$'\n'; done

# One provoked failure against every server at once; records which log lines it wrote.
provoke() {
  local mode=$1 family=$2 host client
  if [[ $family == 4 ]]; then host=198.51.100.1 client=198.51.100.2; else host=2001:db8::1 client=2001:db8::2; fi
  declare -A before
  for t in "${targets[@]}"; do before[$t]=$(lines "${logf[$t]}"); done
  local jobs=() only=${3:-}
  for t in "${targets[@]}"; do
    if [[ -n $only && $t != "$only" ]] || [[ -z $only && " ${solo[*]} " == *" $t "* ]]; then continue; fi
    local m=$mode
    [[ $t == postfix-starttls ]] && m="smtp-$mode"
    if [[ $mode == reject-cert ]]; then
      local target="$host:${port[$t]}"
      [[ $family == 6 ]] && target="[$host]:${port[$t]}"
      local starttls=()
      [[ $t == postfix-starttls ]] && starttls=(-starttls smtp)
      ip netns exec "$cli" timeout 5 openssl s_client -connect "$target" "${starttls[@]}" -servername test -verify_return_error </dev/null >/dev/null 2>&1 &
    else
      ip netns exec "$cli" timeout 5 node "$client_js" "$host" "${port[$t]}" "$m" >/dev/null 2>&1 &
    fi
    jobs+=($!)
  done
  wait "${jobs[@]}" || true
  # Timeouts (hold) are logged by the servers a little after the client gave up.
  sleep 1.2
  for t in "${targets[@]}"; do
    if [[ -n $only && $t != "$only" ]] || [[ -z $only && " ${solo[*]} " == *" $t "* ]]; then continue; fi
    local after
    after=$(lines "${logf[$t]}")
    cases[$t]+="$mode	$family	$client	$((before[$t] + 1))	$after"$'\n'
  done
}

modes=(close hold hello-close bad-key-share bad-key-length tls10 no-cipher legacy13 sslv2 plain-http proxy-v1 proxy-v2 random unknown-sni reject-cert)
for family in 4 6; do
  for mode in "${modes[@]}"; do
    echo "regen-fixtures: $mode over IPv$family" >&2
    provoke "$mode" "$family"
  done
done
for t in "${solo[@]}"; do
  for family in 4 6; do
    for mode in close hello-close bad-key-share no-cipher plain-http reject-cert; do
      echo "regen-fixtures: $t: $mode over IPv$family" >&2
      provoke "$mode" "$family" "$t"
    done
  done
done

# A request through the nginx proxy, whose upstream speaks plain HTTP: nginx's own
# "while SSL handshaking to upstream" failure, which must never count.
before=$(lines "${logf[nginx-proxy]}")
ip netns exec "$cli" curl -s -o /dev/null --max-time 3 http://198.51.100.1:8080/ || true
sleep 0.5
cases[nginx-proxy]+="upstream	4	198.51.100.2	$((before + 1))	$(lines "${logf[nginx-proxy]}")"$'\n'

mkdir -p "$out"
for t in "${targets[@]}"; do
  cp "${logf[$t]}" "$out/$t.log"
  printf '%s' "${cases[$t]}" >"$out/$t.cases.tsv"
done
{
  echo "Generated by scripts/regen-fixtures.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  nginx -v 2>&1
  haproxy -v | head -1
  apache2 -v | head -1
  echo "caddy $(caddy version)"
  go version
  echo "dovecot $(dovecot --version)"
  postconf -d mail_version
  openssl version
} >"$out/VERSIONS"
echo "regen-fixtures: wrote $out" >&2
