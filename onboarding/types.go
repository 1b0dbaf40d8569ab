package onboarding

import (
	"errors"
	"fmt"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
)

// CodeMethod is how Meta delivers the ownership code.
type CodeMethod string

// Code delivery methods.
const (
	CodeSMS   CodeMethod = "SMS"
	CodeVoice CodeMethod = "VOICE"
)

// Stage is where a number's run stands. It is also the WhatsAppStage search
// attribute.
type Stage string

// Stages of a run.
const (
	StageAdding               Stage = "adding"
	StageAwaitingCode         Stage = "awaiting_code"
	StageVerifying            Stage = "verifying"
	StageAwaitingNameApproval Stage = "awaiting_name_approval"
	StageRegistering          Stage = "registering"
	StageDeregistering        Stage = "deregistering"
	StageRateLimited          Stage = "rate_limited"
	StageRegistered           Stage = "registered"
	StageDeregistered         Stage = "deregistered"
	StageNeedsAttention       Stage = "needs_attention"
	StageCancelled            Stage = "cancelled"
	// StageRefused ends a run the workflow would not act on: a start under
	// another workflow id than the number's (WorkflowID), with a secret
	// sent unsealed, or with input that breaks a rule. Detail says why.
	StageRefused Stage = "refused"
)

// Working reports whether s is a step in flight: adding, verifying,
// registering or deregistering, which a run passes in the time of one Graph
// call (and its retries). The status query and Temporal UI's current
// details show every stage; the WhatsAppStage search attribute holds only
// the stages a run rests in (a run started before 2026-11b also held the
// working ones), so a list of runs by stage shows where each one waits.
// A run's attribute says "adding" from its start until it first rests.
func (s Stage) Working() bool {
	switch s {
	case StageAdding, StageVerifying, StageRegistering, StageDeregistering:
		return true
	}
	return false
}

// Stages lists every stage, for validation of list filters.
var Stages = []Stage{
	StageAdding, StageAwaitingCode, StageVerifying, StageAwaitingNameApproval,
	StageRegistering, StageDeregistering, StageRateLimited, StageRegistered,
	StageDeregistered, StageNeedsAttention, StageCancelled, StageRefused,
}

// Defaults applied by Normalize.
const (
	DefaultLanguage          = "en_US"
	DefaultCodeWait          = 24 * time.Hour
	DefaultNameCheckInterval = 30 * time.Minute
)

// OnboardInput starts the workflow that onboards one number and then owns it.
type OnboardInput struct {
	WABAID        string     `json:"waba_id"`
	CountryCode   string     `json:"country_code"`     // dial code, digits, e.g. "1"
	PhoneNumber   string     `json:"phone_number"`     // national number, digits
	DisplayName   string     `json:"display_name"`     // verified_name
	PIN           string     `json:"pin"`              // the two-step PIN, six digits before sealing
	Region        string     `json:"region,omitempty"` // data_localization_region, "" for none
	CodeMethod    CodeMethod `json:"code_method,omitempty"`
	Language      string     `json:"language,omitempty"`
	Migrate       bool       `json:"migrate,omitempty"`
	Backup        *Backup    `json:"backup,omitempty"` // a number migrating from the On-Premises API only
	PreverifiedID string     `json:"preverified_id,omitempty"`
	// CodeWait is how long to wait for a code before the run is flagged as
	// parked (it keeps waiting; it never fails for want of a code).
	CodeWait Duration `json:"code_wait,omitempty"`
	// NameCheckInterval is how often a pending display name is re-read.
	NameCheckInterval Duration `json:"name_check_interval,omitempty"`
	// ReregisterOnNameApproval lets the run register the number again by
	// itself (one register call of the 72-hour budget) when Meta approves a
	// changed display name of the registered number; without it the status
	// says a reregister is due.
	ReregisterOnNameApproval bool `json:"reregister_on_name_approval,omitempty"`

	// Resume is set only by the workflow itself when it continues as new.
	Resume *ResumeState `json:"resume,omitempty"`
}

// E164 is the number in E.164 form, "+" included.
func (in OnboardInput) E164() string { return "+" + in.CountryCode + in.PhoneNumber }

