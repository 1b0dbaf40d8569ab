// Package activities holds the Temporal activities of an onboarding: one per
// Graph API call, on a struct that holds the Graph client.
//
// Failed calls come back as Temporal application errors whose type is the
// graph.Class name ("window_exhausted", "transient", ...) and whose details are
// an onboarding.GraphError, so the workflow decides on types, never on message
// text. A transient failure after which Meta may have carried the call out
// (its answer was lost) is typed ErrOutcomeUnknown instead, its details still
// saying class transient, so that a retry policy can refuse to repeat it.
// Transient and throttled failures are retryable; every other class is not,
// because retrying them cannot succeed or, for register and deregister,
// spends Meta's 10-per-72-hours budget. The workflow's retry policies narrow
// this further, per call (workflows/calls.go).
//
// Expected answers (a wrong code, a throttle, a display name still in review)
// are benign application errors: the SDK logs them at debug, not as "Activity
// error." at ERROR.
package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// Activities calls the Graph API on behalf of the workflows.
type Activities struct {
	graph  *graph.Client
	opener *seal.Opener
}

// New returns the activities backed by g. opener opens the sealed PINs,
// codes and backup passwords (see package seal); nil only on a worker that
// runs without seal keys (dev), which can then only serve secrets in clear.
func New(g *graph.Client, opener *seal.Opener) *Activities {
	return &Activities{graph: g, opener: opener}
}

// AddNumberInput is the input of AddPhoneNumber.
type AddNumberInput struct {
	WABAID        string `json:"waba_id"`
	CountryCode   string `json:"country_code"`
	PhoneNumber   string `json:"phone_number"`
	DisplayName   string `json:"display_name"`
	Migrate       bool   `json:"migrate,omitempty"`
	PreverifiedID string `json:"preverified_id,omitempty"`
}

// AddNumberResult is the number's id, and whether it was already on the WABA.
type AddNumberResult struct {
	PhoneNumberID string `json:"phone_number_id"`
	Adopted       bool   `json:"adopted,omitempty"`
}

// NumberState is what the workflow needs to know of a number.
type NumberState struct {
	CodeVerificationStatus string `json:"code_verification_status,omitempty"`
	NameStatus             string `json:"name_status,omitempty"`
	Status                 string `json:"status,omitempty"`
	PlatformType           string `json:"platform_type,omitempty"`
	VerifiedName           string `json:"verified_name,omitempty"`
}

// RequestCodeInput is the input of RequestCode.
type RequestCodeInput struct {
	PhoneNumberID string `json:"phone_number_id"`
	Method        string `json:"method"`
	Language      string `json:"language"`
}

// VerifyCodeInput is the input of VerifyCode. Code is encrypted in history by
// the payload codec.
type VerifyCodeInput struct {
	PhoneNumberID string `json:"phone_number_id"`
	Code          string `json:"code"`
	// ReadAfter asks for a read of the number once Meta accepted the code:
	// the workflow's display-name gate before register takes it instead
	// of scheduling a read of its own.
	ReadAfter bool `json:"read_after,omitempty"`
}

// RegisterInput is the input of Register. PIN and the backup's password are
// encrypted in history by the payload codec.
type RegisterInput struct {
	PhoneNumberID string `json:"phone_number_id"`
	PIN           string `json:"pin"`
	Region        string `json:"region,omitempty"`
	// Backup is sent only by a number migrating from the On-Premises API.
	Backup *onboarding.Backup `json:"backup,omitempty"`
}

// AddPhoneNumber adds the number to the WABA. A number that is already there
// is adopted: its id is looked up and returned, because an onboarding that
// resumes after a lost answer must not fail on its own earlier success.
func (a *Activities) AddPhoneNumber(ctx context.Context, in AddNumberInput) (AddNumberResult, error) {
	id, err := a.graph.AddPhoneNumber(ctx, graph.AddPhoneNumberRequest{
		WABAID:             in.WABAID,
		CC:                 in.CountryCode,
		PhoneNumber:        in.PhoneNumber,
		VerifiedName:       in.DisplayName,
		MigratePhoneNumber: in.Migrate,
		PreverifiedID:      in.PreverifiedID,
	})
	if err == nil {
		return AddNumberResult{PhoneNumberID: id}, nil
	}
	if !graph.IsAlreadyExists(err) {
		return AddNumberResult{}, asApplicationError("add_phone_number", err)
	}
	// The search pages through the WABA's numbers; each page's cursor is
	// heartbeated, so a retry after a failed page resumes there.
	var after string
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &after)
	}
	activity.RecordHeartbeat(ctx, after)
	pn, ferr := a.graph.FindPhoneNumberFrom(ctx, in.WABAID, in.CountryCode, in.PhoneNumber, graph.FindOptions{
		After:    after,
		Progress: func(after string) { activity.RecordHeartbeat(ctx, after) },
	})
	if ferr != nil {
		return AddNumberResult{}, asApplicationError("list_phone_numbers", ferr)
	}
	if pn == nil {
		// Meta says the number exists but not on this WABA: only a person
		// (or a migrate) can settle that.
		return AddNumberResult{}, asApplicationError("add_phone_number", err)
	}
	activity.GetLogger(ctx).Info("number already on the WABA; adopted", "phone_number_id", pn.ID)
	return AddNumberResult{PhoneNumberID: pn.ID, Adopted: true}, nil
}

