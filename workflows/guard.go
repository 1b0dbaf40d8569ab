package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// changeOwnerAndSealed: a run answers status even when refused; it refuses,
// before any Graph call, a start under another workflow id than its
// number's, a fresh start with resume set, and a PIN or backup password
// that arrived unsealed; it refuses unsealed codes and fix PINs. Runs that
// continue as new from older runs keep what those accepted.
const changeOwnerAndSealed = "owner-check-and-sealed-secrets"

// sendSealedHelp says how a secret reaches the worker sealed; it ends every
// refusal of an unsealed secret.
const sendSealedHelp = "send it sealed: with the starter, with onboarding.Client given the workers' " +
	"public seal keys (WithSealer), through the HTTP API (gateway), which seals server-side, or " +
	"with the temporal CLI through --codec-endpoint of the codec server, which seals pin, code " +
	"and backup.password"

// unsealedText is the refusal of an unsealed secret named by field. It
// never holds the value.
func unsealedText(field string) string {
	return field + ": arrived unsealed, so it is already exposed in this run's history " +
		"(anyone who can read the history through the codec server can read it) and was not used; " +
		sendSealedHelp
}

// errUnsealed is the validator error of an update that carried a secret in
// clear.
type errUnsealed struct{ field string }

func (e *errUnsealed) Error() string { return unsealedText(e.field) }

// checkSecret refuses value for field when the run takes the change and
// value is not sealed. Empty values (a field left unchanged) pass.
func (r *run) checkSecret(field, value string) error {
	if !r.sealedOnly || value == "" || seal.IsSealed(value) {
		return nil
	}
	return &errUnsealed{field: field}
}

// checkStart refuses a start the workflow will not act on. info is the
// run's; in is normalized and valid.
func (r *run) checkStart(info *workflow.Info, in onboarding.OnboardInput) error {
	want := onboarding.WorkflowID(in.CountryCode, in.PhoneNumber)
	continued := info.ContinuedExecutionRunID != ""
	if in.Resume != nil && !continued {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"resume: is set only by the workflow itself when it continues as new; start %s without it, under workflow id %q",
			in.E164(), want), onboarding.ErrorTypeWrongWorkflowID, nil)
	}
	if continued {
		// A run that continued as new from a run started before this
		// check kept that run's id and input: refusing it now would leave
		// its number without the owner it has had since.
		if r.id != want {
			r.logger.Warn("serving a number under a workflow id that is not its own (started before the id was enforced)",
				"workflow_id", r.id, "want", want)
		}
		return nil
	}
	if r.id != want {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"workflow id %q is not the id of %s: every number has one owner, the workflow with id %q; "+
				"start it with --workflow-id %q (onboarding.WorkflowID). Nothing was sent to Meta",
			r.id, in.E164(), want, want), onboarding.ErrorTypeWrongWorkflowID, nil)
	}
	var errs []error
	if err := r.checkSecret("pin", in.PIN); err != nil {
		errs = append(errs, err)
	}
	if in.Backup != nil {
		if err := r.checkSecret("backup.password", in.Backup.Password); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return temporal.NewNonRetryableApplicationError(errors.Join(errs...).Error()+". Nothing was sent to Meta",
			onboarding.ErrorTypeUnsealedSecret, nil)
	}
	return nil
}

// refuse ends a run at its start with err, stage refused. Runs that do not
// take the change issue no command here, as before it.
func (r *run) refuse(ctx workflow.Context, err error) (onboarding.Status, error) {
	msg := err.Error()
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		msg = appErr.Message()
	}
	if r.sealedOnly {
		r.setStage(ctx, onboarding.StageRefused, msg)
		r.rest(ctx)
	} else {
		r.stage, r.detail = onboarding.StageRefused, msg
	}
	r.logger.Warn("run refused at its start", "error_type", errorType(err))
	return r.status(ctx), err
}

func errorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

// acceptCodeSignal reports whether a code signal's value is one the run
// acts on, logging (never the value) and counting what it drops.
func (r *run) acceptCodeSignal(code string) (string, bool) {
	if seal.IsSealed(code) {
		// Only an activity can open it; the digits are checked there.
		if !r.awaitingCode {
			r.logger.Warn("ignored a code signal: no code is awaited", "stage", string(r.stage))
			return "", false
		}
		return code, true
	}
	if r.sealedOnly {
		r.plaintextRefused++
		r.logger.Warn("dropped a code signal: the code arrived unsealed; it was not used and is exposed in the run's history",
			"refused_so_far", r.plaintextRefused)
		return "", false
	}
	code = validate.NormalizeCode(code)
	switch {
	case validate.Code("code", code) != nil:
		r.logger.Warn("ignored a malformed code signal (must be 6 digits)")
	case !r.awaitingCode:
		r.logger.Warn("ignored a code signal: no code is awaited", "stage", string(r.stage))
	default:
		return code, true
	}
	return "", false
}

// checkCodeUpdate is the validator of submit-code's code.
func (r *run) checkCodeUpdate(code string) error {
	if !seal.IsSealed(code) {
		if err := r.checkSecret("code", code); err != nil {
			return err
		}
		if err := validate.Code("code", validate.NormalizeCode(code)); err != nil {
			return err
		}
	}
	if !r.awaitingCode {
		return errors.New("code: no ownership code is awaited (stage " + string(r.stage) + ")")
	}
	return nil
}

// codeOf is the code a run acts on: a sealed code as it came (the activity
// opens it), a code in clear without the separators people type.
func codeOf(code string) string {
	if seal.IsSealed(code) {
		return code
	}
	return validate.NormalizeCode(code)
}

// plaintextNote is the status note of dropped code signals.
func (r *run) plaintextNote() string {
	if r.plaintextRefused == 0 {
		return ""
	}
	return fmt.Sprintf("%d ownership code(s) sent by signal arrived unsealed and were dropped: %s",
		r.plaintextRefused, unsealedText("code"))
}