// Normalize fills in the defaults.
func (in *OnboardInput) Normalize() {
	if in.CodeMethod == "" {
		in.CodeMethod = CodeSMS
	}
	if in.Language == "" {
		in.Language = DefaultLanguage
	}
	if in.CodeWait == 0 {
		in.CodeWait = Duration(DefaultCodeWait)
	}
	if in.NameCheckInterval == 0 {
		in.NameCheckInterval = Duration(DefaultNameCheckInterval)
	}
}

// Validate refuses input that could only fail later, naming each bad field
// and its rule. Call Normalize first.
func (in OnboardInput) Validate() error {
	errs := []error{
		validate.ID("waba_id", in.WABAID),
		validate.CountryCode("country_code", in.CountryCode),
		validate.PhoneNumber("phone_number", in.CountryCode, in.PhoneNumber),
		validate.DisplayName("display_name", in.DisplayName),
		validPIN("pin", in.PIN),
		validate.Region("region", in.Region),
		validate.CodeMethod("code_method", string(in.CodeMethod)),
		validate.Language("language", in.Language),
	}
	if in.Backup != nil {
		errs = append(errs, in.Backup.Validate())
	}
	if in.PreverifiedID != "" {
		errs = append(errs, validate.ID("preverified_id", in.PreverifiedID))
	}
	if time.Duration(in.CodeWait) < time.Minute {
		errs = append(errs, &validate.Error{Field: "code_wait", Rule: "must be at least 1m"})
	}
	if time.Duration(in.NameCheckInterval) < time.Minute {
		errs = append(errs, &validate.Error{Field: "name_check_interval", Rule: "must be at least 1m"})
	}
	return errors.Join(errs...)
}

// Backup is the backup of a number migrating from the On-Premises API, sent
// once with its first register call. Password is a secret like the PIN:
// encrypted in history by the payload codec, never logged.
type Backup struct {
	Data     string `json:"data"`
	Password string `json:"password"`
}

// maxBackupBytes bounds the backup data carried in workflow history, whose
// payloads the server limits to 2 MB.
const maxBackupBytes = 1 << 20

// Validate names the missing or oversized part of a backup.
func (b Backup) Validate() error {
	var errs []error
	switch {
	case b.Data == "":
		errs = append(errs, &validate.Error{Field: "backup.data", Rule: "is required with a backup"})
	case len(b.Data) > maxBackupBytes:
		errs = append(errs, &validate.Error{Field: "backup.data", Rule: "must be at most 1 MiB"})
	}
	if b.Password == "" {
		errs = append(errs, &validate.Error{Field: "backup.password", Rule: "is required with a backup"})
	}
	return errors.Join(errs...)
}

// String keeps the password out of %v.
func (b Backup) String() string {
	return fmt.Sprintf("Backup{Data: %d bytes, Password: ******}", len(b.Data))
}

// ResumeState is what a run carries into its next run when it continues as
// new: the ledger above all, so that the 10-per-72-hours budget survives.
type ResumeState struct {
	PhoneNumberID string    `json:"phone_number_id"`
	Stage         Stage     `json:"stage"`
	Region        string    `json:"region,omitempty"`
	Ledger        Ledger    `json:"ledger"`
	StartedAt     time.Time `json:"started_at"`
	RegisteredAt  time.Time `json:"registered_at,omitzero"`
	// Webhooks is what Meta's webhooks last said, so that a continued run
	// still ignores older deliveries.
	Webhooks *WebhookState `json:"webhooks,omitempty"`
}

// WebhookState is what a run took from Meta's webhooks.
type WebhookState struct {
	WABAState     string    `json:"waba_state,omitempty"`
	WABAEvent     string    `json:"waba_event,omitempty"`
	WABAEventTime time.Time `json:"waba_event_time,omitzero"`
	// WABAEventID is the id of the waba-update taken last, so that the next
	// run still drops a redelivery of it (empty in runs continued before
	// it was carried).
	WABAEventID   string           `json:"waba_event_id,omitempty"`
	NameUpdate    *NameUpdateInput `json:"name_update,omitempty"`
	ReregisterDue string           `json:"reregister_due,omitempty"`
}

