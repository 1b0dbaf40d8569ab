package graphsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/validate"
)

// phoneNumberFields are the fields a phone number node has.
var phoneNumberFields = []string{
	"id", "display_phone_number", "verified_name", "code_verification_status", "name_status",
	"status", "quality_rating", "platform_type", "account_mode", "throughput", "country_dial_code",
}

// defaultGetFields is what GET /{id} returns without fields, per the
// getPhoneNumberById operation of Meta's OpenAPI document.
var defaultGetFields = []string{"id", "display_phone_number", "verified_name", "quality_rating"}

// defaultListFields is what GET /{waba}/phone_numbers returns without
// fields, per the sample response on Meta's phone-numbers page.
var defaultListFields = []string{"id", "display_phone_number", "verified_name", "code_verification_status",
	"quality_rating", "platform_type", "throughput"}

func (s *Server) liveNumber(method, id string) (*number, *apiError) {
	n := s.numbers[id]
	if n == nil || !n.deletedAt.IsZero() || n.forgotten {
		return nil, errNoObject(method, id)
	}
	s.refresh(n, s.now())
	return n, nil
}

func parseBool(v string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(v))
	return b
}

func (s *Server) addPhoneNumber(wabaID string, p params) reply {
	if !s.wabas[wabaID] {
		return fail(errNoObject(http.MethodPost, wabaID))
	}
	for _, k := range []string{"cc", "phone_number"} {
		if strings.TrimSpace(p.get(k)) == "" {
			return fail(errRequired(k))
		}
	}
	cc := strings.TrimPrefix(strings.TrimSpace(p.get("cc")), "+")
	national := strings.TrimSpace(p.get("phone_number"))
	if err := validate.CountryCode("cc", cc); err != nil {
		return fail(errParam(err.Error()))
	}
	if err := validate.PhoneNumber("phone_number", cc, national); err != nil {
		return fail(errParam(err.Error()))
	}
	digits := cc + national
	migrate := parseBool(p.get("migrate_phone_number"))
	name := strings.TrimSpace(p.get("verified_name"))
	preID := strings.TrimSpace(p.get("preverified_id"))

	if existing := s.live[digits]; existing != nil {
		if existing.wabaID == wabaID {
			return fail(&apiError{Code: 100, Subcode: 2388012,
				Message:   "(#100) The phone number already exists on this WhatsApp Business Account",
				UserTitle: "Phone Number Already Exists",
				UserMsg:   "This phone number is already on this WhatsApp Business Account.",
				Details: fmt.Sprintf("%s is already on WhatsApp Business Account %s as phone number ID %s",
					displayNumber(cc, national), wabaID, existing.id)})
		}
		if !migrate {
			return fail(&apiError{Code: 100, Subcode: 2388091,
				Message:   "(#100) The phone number is not eligible to be added to this account",
				UserTitle: "Phone Number Not Eligible",
				UserMsg:   "This phone number is in use on another WhatsApp Business Account.",
				Details: fmt.Sprintf("%s is on another WhatsApp Business Account; add it with migrate_phone_number=true to move it here",
					displayNumber(cc, national))})
		}
		if existing.pin != "" {
			return fail(&apiError{Code: 100, Subcode: 2388103,
				Message:   "(#100) The phone number cannot be migrated",
				UserTitle: "Two-Step Verification Is On",
				UserMsg:   "Turn off two-step verification for this number before migrating it.",
				Details: fmt.Sprintf("%s has two-step verification enabled on its current WhatsApp Business Account; disable it there, then migrate",
					displayNumber(cc, national))})
		}
		from := existing.wabaID
		existing.wabaID = wabaID
		existing.codeStatus = graph.CodeNotVerified
		existing.status = graph.StatusPending
		existing.platform = graph.PlatformNotApplicable
		existing.region = ""
		existing.code = nil
		s.seq++
		existing.seq = s.seq
		if name != "" {
			existing.verifiedName = name
		}
		s.log.Info("number migrated", "phone_number_id", existing.id, "from_waba_id", from, "to_waba_id", wabaID,
			"number", "+"+digits)
		return ok(map[string]string{"id": existing.id})
	}
	if migrate {
		return fail(&apiError{Code: 100, Subcode: 2388093,
			Message:   "(#100) The phone number is not eligible for migration",
			UserTitle: "Phone Number Not Eligible For Migration",
			UserMsg:   "Only a number on another WhatsApp Business Account can be migrated.",
			Details:   fmt.Sprintf("%s is not on any other WhatsApp Business Account; add it without migrate_phone_number", displayNumber(cc, national))})
	}
	if name == "" {
		return fail(errRequired("verified_name"))
	}
	var pre *preverified
	if preID != "" {
		pre = s.preverified[preID]
		if pre == nil {
			return fail(errParam("preverified_id: no pre-verified phone number with ID " + preID))
		}
		if pre.cc+pre.national != digits {
			return fail(errParam(fmt.Sprintf("preverified_id: pre-verified number %s is %s, not %s",
				preID, displayNumber(pre.cc, pre.national), displayNumber(cc, national))))
		}
	}
	n := s.newNumber(wabaID, cc, national, name)
	if pre != nil {
		n.codeStatus = graph.CodeVerified
	}
	s.log.Info("number added", "phone_number_id", n.id, "waba_id", wabaID, "number", "+"+digits,
		"name_status", n.nameStatus, "code_verification_status", n.codeStatus)
	return ok(map[string]string{"id": n.id})
}

