#!/usr/bin/env bash
# A private IMAP server for the mailbox tests: dovecot on 127.0.0.1:10143 (plain IMAP), with one
# user "amends" / "amends-test-pw" and its mail under $AMENDS_DOVECOT_DIR. It has its own config,
# ports and run directory, so it never meets a system dovecot on 143. Safe to run again.
set -euo pipefail

dir=${AMENDS_DOVECOT_DIR:-/var/lib/amends-dovecot}
port=${AMENDS_IMAP_PORT:-10143}
user=amends
password=amends-test-pw

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

if listening; then
  exit 0
fi

if ! command -v dovecot >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Install without starting the system service: only the private instance below runs.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq dovecot-imapd >/dev/null
  if [ -n "$made_policy" ]; then
    rm -f /usr/sbin/policy-rc.d
  fi
fi

# Mail belongs to "nobody": dovecot refuses root as a mail user.
mail_uid=$(id -u nobody)
mail_gid=$(id -g nobody)
mkdir -p "$dir/run" "$dir/state" "$dir/mail"
chown "$mail_uid:$mail_gid" "$dir/mail"
chmod 0755 "$dir"

printf '%s:{PLAIN}%s:%s:%s::%s/mail/%s::nodelay=yes\n' \
  "$user" "$password" "$mail_uid" "$mail_gid" "$dir" "$user" >"$dir/users"
chmod 0644 "$dir/users"

cat >"$dir/dovecot.conf" <<CONF
instance_name = amends-test
base_dir = $dir/run
state_dir = $dir/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests try wrong passwords on purpose: answer at once, and slow down no later login.
auth_failure_delay = 0
log_path = $dir/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull

passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/users
}
userdb {
  driver = passwd-file
  args = $dir/users
}

namespace inbox {
  inbox = yes
  separator = /
}

service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
CONF

dovecot -c "$dir/dovecot.conf"

for _ in $(seq 1 50); do
  if listening; then
    echo "dovecot: IMAP on 127.0.0.1:$port (user $user)"
    exit 0
  fi
  sleep 0.2
done
echo "dovecot did not start; see $dir/dovecot.log" >&2
exit 1