// Ledger holds the times of this number's register and deregister calls,
// the ones Meta counts against its 10-per-72-hours window.
type Ledger struct {
	Register   []time.Time `json:"register,omitempty"`
	Deregister []time.Time `json:"deregister,omitempty"`
	// RegisterBlockedUntil and DeregisterBlockedUntil hold a lock Meta
	// announced with 133016 (calls made outside this worker count too).
	RegisterBlockedUntil   time.Time `json:"register_blocked_until,omitzero"`
	DeregisterBlockedUntil time.Time `json:"deregister_blocked_until,omitzero"`
}

// CodeInput carries an ownership code (signal or update).
type CodeInput struct {
	Code string `json:"code"`
}

// CodeResult says whether Meta accepted a code submitted by update.
type CodeResult struct {
	Accepted bool   `json:"accepted"`
	Message  string `json:"message,omitempty"`
}

// Display-name review decisions of a NameUpdateInput, as Meta writes them.
const (
	NameDecisionApproved = "APPROVED"
	NameDecisionRejected = "REJECTED"
	NameDecisionDeferred = "DEFERRED"
	NameDecisionPending  = "PENDING"
)

// NameUpdateInput carries Meta's phone_number_name_update webhook to the
// number's run. It is a hint, not the truth: the run re-reads the number
// before acting, so a stale or replayed event cannot make it register early.
// Meta delivers webhooks more than once and out of order; a run ignores an
// event older than the last one it took.
type NameUpdateInput struct {
	// Decision is one of the NameDecision constants.
	Decision      string `json:"decision"`
	RequestedName string `json:"requested_name,omitempty"` // requested_verified_name
	Reason        string `json:"reason,omitempty"`         // rejection_reason, e.g. NAME_FORMAT_UNACCEPTABLE
	// EventTime is when Meta sent the event (the entry's time).
	EventTime time.Time `json:"event_time"`
	// EventID names the event, the same for every delivery of it.
	EventID string `json:"event_id,omitempty"`
}

// WABA states of a WABAUpdateInput and of the WhatsAppWABAState search
// attribute.
const (
	WABAStateUsable   = "usable"
	WABAStateUnusable = "unusable"
)

// WABAUpdateInput carries Meta's account_update webhook to every run of the
// WABA when the event ends the WABA's usability (deleted, disabled, unshared,
// offboarded) or restores it. Older events than the last one taken are
// ignored, as for NameUpdateInput.
type WABAUpdateInput struct {
	// Event is Meta's account_update event, e.g. ACCOUNT_DELETED.
	Event string `json:"event"`
	// BanState is ban_info.waba_ban_state of a DISABLED_UPDATE.
	BanState string `json:"ban_state,omitempty"`
	// State is WABAStateUnusable or WABAStateUsable.
	State     string    `json:"state"`
	EventTime time.Time `json:"event_time"`
	EventID   string    `json:"event_id,omitempty"`
}

// ResendInput asks for a new code, optionally by another method.
type ResendInput struct {
	Method   CodeMethod `json:"method,omitempty"`
	Language string     `json:"language,omitempty"`
}

// Validate applies the start input's rules to the fields a resend
// overrides; empty fields keep the run's values.
func (in ResendInput) Validate() error {
	var errs []error
	if in.Method != "" {
		errs = append(errs, validate.CodeMethod("method", string(in.Method)))
	}
	if in.Language != "" {
		errs = append(errs, validate.Language("language", in.Language))
	}
	return errors.Join(errs...)
}

// ChangeRegionInput names the new data localization region; "" turns local
// storage off.
type ChangeRegionInput struct {
	Region string `json:"region"`
}

