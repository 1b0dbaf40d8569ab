#!/bin/sh
# Creates the namespace the product runs in and registers its search
# attributes (onboarding/names.go: WhatsAppStage, WhatsAppWABAID,
# WhatsAppPhoneNumberID, WhatsAppWABAState, all Keyword), with the temporal CLI of the
# admin-tools image. Idempotent: run by the temporal-setup service of
# docker-compose.yml on every `up`; the worker starts after it succeeded.
# deploy/compose_test.go checks this list against onboarding/names.go.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE is required}"
RETENTION="${NAMESPACE_RETENTION:-720h}"

i=0
until temporal operator cluster health >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 120 ] || { echo "Temporal at $TEMPORAL_ADDRESS not healthy after 120s" >&2; exit 1; }
	sleep 1
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
	echo "namespace $TEMPORAL_NAMESPACE exists"
else
	temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$RETENTION"
	echo "namespace $TEMPORAL_NAMESPACE created (retention $RETENTION)"
fi

# A new namespace takes a moment to reach every frontend; retry until the
# attribute list answers.
i=0
until existing="$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null)"; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || { echo "cannot list search attributes of $TEMPORAL_NAMESPACE" >&2; exit 1; }
	sleep 1
done
for sa in WhatsAppStage:Keyword WhatsAppWABAID:Keyword WhatsAppPhoneNumberID:Keyword WhatsAppWABAState:Keyword; do
	name="${sa%%:*}" type="${sa##*:}"
	if printf '%s\n' "$existing" | grep -qw "$name"; then
		echo "search attribute $name exists"
	else
		temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
		echo "search attribute $name ($type) created"
	fi
done
