package workflows

import (
	"errors"

	"go.temporal.io/sdk/workflow"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// registerStatusQuery wires the status query. Number calls it before
// anything can end the run, so that a refused run answers it too.
func (r *run) registerStatusQuery(ctx workflow.Context) error {
	return workflow.SetQueryHandlerWithOptions(ctx, onboarding.QueryStatus, func() (onboarding.Status, error) {
		return r.status(ctx), nil
	}, workflow.QueryHandlerOptions{Description: "Where the onboarding stands, the ledger and the last Graph error"})
}

// registerHandlers wires the signals and updates. Handlers never call
// the Graph API themselves: they fill the run's inboxes and, for updates,
// wait for the main coroutine's answer.
func (r *run) registerHandlers(ctx workflow.Context) error {
	codeCh := workflow.GetSignalChannel(ctx, onboarding.SignalVerificationCode)
	resendCh := workflow.GetSignalChannel(ctx, onboarding.SignalResendCode)
	skipCh := workflow.GetSignalChannel(ctx, onboarding.SignalSkipWait)
	nameCh := workflow.GetSignalChannel(ctx, onboarding.SignalNameUpdate)
	wabaCh := workflow.GetSignalChannel(ctx, onboarding.SignalWABAUpdate)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(codeCh, func(c workflow.ReceiveChannel, _ bool) {
				var in onboarding.CodeInput
				c.Receive(ctx, &in)
				if code, ok := r.acceptCodeSignal(in.Code); ok {
					r.codes = append(r.codes, pendingCode{code: code})
				}
			})
			sel.AddReceive(resendCh, func(c workflow.ReceiveChannel, _ bool) {
				var in onboarding.ResendInput
				c.Receive(ctx, &in)
				if err := in.Validate(); err != nil || !r.awaitingCode {
					r.logger.Warn("ignored a resend-code signal", "stage", string(r.stage), "error", err)
					return
				}
				r.resend = &in
			})
			sel.AddReceive(skipCh, func(c workflow.ReceiveChannel, _ bool) {
				c.Receive(ctx, nil)
				r.skip = !r.sleepUntil.IsZero()
			})
			sel.AddReceive(nameCh, func(c workflow.ReceiveChannel, _ bool) {
				var in onboarding.NameUpdateInput
				c.Receive(ctx, &in)
				r.onNameUpdate(ctx, in)
			})
			sel.AddReceive(wabaCh, func(c workflow.ReceiveChannel, _ bool) {
				var in onboarding.WABAUpdateInput
				c.Receive(ctx, &in)
				r.onWABAUpdate(ctx, in)
			})
			sel.Select(ctx)
		}
	})

	if err := workflow.SetUpdateHandlerWithOptions(ctx, onboarding.UpdateSubmitCode,
		func(ctx workflow.Context, in onboarding.CodeInput) (onboarding.CodeResult, error) {
			r.nextCodeID++
			id := r.nextCodeID
			r.codes = append(r.codes, pendingCode{id: id, code: codeOf(in.Code)})
			if err := workflow.Await(ctx, func() bool { _, ok := r.codeResults[id]; return ok }); err != nil {
				return onboarding.CodeResult{}, err
			}
			res := r.codeResults[id]
			delete(r.codeResults, id)
			return res, nil
		}, workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, in onboarding.CodeInput) error {
				return r.checkCodeUpdate(in.Code)
			},
			Description: "Submit the ownership code; answers whether Meta accepted it",
		}); err != nil {
		return err
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, onboarding.UpdateChangeRegion,
		func(ctx workflow.Context, in onboarding.ChangeRegionInput) (onboarding.OperationResult, error) {
			return r.enqueue(ctx, opChangeRegion, in.Region)
		}, workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, in onboarding.ChangeRegionInput) error {
				return r.checkOperation(opChangeRegion, in.Region)
			},
			Description: operationHelp[opChangeRegion],
		}); err != nil {
		return err
	}
	for _, kind := range []operationKind{opReregister, opDeregister} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, string(kind),
			func(ctx workflow.Context) (onboarding.OperationResult, error) {
				return r.enqueue(ctx, kind, "")
			}, workflow.UpdateHandlerOptions{
				Validator:   func(ctx workflow.Context) error { return r.checkOperation(kind, "") },
				Description: operationHelp[kind],
			}); err != nil {
			return err
		}
	}

	return workflow.SetUpdateHandlerWithOptions(ctx, onboarding.UpdateFixInput,
		func(ctx workflow.Context, in onboarding.FixInput) (onboarding.Status, error) {
			r.fix = &in
			if err := workflow.Await(ctx, func() bool { return r.fix == nil }); err != nil {
				return onboarding.Status{}, err
			}
			return r.status(ctx), nil
		}, workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, in onboarding.FixInput) error {
				if !r.awaitingFix || r.fix != nil {
					return errors.New("the run does not need attention (stage " + string(r.stage) + ")")
				}
				if err := r.checkSecret("pin", in.PIN); err != nil {
					return err
				}
				if in.Readd && !r.numberUnknown {
					return errors.New("readd: only a run whose phone-number ID Meta no longer knows (100/33) adds its number again")
				}
				return in.Validate()
			},
			Description: "Resume a run in needs-attention, with a corrected PIN, region or display name",
		})
}

// enqueue hands an operation to the main coroutine and waits for its end,
// which may be days away when the ledger makes it wait.
func (r *run) enqueue(ctx workflow.Context, kind operationKind, region string) (onboarding.OperationResult, error) {
	o := &operation{kind: kind, region: region}
	r.ops = append(r.ops, o)
	if err := workflow.Await(ctx, func() bool { return o.done }); err != nil {
		return onboarding.OperationResult{}, err
	}
	return o.result, nil
}

var operationHelp = map[operationKind]string{
	opChangeRegion: "Deregister, then register with a new data localization region (empty: none)",
	opReregister:   "Register again to apply an approved display-name change",
	opDeregister:   "Deregister the number from the Cloud API",
}
