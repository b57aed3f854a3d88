#!/bin/sh
# Live ingest's system packages (the Producer, app/live/): Debian's nginx with its RTMP
# and stream modules. Installed when missing and this may (root with apt-get); otherwise
# one line says so, and `mediastudio serve` runs without live ingest (the tests of it fail
# under CI=true, skip otherwise). Never starts the system's own nginx service.
PACKAGES="nginx libnginx-mod-rtmp libnginx-mod-stream"
MODULES=/usr/lib/nginx/modules
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  if [ -f "$MODULES/ngx_rtmp_module.so" ] && [ -f "$MODULES/ngx_stream_module.so" ]; then
    exit 0
  fi
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "live ingest: $PACKAGES not installed and not installable here (needs root and apt-get)"
  exit 0
fi
echo "live ingest: installing $PACKAGES"
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then  # the packages' scripts must not start nginx on port 80
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $PACKAGES >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q --no-install-recommends $PACKAGES >/dev/null 2>&1 \
    || echo "live ingest: installing $PACKAGES failed"
fi
[ "$made_policy" = 1 ] && rm -f "$policy"
exit 0
