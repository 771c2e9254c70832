#!/bin/sh
# Nextcloud hook for roomcal: the nextcloud image runs it as www-data at
# every start, before Apache (docker-compose.yml mounts this folder on
# /docker-entrypoint-hooks.d/before-starting). Idempotent.
set -eu

occ() { php /var/www/html/occ "$@"; }

if ! occ status --output=json 2>/dev/null | grep -q '"installed":true'; then
	echo "roomcal hook: Nextcloud is not installed yet; nothing to do"
	exit 0
fi

# roomcal keeps one calendar per room: lift the limit of 30 calendars per
# user and the rate limit of 10 calendar creations per hour. No --type:
# it exists from Nextcloud 29 only, and older versions exit 1 on it (which
# would stop this hook under set -e); a plain --value works on every one.
occ config:app:set dav maximumCalendarsSubscriptions --value=-1
occ config:app:set dav rateLimitCalendarCreation --value=1000
occ config:app:set dav rateLimitPeriodCalendarCreation --value=3600

# The service account that owns the room calendars.
if occ user:info roomcal >/dev/null 2>&1; then
	echo "roomcal hook: user roomcal exists"
elif [ -n "${ROOMCAL_NEXTCLOUD_PASSWORD:-}" ]; then
	OC_PASS=$ROOMCAL_NEXTCLOUD_PASSWORD occ user:add --password-from-env --display-name=roomcal roomcal
else
	echo "roomcal hook: ROOMCAL_NEXTCLOUD_PASSWORD is empty, user roomcal not created" >&2
fi
