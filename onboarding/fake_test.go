package onboarding_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// fakeTemporal answers updates and signals with the errors it is given.
type fakeTemporal struct {
	client.Client
	updateErr error // from UpdateWorkflow (the accepted stage)
	getErr    error // from the update handle's Get (the result)
	signalErr error
	status    *onboarding.Status // answer to the status query
}

func (f fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if f.status == nil {
		return nil, errors.New("test: no status")
	}
	return statusValue{*f.status}, nil
}

type statusValue struct{ st onboarding.Status }

func (statusValue) HasValue() bool { return true }
func (v statusValue) Get(p any) error {
	*(p.(*onboarding.Status)) = v.st
	return nil
}

func (f fakeTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return fakeHandle{f.getErr}, nil
}

func (f fakeTemporal) SignalWorkflow(context.Context, string, string, string, any) error {
	return f.signalErr
}

type fakeHandle struct{ err error }

func (fakeHandle) WorkflowID() string               { return "w" }
func (fakeHandle) RunID() string                    { return "r" }
func (fakeHandle) UpdateID() string                 { return "u" }
func (h fakeHandle) Get(context.Context, any) error { return h.err }

// fromWorkflow is err as a client receives it from a workflow: through the
// failure converter, which is how "(type: wrapError, retryable: true)" and
// the repeated message arise.
func fromWorkflow(err error) error {
	fc := temporal.GetDefaultFailureConverter()
	return fc.FailureToError(fc.ErrorToFailure(err))
}

const addr = "127.0.0.1:7233"

func fakeClient(f fakeTemporal) *onboarding.Client {
	return onboarding.NewClient(f, onboarding.WithAddress(addr))
}

func TestErrorsAreReadable(t *testing.T) {
	for name, tc := range map[string]struct {
		f    fakeTemporal
		want string
	}{
		"workflow error wrapping another": {
			fakeTemporal{updateErr: fromWorkflow(fmt.Errorf("the run does not need attention: %w", errors.New("stage registered")))},
			"fix-input whatsapp-number-+15551234567: the run does not need attention: stage registered",
		},
		"plain workflow error": {
			fakeTemporal{updateErr: fromWorkflow(errors.New("the run does not need attention (stage registered)"))},
			"fix-input whatsapp-number-+15551234567: the run does not need attention (stage registered)",
		},
		"typed application error": {
			fakeTemporal{getErr: fromWorkflow(temporal.NewNonRetryableApplicationError("PIN mismatch", "pin_mismatch", errors.New("PIN mismatch")))},
			"fix-input whatsapp-number-+15551234567: PIN mismatch",
		},
		"connection refused": {
			fakeTemporal{updateErr: serviceerror.NewUnavailable(`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:7233: connect: connection refused"`)},
			"fix-input whatsapp-number-+15551234567: cannot reach Temporal at 127.0.0.1:7233: connection refused (is the server running?)",
		},
		"stream reset, as a service error": {
			fakeTemporal{getErr: serviceerror.FromStatus(status.New(codes.Internal, "stream terminated by RST_STREAM with error code: NO_ERROR"))},
			"fix-input whatsapp-number-+15551234567: cannot reach Temporal at 127.0.0.1:7233: the connection was closed before the answer came (did the server stop or restart?)",
		},
		"stream reset, as a gRPC status": {
			fakeTemporal{updateErr: status.Error(codes.Unavailable, "stream terminated by RST_STREAM with error code: PROTOCOL_ERROR")},
			"fix-input whatsapp-number-+15551234567: cannot reach Temporal at 127.0.0.1:7233: the connection was closed before the answer came (did the server stop or restart?)",
		},
		"other unavailable": {
			fakeTemporal{updateErr: serviceerror.NewUnavailable(`connection error: desc = "transport: authentication handshake failed"`)},
			"fix-input whatsapp-number-+15551234567: cannot reach Temporal at 127.0.0.1:7233: transport: authentication handshake failed",
		},
		"not accepted in time": {
			fakeTemporal{updateErr: client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)},
			"fix-input whatsapp-number-+15551234567: no answer in time",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := fakeClient(tc.f).FixInput(context.Background(), "+15551234567", onboarding.FixInput{})
			require.Error(t, err)
			msg := err.Error()
			assert.Equal(t, tc.want, msg)
			for _, leak := range []string{"type:", "retryable", "RST_STREAM", "rpc error", "desc ="} {
				assert.NotContains(t, msg, leak)
			}
			assert.False(t, errors.Is(err, onboarding.ErrStillRunning), "nothing here was accepted and left running")
			var oe *onboarding.OperationError
			require.True(t, errors.As(err, &oe))
			assert.Equal(t, strings.TrimPrefix(tc.want, "fix-input whatsapp-number-+15551234567: "), oe.Reason())
		})
	}
}

func TestWaitEndingAfterAcceptanceSaysTheOperationGoesOn(t *testing.T) {
	for name, getErr := range map[string]error{
		"context deadline":  context.DeadlineExceeded,
		"SDK update wait":   client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded),
		"server's deadline": serviceerror.NewDeadlineExceeded("context deadline exceeded"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := fakeClient(fakeTemporal{getErr: getErr}).ChangeRegion(context.Background(), "+15551234567", "CH", true)
			require.ErrorIs(t, err, onboarding.ErrStillRunning)
			assert.ErrorIs(t, err, getErr, "the cause stays reachable")
			assert.Equal(t, "change-region whatsapp-number-+15551234567: the run accepted the operation and goes on with it; stopped waiting for the result (no answer in time)", err.Error())
		})
	}
	_, err := fakeClient(fakeTemporal{getErr: fromWorkflow(errors.New("deregister failed"))}).ChangeRegion(context.Background(), "+15551234567", "CH", true)
	require.Error(t, err)
	assert.NotErrorIs(t, err, onboarding.ErrStillRunning, "an operation that failed is not going on")
}

func TestUnknownNumberIsErrNoRun(t *testing.T) {
	err := fakeClient(fakeTemporal{signalErr: serviceerror.NewNotFound("workflow not found for ID: whatsapp-number-+15551234567")}).
		SkipWait(context.Background(), "+15551234567")
	require.ErrorIs(t, err, onboarding.ErrNoRun)
	assert.Equal(t, "skip-wait whatsapp-number-+15551234567: no onboarding run for this number (onboard the number first, or check it with list)", err.Error())
}

func TestChangeRegionNoWaitReportsTheRegionInEffect(t *testing.T) {
	c := fakeClient(fakeTemporal{status: &onboarding.Status{Stage: onboarding.StageNeedsAttention, Region: "CH"}})
	res, err := c.ChangeRegion(context.Background(), "+15551234567", "GB", false)
	require.NoError(t, err)
	assert.Equal(t, onboarding.OperationResult{Stage: onboarding.StageNeedsAttention, Region: "CH"}, res,
		"the change to GB is only queued; CH is still applied")
}
