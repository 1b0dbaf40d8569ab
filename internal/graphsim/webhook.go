package graphsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/wa-onboarding/onboarding/internal/graph"
)

// Webhook defaults.
const (
	DefaultWebhookAttempts = 5
	DefaultWebhookBackoff  = 500 * time.Millisecond
	// maxWebhooksInFlight bounds deliveries still being tried; beyond it a
	// webhook is dropped with a warning rather than piling up goroutines.
	maxWebhooksInFlight = 256
	// sweepEvery is how often pending display-name reviews are checked, so
	// that an approval's webhook goes out when its time comes even if
	// nobody reads the number.
	sweepEvery = time.Second
)

// AccountUpdateEvents are the account_update events the simulator sends:
// those of Meta's reference that concern onboarding.
var AccountUpdateEvents = []string{
	"ACCOUNT_DELETED", "ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE",
	"PARTNER_ADDED", "PARTNER_REMOVED", "PARTNER_APP_INSTALLED", "PARTNER_APP_UNINSTALLED",
	"ACCOUNT_OFFBOARDED", "ACCOUNT_RECONNECTED",
}

// BanStates are the values of ban_info.waba_ban_state of a DISABLED_UPDATE.
var BanStates = []string{"DISABLE", "REINSTATE", "SCHEDULE_FOR_DISABLE"}

// NameRejectionReasons are Meta's rejection_reason values of a REJECTED
// phone_number_name_update.
var NameRejectionReasons = []string{
	"NAME_EMPLOYEE_ISSUE", "NAME_ENDCLIENT_NOTRELATED", "NAME_FORMAT_UNACCEPTABLE",
	"NAME_INDIVIDUAL_ISSUE", "NAME_NOT_CONSISTENT", "UNKNOWN",
}

type webhookPayload struct {
	Object string         `json:"object"`
	Entry  []webhookEntry `json:"entry"`
}

type webhookEntry struct {
	ID      string          `json:"id"`
	Time    int64           `json:"time"`
	Changes []webhookChange `json:"changes"`
}

type webhookChange struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// webhooksOn reports whether webhooks are configured.
func (s *Server) webhooksOn() bool { return s.opts.WebhookURL != "" }

// refresh applies a due display-name approval to n and sends its webhook.
// The caller holds s.mu.
func (s *Server) refresh(n *number, now time.Time) {
	if n.refresh(now) {
		s.log.Info("display name approved after review", "phone_number_id", n.id, "number", "+"+n.digits())
		s.nameWebhook(n, graph.NameApproved, "")
	}
}

// nameWebhook sends phone_number_name_update for n's name status. The
// caller holds s.mu.
func (s *Server) nameWebhook(n *number, status, reason string) {
	var decision string
	switch status {
	case graph.NameApproved, graph.NameAvailableWithoutReview:
		decision = "APPROVED"
	case graph.NameDeclined:
		decision = "REJECTED"
		if reason == "" {
			reason = "UNKNOWN"
		}
	case graph.NamePendingReview:
		decision = "PENDING"
	default:
		return
	}
	var rr any // null unless rejected, as Meta sends it
	if decision == "REJECTED" {
		rr = reason
	}
	s.sendWebhook(n.wabaID, "phone_number_name_update", map[string]any{
		"display_phone_number":    n.digits(),
		"decision":                decision,
		"requested_verified_name": n.verifiedName,
		"rejection_reason":        rr,
	})
}

// sendWebhook signs and POSTs one change to the webhook URL in the
// background, retrying with backoff; it never blocks the caller, who may
// hold s.mu.
func (s *Server) sendWebhook(entryID, field string, value any) {
	if !s.webhooksOn() {
		return
	}
	body, err := json.Marshal(webhookPayload{Object: "whatsapp_business_account", Entry: []webhookEntry{{
		ID: entryID, Time: s.now().Unix(), Changes: []webhookChange{{Field: field, Value: value}},
	}}})
	if err != nil {
		s.log.Error("webhook not built", "field", field, "error", err)
		return
	}
	if s.webhooksInFlight.Add(1) > maxWebhooksInFlight {
		s.webhooksInFlight.Add(-1)
		s.log.Warn("webhook dropped: too many deliveries in flight", "field", field, "limit", maxWebhooksInFlight)
		return
	}
	s.webhooks.Add(1)
	go func() {
		defer s.webhooks.Done()
		defer s.webhooksInFlight.Add(-1)
		s.deliver(field, body)
	}()
}

