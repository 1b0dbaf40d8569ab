package webhooks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// Webhook fields this package acts on; Meta sends many others.
const (
	FieldNameUpdate    = "phone_number_name_update"
	FieldAccountUpdate = "account_update"
)

// ObjectWABA is the envelope's object for every WhatsApp Business Account
// field.
const ObjectWABA = "whatsapp_business_account"

// account_update events that leave a WABA unusable for onboarding: every
// Graph call on its numbers fails from then on (deleted, unshared from the
// partner, the partner's app removed), or the number was taken elsewhere
// (offboarded). DISABLED_UPDATE counts only with the ban state DISABLE.
var unusableEvents = map[string]bool{
	"ACCOUNT_DELETED":         true,
	"PARTNER_REMOVED":         true,
	"PARTNER_APP_UNINSTALLED": true,
	"ACCOUNT_OFFBOARDED":      true,
}

// account_update events that undo one of unusableEvents; DISABLED_UPDATE
// counts with the ban state REINSTATE.
var reinstateEvents = map[string]bool{
	"PARTNER_ADDED":         true,
	"PARTNER_APP_INSTALLED": true,
	"ACCOUNT_RECONNECTED":   true,
}

// Ban states of a DISABLED_UPDATE's ban_info.waba_ban_state.
const (
	BanStateDisable            = "DISABLE"
	BanStateReinstate          = "REINSTATE"
	BanStateScheduleForDisable = "SCHEDULE_FOR_DISABLE"
)

// payload is Meta's envelope.
type payload struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Time    int64    `json:"time"`
	Changes []change `json:"changes"`
}

type change struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type nameUpdateValue struct {
	DisplayPhoneNumber    string  `json:"display_phone_number"`
	Decision              string  `json:"decision"`
	RequestedVerifiedName string  `json:"requested_verified_name"`
	RejectionReason       *string `json:"rejection_reason"`
}

type accountUpdateValue struct {
	Event   string `json:"event"`
	BanInfo *struct {
		WABABanState string `json:"waba_ban_state"`
	} `json:"ban_info"`
	WABAInfo *struct {
		WABAID string `json:"waba_id"`
	} `json:"waba_info"`
}

// event is one change of a delivery, mapped to what the runs are told.
type event struct {
	field string
	// key identifies the change across deliveries for the dedupe cache.
	key string

	// A name update goes to one run.
	workflowID string
	number     string // E.164
	name       *onboarding.NameUpdateInput

	// An account update goes to every run of a WABA.
	wabaID string
	waba   *onboarding.WABAUpdateInput

	// ignore says why the change is not passed on, "" when it is.
	ignore string
}

// parse decodes a delivery into its events. An error means the body is not
// a WhatsApp Business Account delivery at all; a change that cannot be used
// comes back as an event with ignore set.
func parse(body []byte, received time.Time) ([]event, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("body is not a webhook envelope: %w", err)
	}
	if p.Object != ObjectWABA {
		return nil, fmt.Errorf("object is %q, want %q", p.Object, ObjectWABA)
	}
	var out []event
	for _, e := range p.Entry {
		at := received
		if e.Time > 0 {
			at = time.Unix(e.Time, 0).UTC()
		}
		for _, c := range e.Changes {
			ev := event{field: c.Field, key: eventKey(e, c)}
			switch c.Field {
			case FieldNameUpdate:
				nameEvent(&ev, c.Value, at)
			case FieldAccountUpdate:
				accountEvent(&ev, e.ID, c.Value, at)
			default:
				ev.ignore = "field not used by onboarding"
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// eventKey is the same for every delivery of one change: Meta sends no
// event ID for these fields, so the WABA, time, field and value name it.
func eventKey(e entry, c change) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(e.ID), []byte(strconv.FormatInt(e.Time, 10)), []byte(c.Field), c.Value} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func nameEvent(ev *event, raw json.RawMessage, at time.Time) {
	var v nameUpdateValue
	if err := json.Unmarshal(raw, &v); err != nil {
		ev.ignore = "value is not a phone_number_name_update: " + err.Error()
		return
	}
	e164, err := onboarding.NormalizeE164(digitsOnly(v.DisplayPhoneNumber))
	if err != nil {
		ev.ignore = "display_phone_number is not a phone number"
		return
	}
	switch v.Decision {
	case onboarding.NameDecisionApproved, onboarding.NameDecisionRejected,
		onboarding.NameDecisionDeferred, onboarding.NameDecisionPending:
	default:
		ev.ignore = "unknown decision " + strconv.Quote(v.Decision)
		return
	}
	in := onboarding.NameUpdateInput{
		Decision: v.Decision, RequestedName: v.RequestedVerifiedName, EventTime: at, EventID: ev.key,
	}
	if v.RejectionReason != nil {
		in.Reason = *v.RejectionReason
	}
	ev.number, ev.workflowID, ev.name = e164, onboarding.WorkflowIDForE164(e164), &in
}

func accountEvent(ev *event, entryID string, raw json.RawMessage, at time.Time) {
	var v accountUpdateValue
	if err := json.Unmarshal(raw, &v); err != nil {
		ev.ignore = "value is not an account_update: " + err.Error()
		return
	}
	// PARTNER_* events name the WABA in waba_info; the entry may be the
	// business.
	ev.wabaID = entryID
	if v.WABAInfo != nil && v.WABAInfo.WABAID != "" {
		ev.wabaID = v.WABAInfo.WABAID
	}
	if !isID(ev.wabaID) {
		ev.ignore = "WABA ID is not numeric"
		return
	}
	banState := ""
	if v.BanInfo != nil {
		banState = v.BanInfo.WABABanState
	}
	state := wabaState(v.Event, banState)
	if state == "" {
		ev.ignore = "event " + strconv.Quote(v.Event) + " does not change whether the WABA can be used"
		return
	}
	ev.waba = &onboarding.WABAUpdateInput{Event: v.Event, BanState: banState, State: state, EventTime: at, EventID: ev.key}
}

// wabaState maps an account_update event to the WABA state it leaves, or ""
// when it does not concern onboarding.
func wabaState(event, banState string) string {
	switch {
	case unusableEvents[event], event == "DISABLED_UPDATE" && banState == BanStateDisable:
		return onboarding.WABAStateUnusable
	case reinstateEvents[event], event == "DISABLED_UPDATE" && banState == BanStateReinstate:
		return onboarding.WABAStateUsable
	}
	return ""
}

func digitsOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func isID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	return digitsOnly(s) == s
}
