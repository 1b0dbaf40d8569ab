// Package onboarding is the contract between the worker, the starter and any
// service that onboards WhatsApp Business numbers: the names of the workflow,
// its signals, updates, query, task queue and search attributes, the types
// they carry, and a Client that drives them.
package onboarding

import (
	"strings"

	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the task queue the worker polls and the client starts on.
const TaskQueue = "whatsapp-onboarding"

// WorkflowType is the registered name of the per-number workflow.
const WorkflowType = "WhatsAppNumber"

// WorkflowIDPrefix starts every workflow id; the rest is the number in E.164.
const WorkflowIDPrefix = "whatsapp-number-"

// Signals.
const (
	// SignalVerificationCode delivers an ownership code (CodeInput).
	SignalVerificationCode = "verification-code"
	// SignalResendCode asks Meta for a new code (ResendInput).
	SignalResendCode = "resend-code"
	// SignalSkipWait cuts the current durable sleep short (no input).
	SignalSkipWait = "skip-wait"
	// SignalNameUpdate passes on Meta's phone_number_name_update webhook: the
	// review decision on the number's display name (NameUpdateInput).
	SignalNameUpdate = "name-update"
	// SignalWABAUpdate passes on Meta's account_update webhook when it makes
	// the number's WABA unusable or usable again (WABAUpdateInput).
	SignalWABAUpdate = "waba-update"
)

// Updates.
const (
	// UpdateSubmitCode delivers an ownership code (CodeInput), refuses a
	// malformed one before it is accepted, and returns whether Meta accepted
	// it (CodeResult).
	UpdateSubmitCode = "submit-code"
	// UpdateChangeRegion deregisters and registers again with a new data
	// localization region, or none (ChangeRegionInput → OperationResult).
	UpdateChangeRegion = "change-region"
	// UpdateReregister registers again to apply an approved display-name
	// change (no input → OperationResult).
	UpdateReregister = "reregister"
	// UpdateDeregister takes the number off the Cloud API (no input →
	// OperationResult).
	UpdateDeregister = "deregister"
	// UpdateFixInput resumes a run in needs-attention, with corrected input
	// where the problem was the input (FixInput → Status).
	UpdateFixInput = "fix-input"
)

// QueryStatus returns the run's Status.
const QueryStatus = "status"

// Application-error types of a run the workflow refuses at its start (stage
// StageRefused). The error's message says what to do instead.
const (
	// ErrorTypeInvalidInput: a field breaks its rule; the message names
	// the field and the rule.
	ErrorTypeInvalidInput = "invalid_input"
	// ErrorTypeWrongWorkflowID: the run was started under another id than
	// WorkflowID of its number, or with resume set (only the workflow
	// sets it, when it continues as new).
	ErrorTypeWrongWorkflowID = "wrong_workflow_id"
	// ErrorTypeUnsealedSecret: a PIN or backup password arrived unsealed.
	// It was not used; it is exposed in the run's history.
	ErrorTypeUnsealedSecret = "unsealed_secret"
)

// Search attributes, registered on the namespace (make run does it), so
// operators filter runs in Temporal UI. They are not encrypted: they never
// hold a secret.
var (
	SearchAttributeStage         = temporal.NewSearchAttributeKeyKeyword("WhatsAppStage")
	SearchAttributeWABAID        = temporal.NewSearchAttributeKeyKeyword("WhatsAppWABAID")
	SearchAttributePhoneNumberID = temporal.NewSearchAttributeKeyKeyword("WhatsAppPhoneNumberID")
	// SearchAttributeWABAState is WABAStateUnusable while an account_update
	// webhook says the number's WABA cannot be used, WABAStateUsable after a
	// reinstatement, and unset before any such event.
	SearchAttributeWABAState = temporal.NewSearchAttributeKeyKeyword("WhatsAppWABAState")
)

// WorkflowID names the workflow that owns a number, so that every start for
// the same number lands on the same run: "whatsapp-number-+" followed by the
// country code and the national number, digits only
// ("whatsapp-number-+15551234567" for country_code "1" and phone_number
// "5551234567").
//
// Every caller, in any language, must start the workflow under this id.
// Temporal allows one running execution per workflow id, so this id makes a
// second owner of a number impossible; the workflow enforces it: a run
// started under any other id makes no Graph API call and fails at once with
// an application error of type ErrorTypeWrongWorkflowID whose message names
// the id to use, and its status query answers stage "refused".
func WorkflowID(countryCode, nationalNumber string) string {
	return WorkflowIDPrefix + "+" + countryCode + nationalNumber
}

// WorkflowIDForE164 names the workflow that owns a number written in E.164
// ("+15551234567"); the leading '+' is optional.
func WorkflowIDForE164(e164 string) string {
	return WorkflowIDPrefix + "+" + strings.TrimPrefix(strings.TrimSpace(e164), "+")
}