func parseFields(raw string, def []string) ([]string, *apiError) {
	if strings.TrimSpace(raw) == "" {
		return def, nil
	}
	var out []string
	for f := range strings.SplitSeq(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(phoneNumberFields, f) {
			return nil, &apiError{Code: 100,
				Message: fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (WhatsAppBusinessPhoneNumber)", f)}
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if !slices.Contains(out, "id") {
		out = append(out, "id")
	}
	return out, nil
}

func (n *number) render(fields []string) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		switch f {
		case "id":
			out[f] = n.id
		case "display_phone_number":
			out[f] = displayNumber(n.cc, n.national)
		case "verified_name":
			out[f] = n.verifiedName
		case "code_verification_status":
			out[f] = n.codeStatus
		case "name_status":
			out[f] = n.nameStatus
		case "status":
			out[f] = n.status
		case "quality_rating":
			out[f] = n.quality
		case "platform_type":
			out[f] = n.platform
		case "account_mode":
			out[f] = "LIVE"
		case "throughput":
			out[f] = map[string]string{"level": "STANDARD"}
		case "country_dial_code":
			out[f] = n.cc
		}
	}
	return out
}

func (s *Server) getPhoneNumber(id string, p params) reply {
	n, err := s.liveNumber(http.MethodGet, id)
	if err != nil {
		return fail(err)
	}
	fields, err := parseFields(p.get("fields"), defaultGetFields)
	if err != nil {
		return fail(err)
	}
	return ok(n.render(fields))
}

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "seq:")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func (s *Server) listPhoneNumbers(r *http.Request, wabaID string, p params) reply {
	if !s.wabas[wabaID] {
		return fail(errNoObject(http.MethodGet, wabaID))
	}
	fields, err := parseFields(p.get("fields"), defaultListFields)
	if err != nil {
		return fail(err)
	}
	limit := s.opts.PageSize
	if v := strings.TrimSpace(p.get("limit")); v != "" {
		l, cerr := strconv.Atoi(v)
		if cerr != nil || l < 1 {
			return fail(errParam("limit: must be a positive integer"))
		}
		limit = min(l, MaxPageSize)
	}
	var after int64
	if c := p.get("after"); c != "" {
		var okc bool
		if after, okc = decodeCursor(c); !okc {
			return fail(errParam("after: not a cursor this endpoint returned"))
		}
	}
	var all []*number
	for _, n := range s.numbers {
		if n.wabaID == wabaID && n.deletedAt.IsZero() && !n.forgotten && n.seq > after {
			all = append(all, n)
		}
	}
	slices.SortFunc(all, func(a, b *number) int { return int(a.seq - b.seq) })
	page := all
	more := len(all) > limit
	if more {
		page = all[:limit]
	}
	data := make([]map[string]any, 0, len(page))
	now := s.now()
	for _, n := range page {
		s.refresh(n, now)
		data = append(data, n.render(fields))
	}
	out := map[string]any{"data": data}
	if len(page) > 0 {
		paging := map[string]any{"cursors": map[string]string{
			"before": encodeCursor(page[0].seq - 1),
			"after":  encodeCursor(page[len(page)-1].seq),
		}}
		if more {
			paging["next"] = nextURL(r, p, limit, encodeCursor(page[len(page)-1].seq))
		}
		out["paging"] = paging
	}
	return ok(out)
}