// GetPhoneNumber reads the number's verification and display-name status.
func (a *Activities) GetPhoneNumber(ctx context.Context, phoneNumberID string) (NumberState, error) {
	pn, err := a.graph.GetPhoneNumber(ctx, phoneNumberID,
		"id", "verified_name", "code_verification_status", "name_status", "status", "platform_type")
	if err != nil {
		return NumberState{}, asApplicationError("get_phone_number", err)
	}
	return NumberState{
		CodeVerificationStatus: pn.CodeVerificationStatus,
		NameStatus:             pn.NameStatus,
		Status:                 pn.Status,
		PlatformType:           pn.PlatformType,
		VerifiedName:           pn.VerifiedName,
	}, nil
}

// RegistrationState is what Meta shows of a number's registration: enough to
// tell, after a register or deregister whose answer was lost, whether Meta
// carried it out.
type RegistrationState struct {
	Status       string `json:"status,omitempty"`
	PlatformType string `json:"platform_type,omitempty"`
	// Region is storage_configuration's data_localization_region from the
	// number's settings, "" when local storage is off.
	Region string `json:"region,omitempty"`
}

// GetRegistration reads the number's status, platform type and data
// localization region.
func (a *Activities) GetRegistration(ctx context.Context, phoneNumberID string) (RegistrationState, error) {
	pn, err := a.graph.GetPhoneNumber(ctx, phoneNumberID, "id", "status", "platform_type")
	if err != nil {
		return RegistrationState{}, asApplicationError("get_phone_number", err)
	}
	settings, err := a.graph.GetSettings(ctx, phoneNumberID)
	if err != nil {
		return RegistrationState{}, asApplicationError(graph.OpGetSettings, err)
	}
	return RegistrationState{Status: pn.Status, PlatformType: pn.PlatformType, Region: settings.Region()}, nil
}

// RequestCode asks Meta to send an ownership code.
func (a *Activities) RequestCode(ctx context.Context, in RequestCodeInput) error {
	err := a.graph.RequestCode(ctx, in.PhoneNumberID, graph.CodeMethod(in.Method), in.Language)
	return asApplicationError("request_code", err)
}

// VerifyCode checks an ownership code with Meta, opening it first when it
// is sealed. With ReadAfter, a code Meta accepted is followed by a read of
// the number (GetPhoneNumber's), returned. A read that fails does not fail
// the activity, whose retry would only meet 136025: the state comes back
// empty and the workflow reads on its own.
func (a *Activities) VerifyCode(ctx context.Context, in VerifyCodeInput) (NumberState, error) {
	code, err := a.open(graph.OpVerifyCode, "code", seal.PurposeOwnershipCode, in.Code)
	if err != nil {
		return NumberState{}, err
	}
	code = validate.NormalizeCode(code)
	if err := validate.Code("code", code); err != nil {
		return NumberState{}, refused(graph.OpVerifyCode, err)
	}
	if err := a.graph.VerifyCode(ctx, in.PhoneNumberID, code); err != nil {
		return NumberState{}, asApplicationError("verify_code", err)
	}
	if !in.ReadAfter {
		return NumberState{}, nil
	}
	st, err := a.GetPhoneNumber(ctx, in.PhoneNumberID)
	if err != nil {
		activity.GetLogger(ctx).Warn("reading the number after verify_code failed; the workflow reads it", "error", err)
		return NumberState{}, nil
	}
	return st, nil
}

