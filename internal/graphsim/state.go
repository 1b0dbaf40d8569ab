package graphsim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/validate"
)

type number struct {
	id, wabaID   string
	cc, national string
	seq          int64

	verifiedName string
	nameStatus   string
	nameReadyAt  time.Time // zero when no automatic approval is pending
	codeStatus   string
	status       string
	platform     string
	quality      string
	region       string
	pin          string // "" while two-step verification is off
	code         *SentCode
	codeRequests []time.Time
	deletedAt    time.Time // zero unless deleted
	forgotten    bool      // Meta no longer knows the ID: see ForgetNumber
}

func (n *number) digits() string { return n.cc + n.national }

// refresh applies the automatic display-name approval once its time came.
func (n *number) refresh(now time.Time) {
	if n.nameStatus == graph.NamePendingReview && !n.nameReadyAt.IsZero() && !now.Before(n.nameReadyAt) {
		n.nameStatus = graph.NameApproved
		n.nameReadyAt = time.Time{}
	}
}

type preverified struct {
	cc, national string
}

type windowKey struct {
	digits, op string
}

// window is one number's request history for register or deregister.
type window struct {
	reqs         []time.Time
	blockedUntil time.Time
}

func (w *window) prune(now time.Time) {
	cut := now.Add(-Window)
	i := 0
	for i < len(w.reqs) && !w.reqs[i].After(cut) {
		i++
	}
	w.reqs = w.reqs[i:]
}