// nextURL is the absolute URL of the following page. It carries the access
// token only when the caller put it in the query string itself, as Meta
// does; a header-authenticated caller keeps its token out of URLs.
func nextURL(r *http.Request, p params, limit int, after string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if fp := r.Header.Get("X-Forwarded-Proto"); fp != "" {
		scheme = fp
	}
	q := url.Values{}
	if f := p.get("fields"); f != "" {
		q.Set("fields", f)
	}
	q.Set("limit", strconv.Itoa(limit))
	q.Set("after", after)
	if tok := r.URL.Query().Get("access_token"); tok != "" {
		q.Set("access_token", tok)
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

func randomCode() string {
	v, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", v.Int64())
}

func (s *Server) requestCode(id string, p params) reply {
	n, err := s.liveNumber(http.MethodPost, id)
	if err != nil {
		return fail(err)
	}
	for _, k := range []string{"code_method", "language"} {
		if strings.TrimSpace(p.get(k)) == "" {
			return fail(errRequired(k))
		}
	}
	method := strings.ToUpper(strings.TrimSpace(p.get("code_method")))
	if err := validate.CodeMethod("code_method", method); err != nil {
		return fail(errParam(err.Error()))
	}
	now := s.now()
	if lim := s.opts.CodeRequestLimit; lim > 0 {
		cut := now.Add(-time.Hour)
		n.codeRequests = slices.DeleteFunc(n.codeRequests, func(t time.Time) bool { return !t.After(cut) })
		if len(n.codeRequests) >= lim {
			return fail(&apiError{Code: 136024, Message: "(#136024) Request code error",
				UserTitle: "Too Many Code Requests",
				Details: fmt.Sprintf("%d codes were requested for this number in the last hour; wait before requesting another",
					len(n.codeRequests))})
		}
		n.codeRequests = append(n.codeRequests, now)
	}
	c := &SentCode{Code: randomCode(), Method: method, Language: p.get("language"), SentAt: now,
		ExpiresAt: now.Add(s.opts.CodeTTL)}
	n.code = c
	s.log.Info("code sent", "phone_number_id", n.id, "number", displayNumber(n.cc, n.national),
		"method", c.Method, "language", c.Language, "code", c.Code, "expires_at", c.ExpiresAt)
	return success()
}

func errWrongCode(details string) *apiError {
	return &apiError{Code: 136025, Message: "(#136025) Verify code error",
		UserTitle: "Code Couldn't Be Verified",
		UserMsg:   "The code you entered is wrong or has expired. Request a new code and try again.",
		Details:   details}
}

func (s *Server) verifyCode(id string, p params) reply {
	n, err := s.liveNumber(http.MethodPost, id)
	if err != nil {
		return fail(err)
	}
	code := strings.TrimSpace(p.get("code"))
	if code == "" {
		return fail(errRequired("code"))
	}
	now := s.now()
	switch {
	case n.code == nil:
		return fail(errWrongCode("no code was requested for this number, or it was already used; call request_code"))
	case !now.Before(n.code.ExpiresAt):
		return fail(errWrongCode(fmt.Sprintf("the code expired at %s; call request_code for a new one",
			n.code.ExpiresAt.UTC().Format(time.RFC3339))))
	case code != n.code.Code:
		return fail(errWrongCode("the code does not match the last code sent to this number"))
	}
	n.code = nil
	n.codeStatus = graph.CodeVerified
	s.log.Info("number verified", "phone_number_id", n.id)
	return success()
}

// countWindow records a register or deregister request and answers 133016
// when it is over the limit or the operation is blocked.
func (s *Server) countWindow(n *number, op string) *apiError {
	now := s.now()
	k := windowKey{n.digits(), op}
	w := s.windows[k]
	if w == nil {
		w = &window{}
		s.windows[k] = w
	}
	w.prune(now)
	w.reqs = append(w.reqs, now)
	if now.Before(w.blockedUntil) {
		return errWindow(op, w.blockedUntil)
	}
	if len(w.reqs) > WindowLimit {
		w.blockedUntil = now.Add(Window)
		s.log.Warn("register/deregister window exhausted", "phone_number_id", n.id, "operation", op,
			"requests_in_window", len(w.reqs), "blocked_until", w.blockedUntil)
		return errWindow(op, w.blockedUntil)
	}
	return nil
}

func errWindow(op string, until time.Time) *apiError {
	return &apiError{Code: 133016, Message: "(#133016) Account register deregister rate limit exceeded",
		UserTitle: "Rate Limit Exceeded",
		Details: fmt.Sprintf("more than %d %s requests for this number in %s; %s is blocked until %s",
			WindowLimit, op, Window, op, until.UTC().Format(time.RFC3339))}
}

type backupParam struct {
	Password string `json:"password"`
	Data     string `json:"data"`
}

func (s *Server) register(id string, p params) reply {
	n := s.numbers[id]
	now := s.now()
	if n != nil && !n.deletedAt.IsZero() && !n.forgotten {
		if now.Sub(n.deletedAt) < DeletedBlock {
			return fail(errRecentlyDeleted(n.deletedAt))
		}
		return fail(errNoObject(http.MethodPost, id))
	}
	n, err := s.liveNumber(http.MethodPost, id)
	if err != nil {
		return fail(err)
	}
	if err := s.countWindow(n, EndpointRegister); err != nil {
		return fail(err)
	}
	if at, deleted := s.deleted[n.digits()]; deleted && now.Sub(at) < DeletedBlock {
		return fail(errRecentlyDeleted(at))
	}
	if !p.has("messaging_product") {
		return fail(errRequired("messaging_product"))
	}
	if mp := p.get("messaging_product"); mp != "whatsapp" {
		return fail(errParam(fmt.Sprintf("messaging_product: must be \"whatsapp\", not %q", mp)))
	}
	if !p.has("pin") {
		return fail(errRequired("pin"))
	}
	pin := p.get("pin")
	if err := validate.PIN("pin", pin); err != nil {
		return fail(errParam(err.Error()))
	}
	region := p.get("data_localization_region")
	if p.has("data_localization_region") && !slices.Contains(graph.DataLocalizationRegions, region) {
		return fail(errParam(fmt.Sprintf("data_localization_region: %q is not one of %s", region,
			strings.Join(graph.DataLocalizationRegions, ", "))))
	}
	if raw, has := p.objects["backup"]; has {
		var b backupParam
		if json.Unmarshal(raw, &b) != nil || b.Password == "" || b.Data == "" {
			return fail(errParam("backup: needs both password and data"))
		}
	} else if p.has("backup") {
		return fail(errParam("backup: must be an object with password and data"))
	}
	if n.codeStatus != graph.CodeVerified {
		return fail(&apiError{Code: 133006, Message: "(#133006) Phone number needs to be verified before registering",
			UserTitle: "Phone Number Not Verified",
			Details:   "verify ownership first: request_code, then verify_code"})
	}
	if n.nameStatus != graph.NameApproved && n.nameStatus != graph.NameAvailableWithoutReview {
		details := "the display name is still being reviewed (name_status PENDING_REVIEW); register again once it is APPROVED"
		if n.nameStatus != graph.NamePendingReview {
			details = fmt.Sprintf("the display name cannot be used (name_status %s); request a new name", n.nameStatus)
		}
		return fail(&apiError{Code: 100, Subcode: 2388001, Message: "(#100) Cannot Create Certificate",
			UserTitle: "Cannot Create Certificate", Details: details})
	}
	if n.pin != "" && n.pin != pin {
		return fail(&apiError{Code: 133005, Message: "(#133005) Two step verification PIN Mismatch",
			UserTitle: "PIN Mismatch",
			Details:   "the PIN does not match this number's two-step verification PIN; reset it with POST /{phone-number-id} {\"pin\":...} if it is lost"})
	}
	if n.status == graph.StatusConnected && region != n.region {
		details := fmt.Sprintf("local storage cannot be changed from %s to %s on a registered number; deregister first, then register with the new region", orNone(n.region), orNone(region))
		return fail(errParam(details))
	}
	// Meta's field docs: a registered number reads status CONNECTED and
	// platform_type CLOUD_API.
	n.pin = pin
	n.status = graph.StatusConnected
	n.platform = graph.PlatformCloudAPI
	n.region = region
	if n.quality == "NA" {
		n.quality = "GREEN"
	}
	s.log.Info("number registered", "phone_number_id", n.id, "data_localization_region", orNone(region),
		"register_requests_in_window", len(s.windows[windowKey{n.digits(), EndpointRegister}].reqs))
	return success()
}

func orNone(region string) string {
	if region == "" {
		return "(none)"
	}
	return region
}

func errRecentlyDeleted(at time.Time) *apiError {
	return &apiError{Code: 133015, Message: "(#133015) The phone number you are attempting to register was recently deleted, and deletion has not yet completed",
		UserTitle: "Phone Number Recently Deleted",
		Details: fmt.Sprintf("the number was deleted at %s; try again after %s", at.UTC().Format(time.RFC3339),
			at.Add(DeletedBlock).UTC().Format(time.RFC3339))}
}

func (s *Server) deregister(id string) reply {
	n, err := s.liveNumber(http.MethodPost, id)
	if err != nil {
		return fail(err)
	}
	if err := s.countWindow(n, EndpointDeregister); err != nil {
		return fail(err)
	}
	if n.status != graph.StatusConnected {
		return fail(&apiError{Code: 100, Subcode: 2207051,
			Message: "(#100) Phone number not registered on the WhatsApp Business Platform.",
			Details: fmt.Sprintf("the number's status is %s; only a registered (CONNECTED) number can be deregistered", n.status)})
	}
	// Meta's pages are silent on what a deregistered number reads. The
	// simulator chooses DISCONNECTED (the status enum's counterpart of
	// CONNECTED) and platform_type NOT_APPLICABLE (the value the field
	// docs give a number registered on no platform); deregistering also
	// disables local storage, as the Registration page says.
	n.status = graph.StatusDisconnected
	n.platform = graph.PlatformNotApplicable
	n.region = ""
	s.log.Info("number deregistered", "phone_number_id", n.id,
		"deregister_requests_in_window", len(s.windows[windowKey{n.digits(), EndpointDeregister}].reqs))
	return success()
}

// getSettings answers GET /{id}/settings the way Meta's OpenAPI document
// shows it (PhoneNumberSettingsResponse). Only storage_configuration carries
// state: the region of the last successful register, gone after a
// deregister or a register without one. The region reads as register
// received it (upper case, e.g. "CH"); Meta's own example shows "us", so
// clients should compare without regard to case. Calling and payload
// encryption, which the onboarding never turns on, read disabled.
func (s *Server) getSettings(id string) reply {
	n, err := s.liveNumber(http.MethodGet, id)
	if err != nil {
		return fail(err)
	}
	storage := map[string]string{"status": graph.StorageDefault}
	if n.status == graph.StatusConnected && n.region != "" {
		storage = map[string]string{"status": graph.StorageInCountry, "data_localization_region": n.region}
	}
	return ok(map[string]any{
		"calling": map[string]any{
			"status": "disabled", "call_icon_visibility": "visible",
			"ip_addresses": map[string][]string{"default": {}}, "callback_permission_status": "disabled",
		},
		"payload_encryption":    map[string]string{"status": "disabled"},
		"storage_configuration": storage,
	})
}

func (s *Server) setPIN(id string, p params) reply {
	n, err := s.liveNumber(http.MethodPost, id)
	if err != nil {
		return fail(err)
	}
	if !p.has("pin") {
		return fail(errRequired("pin"))
	}
	if err := validate.PIN("pin", p.get("pin")); err != nil {
		return fail(errParam(err.Error()))
	}
	n.pin = p.get("pin")
	s.log.Info("two-step PIN set", "phone_number_id", n.id)
	return success()
}