// Register registers the number for the Cloud API, opening the PIN and the
// backup password first when they are sealed. The workflow schedules it
// with a single attempt: every call counts against Meta's window.
func (a *Activities) Register(ctx context.Context, in RegisterInput) error {
	pin, err := a.open(graph.OpRegister, "pin", seal.PurposePIN, in.PIN)
	if err != nil {
		return err
	}
	if err := validate.PIN("pin", pin); err != nil {
		return refused(graph.OpRegister, err)
	}
	req := graph.RegisterRequest{PIN: pin, DataLocalizationRegion: in.Region}
	if b := in.Backup; b != nil {
		password, err := a.open(graph.OpRegister, "backup.password", seal.PurposeBackupPassword, b.Password)
		if err != nil {
			return err
		}
		if password == "" {
			return refused(graph.OpRegister, &validate.Error{Field: "backup.password", Rule: "is required with a backup"})
		}
		req.Backup = &graph.Backup{Data: b.Data, Password: password}
	}
	return asApplicationError("register", a.graph.Register(ctx, in.PhoneNumberID, req))
}

// open returns the secret in value, the field named field of op's input.
// A value in clear, which only runs started before secrets were sealed can
// pass, is returned as it is.
//
// A value sealed to a key this worker does not hold fails as a transient
// error that never reached Meta: another worker, or this one once given
// the key, can open it. A value that does not open (modified, sealed for
// another field, or malformed) fails as invalid input, not retryable.
// Errors name the field, never the value.
func (a *Activities) open(op, field, purpose, value string) (string, error) {
	if !strings.HasPrefix(value, seal.Prefix) {
		return value, nil
	}
	if a.opener == nil {
		return "", unopened(op, fmt.Errorf("%s: sealed, and this worker holds no seal keys (%s)", field, seal.EnvPrivateKeys))
	}
	secret, err := a.opener.Open(purpose, value)
	switch {
	case err == nil:
		return secret, nil
	case errors.Is(err, seal.ErrUnknownKeyID):
		return "", unopened(op, fmt.Errorf("%s: %w", field, err))
	default:
		return "", refused(op, fmt.Errorf("%s: %w", field, err))
	}
}

// unopened is the retryable failure of a secret this worker cannot open
// yet. Typed transient without a Graph code, it tells the workflow that the
// call never reached Meta.
func unopened(op string, err error) error {
	class := graph.ClassTransient.String()
	return temporal.NewApplicationErrorWithOptions(err.Error(), class, temporal.ApplicationErrorOptions{
		Details: []any{onboarding.GraphError{Op: op, Class: class, Message: err.Error()}},
	})
}

// refused is the non-retryable failure of input that breaks a rule before
// any call to Meta.
func refused(op string, err error) error {
	return temporal.NewApplicationErrorWithOptions(err.Error(), ErrInvalidInput, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{onboarding.GraphError{Op: op, Class: ErrInvalidInput, Message: err.Error()}},
	})
}

// Deregister takes the number off the Cloud API. Single attempt, like Register.
func (a *Activities) Deregister(ctx context.Context, phoneNumberID string) error {
	return asApplicationError("deregister", a.graph.Deregister(ctx, phoneNumberID))
}

// asApplicationError turns a Graph failure into an application error typed by
// its class (ErrOutcomeUnknown for a transient failure Meta may have acted
// on). Errors that are not Graph errors (bad input caught by the client
// before any I/O) are not retryable either: they would fail the same way
// every time.
func asApplicationError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrInvalidInput,
			temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	class := ge.Class()
	unknown := ge.OutcomeUnknown()
	details := onboarding.GraphError{
		Op:             op,
		Class:          class.String(),
		Code:           ge.Code,
		Subcode:        ge.Subcode,
		Message:        ge.Message,
		Details:        ge.Details,
		FBTraceID:      ge.FBTraceID,
		OutcomeUnknown: unknown,
	}
	if ge.RetryAfter > 0 {
		details.RetryAfterSeconds = int64((ge.RetryAfter + time.Second - 1) / time.Second)
	}
	opts := temporal.ApplicationErrorOptions{
		NonRetryable: class != graph.ClassTransient && class != graph.ClassThrottled,
		Details:      []any{details},
	}
	if class == graph.ClassThrottled && ge.RetryAfter > 0 {
		opts.NextRetryDelay = ge.RetryAfter
	}
	switch class {
	case graph.ClassWrongCode, graph.ClassThrottled, graph.ClassNameNotReady:
		opts.Category = temporal.ApplicationErrorCategoryBenign
	}
	typ := class.String()
	if unknown && class == graph.ClassTransient {
		typ = ErrOutcomeUnknown
	}
	return temporal.NewApplicationErrorWithOptions(ge.Error(), typ, opts)
}

// ErrInvalidInput is the application-error type of input the Graph client
// refused before calling Meta.
const ErrInvalidInput = onboarding.ErrorTypeInvalidInput

// ErrOutcomeUnknown is the application-error type of a transient failure
// after which Meta may have carried the call out. Its GraphError says class
// transient and OutcomeUnknown.
const ErrOutcomeUnknown = "outcome_unknown"