func (s *Server) deliver(field string, body []byte) {
	mac := hmac.New(sha256.New, s.opts.WebhookAppSecret)
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	wait := s.opts.WebhookBackoff
	for attempt := 1; ; attempt++ {
		status, err := s.postWebhook(body, sig)
		if err == nil && status/100 == 2 {
			s.log.Info("webhook delivered", "field", field, "url", s.opts.WebhookURL, "status", status, "attempt", attempt)
			return
		}
		final := attempt >= s.opts.WebhookAttempts ||
			(err == nil && status/100 == 4 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests)
		attrs := []any{"field", field, "url", s.opts.WebhookURL, "attempt", attempt}
		if err != nil {
			attrs = append(attrs, "error", err)
		} else {
			attrs = append(attrs, "status", status)
		}
		if final {
			s.log.Warn("webhook given up", attrs...)
			return
		}
		s.log.Warn("webhook failed; will retry", append(attrs, "retry_in", wait)...)
		select {
		case <-time.After(wait):
		case <-s.done:
			s.log.Warn("webhook abandoned: simulator closing", "field", field)
			return
		}
		wait *= 2
	}
}

func (s *Server) postWebhook(body []byte, sig string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", sig)
	req.Header.Set("User-Agent", "facebookexternalua")
	resp, err := s.opts.WebhookClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// WaitWebhooks waits until every webhook sent so far was delivered or
// given up. Tests call it; the simulator never needs to.
func (s *Server) WaitWebhooks() { s.webhooks.Wait() }

// ApplyDueReviews approves the display names whose review time has come and
// sends their webhooks. With a webhook URL the simulator does it every
// second on its own; tests on a ManualClock call it after moving the clock.
func (s *Server) ApplyDueReviews() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	changed := false
	for _, n := range s.numbers {
		if n.deletedAt.IsZero() && !n.forgotten && n.nameStatus == graph.NamePendingReview && !n.nameReadyAt.IsZero() {
			if !now.Before(n.nameReadyAt) {
				s.refresh(n, now)
				changed = true
			}
		}
	}
	if changed {
		s.persist()
	}
}

func (s *Server) sweepLoop() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.ApplyDueReviews()
		case <-s.done:
			return
		}
	}
}

// NameReview is a display-name review outcome set by ReviewName.
type NameReview struct {
	// Status is the new name_status: APPROVED, DECLINED, ...
	Status string
	// Name, when set, replaces the display name first, as an edit of the
	// name in WhatsApp Manager would before its review.
	Name string
	// RejectionReason goes with DECLINED; "UNKNOWN" when empty.
	RejectionReason string
}

// ReviewName sets the number's name_status (and name) and, with a webhook
// URL, sends the phone_number_name_update Meta sends for the decision:
// APPROVED for APPROVED and AVAILABLE_WITHOUT_REVIEW, REJECTED with the
// reason for DECLINED, PENDING for PENDING_REVIEW.
func (s *Server) ReviewName(id string, r NameReview) error {
	switch r.Status {
	case graph.NameApproved, graph.NameAvailableWithoutReview, graph.NamePendingReview,
		graph.NameDeclined, graph.NameExpired, graph.NameNone:
	default:
		return fmt.Errorf("graphsim: unknown name status %q", r.Status)
	}
	if r.RejectionReason != "" && !slices.Contains(NameRejectionReasons, r.RejectionReason) {
		return fmt.Errorf("graphsim: unknown rejection reason %q (one of %v)", r.RejectionReason, NameRejectionReasons)
	}
	return s.update(id, func(n *number) {
		if r.Name != "" {
			n.verifiedName = r.Name
		}
		n.nameStatus, n.nameReadyAt = r.Status, time.Time{}
		s.log.Info("name status set", "phone_number_id", id, "name_status", r.Status, "verified_name", n.verifiedName)
		s.nameWebhook(n, r.Status, r.RejectionReason)
	})
}

// AccountUpdate sends the account_update webhook of event for the WABA, as
// Meta does when a WABA is deleted, banned, unshared, offboarded or
// reinstated. banState goes with DISABLED_UPDATE (DISABLE when empty). The
// simulator's Graph answers do not change: the event is for the receiver.
func (s *Server) AccountUpdate(wabaID, event, banState string) error {
	if !slices.Contains(AccountUpdateEvents, event) {
		return fmt.Errorf("graphsim: unknown account_update event %q (one of %v)", event, AccountUpdateEvents)
	}
	value := map[string]any{"event": event}
	switch {
	case event == "DISABLED_UPDATE":
		if banState == "" {
			banState = "DISABLE"
		}
		if !slices.Contains(BanStates, banState) {
			return fmt.Errorf("graphsim: unknown ban state %q (one of %v)", banState, BanStates)
		}
		value["ban_info"] = map[string]string{"waba_ban_state": banState, "waba_ban_date": s.now().UTC().Format("2006-01-02")}
	case banState != "":
		return fmt.Errorf("graphsim: ban_state goes with DISABLED_UPDATE only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wabas[wabaID] {
		return fmt.Errorf("graphsim: WABA %s: %w", wabaID, ErrNotFound)
	}
	if event == "PARTNER_ADDED" || event == "PARTNER_REMOVED" {
		value["waba_info"] = map[string]string{"waba_id": wabaID, "owner_business_id": wabaID}
	}
	s.log.Info("account update", "waba_id", wabaID, "event", event, "ban_state", banState, "webhook", s.webhooksOn())
	s.sendWebhook(wabaID, "account_update", value)
	return nil
}