// SentCode is an ownership code the simulator "sent".
type SentCode struct {
	Code      string    `json:"code"`
	Method    string    `json:"method"`
	Language  string    `json:"language"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Number is a snapshot of a simulated phone number.
type Number struct {
	ID                     string    `json:"id"`
	WABAID                 string    `json:"waba_id"` // "" once deleted
	CC                     string    `json:"cc"`
	PhoneNumber            string    `json:"phone_number"` // national part, no cc
	DisplayPhoneNumber     string    `json:"display_phone_number"`
	VerifiedName           string    `json:"verified_name"`
	NameStatus             string    `json:"name_status"`
	CodeVerificationStatus string    `json:"code_verification_status"`
	Status                 string    `json:"status"`
	PlatformType           string    `json:"platform_type"`
	QualityRating          string    `json:"quality_rating"`
	DataLocalizationRegion string    `json:"data_localization_region,omitempty"`
	TwoStepEnabled         bool      `json:"two_step_enabled"`
	PIN                    string    `json:"-"` // for Go tests only, never served
	Code                   *SentCode `json:"code,omitempty"`
	// Requests made in the current 72-hour window, and the end of a block
	// if the operation is blocked.
	RegisterRequests       int       `json:"register_requests"`
	DeregisterRequests     int       `json:"deregister_requests"`
	RegisterBlockedUntil   time.Time `json:"register_blocked_until,omitzero"`
	DeregisterBlockedUntil time.Time `json:"deregister_blocked_until,omitzero"`
	DeletedAt              time.Time `json:"deleted_at,omitzero"`
	// Forgotten is true once ForgetNumber made Meta forget the ID.
	Forgotten bool `json:"forgotten,omitempty"`
}

func (s *Server) snapshot(n *number) Number {
	now := s.now()
	n.refresh(now)
	out := Number{
		ID: n.id, WABAID: n.wabaID, CC: n.cc, PhoneNumber: n.national,
		DisplayPhoneNumber: displayNumber(n.cc, n.national), VerifiedName: n.verifiedName,
		NameStatus: n.nameStatus, CodeVerificationStatus: n.codeStatus, Status: n.status,
		PlatformType: n.platform, QualityRating: n.quality, DataLocalizationRegion: n.region,
		TwoStepEnabled: n.pin != "", PIN: n.pin, DeletedAt: n.deletedAt, Forgotten: n.forgotten,
	}
	if n.code != nil {
		c := *n.code
		out.Code = &c
	}
	out.RegisterRequests, out.RegisterBlockedUntil = s.windowState(n, EndpointRegister, now)
	out.DeregisterRequests, out.DeregisterBlockedUntil = s.windowState(n, EndpointDeregister, now)
	return out
}

// windowState is how many op requests the number made in the window ending
// now, and the end of its block (zero when not blocked). The caller holds s.mu.
func (s *Server) windowState(n *number, op string, now time.Time) (int, time.Time) {
	w := s.windows[windowKey{n.digits(), op}]
	if w == nil {
		return 0, time.Time{}
	}
	w.prune(now)
	if now.Before(w.blockedUntil) {
		return len(w.reqs), w.blockedUntil
	}
	return len(w.reqs), time.Time{}
}

// displayNumber formats a number the way the Graph API shows it: NANP
// numbers as "+1 555-123-4567", others as "+cc national".
func displayNumber(cc, national string) string {
	if cc == "1" && len(national) == 10 {
		return "+1 " + national[:3] + "-" + national[3:6] + "-" + national[6:]
	}
	return "+" + cc + " " + national
}

// ErrNotFound is returned by the Go API for an unknown ID.
var ErrNotFound = errors.New("graphsim: no such object")

// CreateWABA creates a WhatsApp Business Account and returns its ID, a new
// numeric one when id is empty. Creating an existing WABA is a no-op.
func (s *Server) CreateWABA(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createWABA(id)
}

func (s *Server) createWABA(id string) string {
	if id == "" {
		id = s.newID()
	}
	if !s.wabas[id] {
		s.wabas[id] = true
		s.log.Info("waba created", "waba_id", id)
		s.persist()
	}
	return id
}

// WABAs returns the IDs of every WABA, sorted.
func (s *Server) WABAs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.wabas))
	for id := range s.wabas {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// AddPreverifiedNumber records a pre-verified number (Meta's admin flow,
// which the onboarding never calls) and returns the ID to pass as
// preverified_id when adding it to a WABA.
func (s *Server) AddPreverifiedNumber(cc, nationalNumber string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID()
	s.preverified[id] = &preverified{cc: cc, national: nationalNumber}
	s.log.Info("pre-verified number created", "preverified_id", id, "number", "+"+cc+nationalNumber)
	s.persist()
	return id
}

// SeedOption shapes a number put in place by SeedNumber.
type SeedOption func(*number)

// Verified marks the seeded number's ownership as verified.
func Verified() SeedOption {
	return func(n *number) { n.codeStatus = graph.CodeVerified }
}

// Registered seeds a verified number already registered for the Cloud API
// with pin as its two-step PIN and region ("" for none) as its
// data-localization region.
func Registered(pin, region string) SeedOption {
	return func(n *number) {
		n.codeStatus = graph.CodeVerified
		n.status = graph.StatusConnected
		n.platform = graph.PlatformCloudAPI
		n.quality = "GREEN"
		n.pin = pin
		n.region = region
	}
}

// WithPIN turns two-step verification on with pin.
func WithPIN(pin string) SeedOption { return func(n *number) { n.pin = pin } }

// WithNameStatus sets the display-name status; it does not change on its own.
func WithNameStatus(status string) SeedOption {
	return func(n *number) { n.nameStatus, n.nameReadyAt = status, time.Time{} }
}

// WithVerifiedName sets the display name.
func WithVerifiedName(name string) SeedOption { return func(n *number) { n.verifiedName = name } }

// SeedNumber puts a number on a WABA without going through the Graph API,
// by default unverified with an APPROVED name, and returns its ID.
func (s *Server) SeedNumber(wabaID, cc, nationalNumber string, opts ...SeedOption) (string, error) {
	if err := validate.CountryCode("cc", cc); err != nil {
		return "", err
	}
	if err := validate.PhoneNumber("phone_number", cc, nationalNumber); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wabas[wabaID] {
		return "", fmt.Errorf("graphsim: WABA %s: %w", wabaID, ErrNotFound)
	}
	if n := s.live[cc+nationalNumber]; n != nil {
		return "", fmt.Errorf("graphsim: +%s%s is already on WABA %s as %s", cc, nationalNumber, n.wabaID, n.id)
	}
	n := s.newNumber(wabaID, cc, nationalNumber, "Seeded "+cc+nationalNumber)
	n.nameStatus, n.nameReadyAt = graph.NameApproved, time.Time{}
	for _, o := range opts {
		o(n)
	}
	s.log.Info("number seeded", "phone_number_id", n.id, "waba_id", wabaID, "number", "+"+n.digits(),
		"status", n.status, "code_verification_status", n.codeStatus)
	s.persist()
	return n.id, nil
}

func (s *Server) newNumber(wabaID, cc, national, name string) *number {
	now := s.now()
	s.seq++
	n := &number{
		id: s.newID(), wabaID: wabaID, cc: cc, national: national, seq: s.seq,
		verifiedName: name, nameStatus: graph.NameApproved, codeStatus: graph.CodeNotVerified,
		status: graph.StatusPending, platform: graph.PlatformNotApplicable, quality: "NA",
	}
	if d := s.opts.NameReviewDelay; d > 0 {
		n.nameStatus, n.nameReadyAt = graph.NamePendingReview, now.Add(d)
	}
	s.numbers[n.id] = n
	s.live[n.digits()] = n
	return n
}

// Number returns a snapshot of the number with that ID, deleted ones
// included.
func (s *Server) Number(id string) (Number, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[id]
	if n == nil {
		return Number{}, false
	}
	return s.snapshot(n), true
}

// Numbers returns snapshots of every number, oldest first.
func (s *Server) Numbers() []Number {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := make([]*number, 0, len(s.numbers))
	for _, n := range s.numbers {
		ns = append(ns, n)
	}
	slices.SortFunc(ns, func(a, b *number) int { return int(a.seq - b.seq) })
	out := make([]Number, len(ns))
	for i, n := range ns {
		out[i] = s.snapshot(n)
	}
	return out
}

// LastCode returns the last ownership code sent to the number, expired or
// not.
func (s *Server) LastCode(phoneNumberID string) (string, bool) {
	c, ok := s.SentCode(phoneNumberID)
	return c.Code, ok
}

// SentCode returns the last ownership code sent to the number with its
// method and times.
func (s *Server) SentCode(phoneNumberID string) (SentCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[phoneNumberID]
	if n == nil || n.code == nil {
		return SentCode{}, false
	}
	return *n.code, true
}

// SentCodeFor is SentCode looked up by phone number ("+15551234567", any
// separators) instead of ID.
func (s *Server) SentCodeFor(phoneNumber string) (SentCode, string, bool) {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phoneNumber)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.live[digits]
	if n == nil || n.code == nil {
		return SentCode{}, "", false
	}
	return *n.code, n.id, true
}

// ApproveName makes the number's display name APPROVED now.
func (s *Server) ApproveName(id string) error { return s.SetNameStatus(id, graph.NameApproved) }

// SetNameStatus sets the number's name_status; it stays until changed again.
func (s *Server) SetNameStatus(id, status string) error {
	switch status {
	case graph.NameApproved, graph.NameAvailableWithoutReview, graph.NamePendingReview,
		graph.NameDeclined, graph.NameExpired, graph.NameNone:
	default:
		return fmt.Errorf("graphsim: unknown name status %q", status)
	}
	return s.update(id, func(n *number) {
		n.nameStatus, n.nameReadyAt = status, time.Time{}
		s.log.Info("name status set", "phone_number_id", id, "name_status", status)
	})
}

// DisableTwoStep turns two-step verification off, as a person would in
// WhatsApp Manager before migrating the number to another WABA.
func (s *Server) DisableTwoStep(id string) error {
	return s.update(id, func(n *number) {
		n.pin = ""
		s.log.Info("two-step verification disabled", "phone_number_id", id)
	})
}

// DeleteNumber removes the number from its WABA, as WhatsApp Manager does
// (the Graph API has no call for it). For DeletedBlock afterwards register
// answers 133015, for this ID and for the same number added again.
func (s *Server) DeleteNumber(id string) error {
	return s.update(id, func(n *number) {
		now := s.now()
		delete(s.live, n.digits())
		s.deleted[n.digits()] = now
		n.deletedAt, n.status, n.wabaID = now, graph.StatusDeleted, ""
		s.log.Info("number deleted", "phone_number_id", id, "number", "+"+n.digits())
	})
}

// ForgetNumber makes Meta forget the number with that ID, as happens to a
// number deleted long ago or removed by Meta: from then on every Graph call
// on the ID answers code 100 subcode 33 "Object with ID ... does not exist",
// the number leaves its WABA's list, and the same digits can be added again
// under a new ID. The admin paths still show it, marked forgotten.
func (s *Server) ForgetNumber(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[id]
	if n == nil || n.forgotten {
		return fmt.Errorf("graphsim: phone number %s: %w", id, ErrNotFound)
	}
	n.forgotten = true
	if s.live[n.digits()] == n {
		delete(s.live, n.digits())
	}
	s.log.Info("number forgotten: Meta no longer knows this ID", "phone_number_id", id, "number", "+"+n.digits())
	s.persist()
	return nil
}

func (s *Server) update(id string, f func(*number)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[id]
	if n == nil || !n.deletedAt.IsZero() || n.forgotten {
		return fmt.Errorf("graphsim: phone number %s: %w", id, ErrNotFound)
	}
	f(n)
	s.persist()
	return nil
}

// RegisterCount is how many register requests the number made in the
// current 72-hour window, rejected ones included.
func (s *Server) RegisterCount(id string) int { return s.windowCount(id, EndpointRegister) }

// DeregisterCount is RegisterCount for deregister.
func (s *Server) DeregisterCount(id string) int { return s.windowCount(id, EndpointDeregister) }

func (s *Server) windowCount(id, op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[id]
	if n == nil {
		return 0
	}
	count, _ := s.windowState(n, op, s.now())
	return count
}