// FixInput resumes a run in needs-attention. Empty fields keep their value;
// an empty FixInput retries as is (for a fixed token or permission).
type FixInput struct {
	PIN         string `json:"pin,omitempty"`
	Region      string `json:"region,omitempty"`
	ClearRegion bool   `json:"clear_region,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	// Readd adds the number to its WABA again, under a new phone-number
	// ID, when Meta no longer knows the run's ID (Graph error 100/33);
	// ownership is then proven again before the number is registered.
	Readd bool `json:"readd,omitempty"`
}

// Validate names the first bad field of a fix.
func (f FixInput) Validate() error {
	var errs []error
	if f.PIN != "" {
		errs = append(errs, validPIN("pin", f.PIN))
	}
	errs = append(errs, validate.Region("region", f.Region))
	if f.ClearRegion && f.Region != "" {
		errs = append(errs, &validate.Error{Field: "region", Rule: "must be empty when clear_region is set"})
	}
	if f.DisplayName != "" {
		errs = append(errs, validate.DisplayName("display_name", f.DisplayName))
	}
	return errors.Join(errs...)
}

// OperationResult is the outcome of a change-region, reregister or
// deregister update.
type OperationResult struct {
	Stage  Stage  `json:"stage"`
	Region string `json:"region,omitempty"`
}

// GraphError is the last error Meta answered, as shown in Status.
type GraphError struct {
	Op        string    `json:"op"`
	Class     string    `json:"class"`
	Code      int       `json:"code,omitempty"`
	Subcode   int       `json:"subcode,omitempty"`
	Message   string    `json:"message"`
	Details   string    `json:"details,omitempty"`
	FBTraceID string    `json:"fbtrace_id,omitempty"`
	At        time.Time `json:"at"`
	// OutcomeUnknown is true when Meta may have carried the call out
	// although its answer was lost (connection cut, timeout, proxy page).
	OutcomeUnknown bool `json:"outcome_unknown,omitempty"`
	// RetryAfterSeconds is the wait Meta asked for (Retry-After, or
	// estimated_time_to_regain_access in X-Business-Use-Case-Usage).
	RetryAfterSeconds int64 `json:"retry_after_seconds,omitempty"`
	// NextAttemptAt is when the run calls again, as Meta's wait asks.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// ResolvedAt is set once a later call of the same Op succeeded: the
	// error is history, not the run's present.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Status is the answer to QueryStatus.
type Status struct {
	WorkflowID    string `json:"workflow_id"`
	Number        string `json:"number"` // E.164
	WABAID        string `json:"waba_id"`
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	Stage         Stage  `json:"stage"`
	// Detail says, in a sentence, what the run is doing or waiting for.
	Detail     string `json:"detail,omitempty"`
	Region     string `json:"region,omitempty"`
	Registered bool   `json:"registered"`

	CodeMethod      CodeMethod `json:"code_method,omitempty"`
	CodeRequestedAt time.Time  `json:"code_requested_at,omitzero"`
	// CodeWaitExpired is true once no code came within CodeWait: the run is
	// parked, still awaiting a code or a resend.
	CodeWaitExpired bool `json:"code_wait_expired,omitempty"`

	RegisterCallsInWindow   int       `json:"register_calls_in_window"`
	DeregisterCallsInWindow int       `json:"deregister_calls_in_window"`
	WindowLimit             int       `json:"window_limit"`
	NextRegisterAllowedAt   time.Time `json:"next_register_allowed_at,omitzero"`
	NextDeregisterAllowedAt time.Time `json:"next_deregister_allowed_at,omitzero"`

	// SleepingUntil and SleepReason describe the current durable sleep.
	SleepingUntil time.Time `json:"sleeping_until,omitzero"`
	SleepReason   string    `json:"sleep_reason,omitempty"`

	LastError *GraphError `json:"last_error,omitempty"`

	// PlaintextSecretsRefused counts ownership codes that arrived by signal
	// unsealed: each was dropped unused, and is exposed in the run's
	// history.
	PlaintextSecretsRefused int `json:"plaintext_secrets_refused,omitempty"`
	// PlaintextNote says, once a code was refused, how to send it sealed.
	PlaintextNote string `json:"plaintext_note,omitempty"`

	// WABAState is WABAStateUnusable while Meta's account_update webhooks
	// say the WABA cannot be used (WABAEvent names the event, with its ban
	// state), WABAStateUsable after a reinstatement, "" before any.
	WABAState string `json:"waba_state,omitempty"`
	WABAEvent string `json:"waba_event,omitempty"`
	// LastNameUpdate is the last display-name review Meta announced.
	LastNameUpdate *NameUpdateInput `json:"last_name_update,omitempty"`
	// ReregisterDue is a display name Meta approved for the registered
	// number that shows only after a reregister.
	ReregisterDue string `json:"reregister_due,omitempty"`

	PendingOperations int       `json:"pending_operations,omitempty"`
	StartedAt         time.Time `json:"started_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	RegisteredAt      time.Time `json:"registered_at,omitzero"`
}
