package onboarding

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wa-onboarding/onboarding/internal/seal"
	"github.com/wa-onboarding/onboarding/internal/validate"
)

// DefaultUIBaseURL is where Client links point unless WithUIBaseURL says
// otherwise: the Web UI of `temporal server start-dev`.
const DefaultUIBaseURL = "http://localhost:8233"

// DefaultNamespace is the namespace assumed for UI links unless WithNamespace
// says otherwise; it is also the SDK's default.
const DefaultNamespace = "default"

// InputError is the error returned for a refused input field: Field names it
// and Rule says what it must be. Client methods return one (possibly several
// joined with errors.Join) before any call to Temporal; find it with
// errors.As.
type InputError = validate.Error

// SplitErrors returns the errors in err's errors.Join tree, depth first, so
// that each refused field can be reported on its own line. It returns nil
// for a nil err, and err alone when err joins nothing.
func SplitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, SplitErrors(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// ErrNoRun is returned (wrapped) when no workflow owns the number: it was
// never onboarded, or its run is closed.
var ErrNoRun = errors.New("no onboarding run for this number")

// A Client drives the per-number onboarding workflows through a Temporal
// client: it starts them, sends them codes and operations, and reads their
// status. It validates every input before calling Temporal, so a bad field
// is refused at once rather than inside a workflow days later.
//
// A Client is safe for concurrent use; it is as cheap as the client.Client it
// wraps is expensive, so build one per client.Client and share it.
type Client struct {
	sealer    *seal.Sealer // see seal.go
	unsealed  bool
	tc        client.Client
	namespace string
	uiBaseURL string
	address   string
}

// A ClientOption configures a Client.
type ClientOption func(*Client)

// WithNamespace tells the Client which namespace its client.Client is bound
// to. It only affects UI links: a client.Client does not reveal its
// namespace, so the Client has to be told.
func WithNamespace(namespace string) ClientOption {
	return func(c *Client) {
		if namespace != "" {
			c.namespace = namespace
		}
	}
}

// WithUIBaseURL sets the Temporal Web UI address used in links, such as
// "https://cloud.temporal.io" or "http://localhost:8233".
func WithUIBaseURL(base string) ClientOption {
	return func(c *Client) {
		if base != "" {
			c.uiBaseURL = strings.TrimRight(base, "/")
		}
	}
}

// WithAddress names the Temporal address tc is connected to, for errors
// that say it cannot be reached; a client.Client does not reveal it.
func WithAddress(hostPort string) ClientOption {
	return func(c *Client) { c.address = hostPort }
}

// NewClient returns a Client that uses tc, which must be connected to the
// namespace the worker polls and use the same data converter (payload codec)
// as the worker, since OnboardInput carries the PIN.
func NewClient(tc client.Client, opts ...ClientOption) *Client {
	c := &Client{tc: tc, namespace: DefaultNamespace, uiBaseURL: DefaultUIBaseURL}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Run identifies one run of a number's workflow.
type Run struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// AlreadyRunning is true when Onboard found the number's workflow
	// already running and returned that run instead of starting one.
	AlreadyRunning bool   `json:"already_running"`
	UIURL          string `json:"ui_url"`
}

// ListEntry is one run found by List.
type ListEntry struct {
	WorkflowID    string `json:"workflow_id"`
	RunID         string `json:"run_id"`
	Number        string `json:"number"` // E.164, from the workflow id
	Stage         Stage  `json:"stage,omitempty"`
	WABAID        string `json:"waba_id,omitempty"`
	PhoneNumberID string `json:"phone_number_id,omitempty"`
	// Status is the Temporal execution status: Running, Completed, Failed,
	// Canceled, Terminated, ContinuedAsNew or TimedOut.
	Status    string    `json:"status"`
	StartTime time.Time `json:"start_time"`
	CloseTime time.Time `json:"close_time,omitzero"`
	UIURL     string    `json:"ui_url"`
}

// NormalizeE164 checks that number is in E.164 form, '+' optional, 8 to 15
// digits not starting with 0, surrounding spaces allowed, and returns it
// with its '+'.
func NormalizeE164(number string) (string, error) {
	n := strings.TrimPrefix(strings.TrimSpace(number), "+")
	ok := len(n) >= 8 && len(n) <= 15 && n[0] != '0'
	for i := 0; ok && i < len(n); i++ {
		ok = n[i] >= '0' && n[i] <= '9'
	}
	if !ok {
		if n == "" {
			return "", &InputError{Field: "number", Rule: "is required"}
		}
		return "", &InputError{Field: "number", Rule: "must be E.164: an optional '+' then 8 to 15 digits, the first not 0 (e.g. +15551234567)"}
	}
	return "+" + n, nil
}

func workflowIDFor(number string) (string, error) {
	e164, err := NormalizeE164(number)
	if err != nil {
		return "", err
	}
	return WorkflowIDForE164(e164), nil
}

// Summary is the one-line description shown in Temporal UI and CLI for a
// run. It never holds the PIN: the summary is not encrypted.
func Summary(in OnboardInput) string {
	s := "Onboard " + in.E164() + " on WABA " + in.WABAID
	if in.Region != "" {
		s += " (region " + in.Region + ")"
	}
	if in.Migrate {
		s += " (migration)"
	}
	if in.Backup != nil {
		s += " (with On-Premises backup)"
	}
	return s
}

// Onboard starts the workflow that onboards in's number and then owns it.
// Starting it again while it runs is not an error: the running run is
// returned with AlreadyRunning set, and in is ignored.
func (c *Client) Onboard(ctx context.Context, in OnboardInput) (Run, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return Run{}, err
	}
	if in.Resume != nil {
		return Run{}, &InputError{Field: "resume", Rule: "must be empty: only the workflow sets it when it continues as new"}
	}
	if err := c.sealOnboard(&in); err != nil {
		return Run{}, err
	}
	id := WorkflowID(in.CountryCode, in.PhoneNumber)
	run, err := c.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: TaskQueue,
		// A running run is kept and reported: the start fails with
		// WorkflowExecutionAlreadyStarted, which names it. Of two concurrent
		// first starts, exactly one starts the run.
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// A closed run may be followed by a new one: after a cancel or a
		// deregistration an operator onboards the number again.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchAttributeStage.ValueSet(string(StageAdding)),
			SearchAttributeWABAID.ValueSet(in.WABAID),
		),
		StaticSummary: Summary(in),
	}, WorkflowType, in)
	if started, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok {
		return Run{WorkflowID: id, RunID: started.RunId, AlreadyRunning: true, UIURL: c.UIURL(id, started.RunId)}, nil
	}
	if err != nil {
		return Run{}, &OperationError{Op: "onboard", WorkflowID: id, Err: err, address: c.address}
	}
	return Run{WorkflowID: run.GetID(), RunID: run.GetRunID(), UIURL: c.UIURL(run.GetID(), run.GetRunID())}, nil
}

// CurrentRun returns the latest run of number's workflow, running or not.
func (c *Client) CurrentRun(ctx context.Context, number string) (Run, error) {
	id, err := workflowIDFor(number)
	if err != nil {
		return Run{}, err
	}
	d, err := c.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return Run{}, c.wrap(id, "describe", err)
	}
	runID := d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	return Run{WorkflowID: id, RunID: runID, UIURL: c.UIURL(id, runID)}, nil
}

// SendCode submits an ownership code by update and waits for Meta's answer.
// A code typed with a dash or spaces ("123-456") is accepted.
func (c *Client) SendCode(ctx context.Context, number, code string) (CodeResult, error) {
	id, in, err := c.codeInput(number, code)
	if err != nil {
		return CodeResult{}, err
	}
	var res CodeResult
	err = c.update(ctx, id, UpdateSubmitCode, client.WorkflowUpdateStageCompleted, &res, in)
	return res, err
}

// SignalCode delivers an ownership code by signal: it returns once Temporal
// has recorded it, without knowing whether Meta accepts it (see Status).
func (c *Client) SignalCode(ctx context.Context, number, code string) error {
	id, in, err := c.codeInput(number, code)
	if err != nil {
		return err
	}
	return c.wrap(id, SignalVerificationCode, c.tc.SignalWorkflow(ctx, id, "", SignalVerificationCode, in))
}

func (c *Client) codeInput(number, code string) (string, CodeInput, error) {
	id, err := workflowIDFor(number)
	if !seal.IsSealed(code) {
		code = validate.NormalizeCode(code)
		err = errors.Join(err, validate.Code("code", code))
	}
	if err != nil {
		return "", CodeInput{}, err
	}
	code, err = c.sealSecret("code", seal.PurposeOwnershipCode, code)
	return id, CodeInput{Code: code}, err
}

// ResendCode asks Meta for a new code, by in.Method if set.
func (c *Client) ResendCode(ctx context.Context, number string, in ResendInput) error {
	id, err := workflowIDFor(number)
	if err := errors.Join(err, in.Validate()); err != nil {
		return err
	}
	return c.wrap(id, SignalResendCode, c.tc.SignalWorkflow(ctx, id, "", SignalResendCode, in))
}

// Status returns where number's run stands.
func (c *Client) Status(ctx context.Context, number string) (Status, error) {
	id, err := workflowIDFor(number)
	if err != nil {
		return Status{}, err
	}
	v, err := c.tc.QueryWorkflow(ctx, id, "", QueryStatus)
	if err != nil {
		return Status{}, c.wrap(id, QueryStatus, err)
	}
	var st Status
	if err := v.Get(&st); err != nil {
		return Status{}, fmt.Errorf("%s: decode status: %w", id, err)
	}
	return st, nil
}

// ChangeRegion deregisters the number and registers it again with region as
// its data localization region, "" for none. With wait, it returns once the
// workflow has done so, which may take hours when Meta's register budget is
// spent; without, it returns once the workflow has accepted the operation,
// with the run's stage and region at that moment: the change is queued, not
// applied, so the region is still the old one.
func (c *Client) ChangeRegion(ctx context.Context, number, region string, wait bool) (OperationResult, error) {
	id, err := workflowIDFor(number)
	if err := errors.Join(err, validate.Region("region", region)); err != nil {
		return OperationResult{}, err
	}
	return c.operation(ctx, id, UpdateChangeRegion, wait, ChangeRegionInput{Region: region})
}

// Reregister registers the number again, which applies an approved
// display-name change. wait is as for ChangeRegion.
func (c *Client) Reregister(ctx context.Context, number string, wait bool) (OperationResult, error) {
	id, err := workflowIDFor(number)
	if err != nil {
		return OperationResult{}, err
	}
	return c.operation(ctx, id, UpdateReregister, wait)
}

// Deregister takes the number off the Cloud API. wait is as for
// ChangeRegion.
func (c *Client) Deregister(ctx context.Context, number string, wait bool) (OperationResult, error) {
	id, err := workflowIDFor(number)
	if err != nil {
		return OperationResult{}, err
	}
	return c.operation(ctx, id, UpdateDeregister, wait)
}

func (c *Client) operation(ctx context.Context, id, name string, wait bool, args ...any) (OperationResult, error) {
	var res OperationResult
	if wait {
		err := c.update(ctx, id, name, client.WorkflowUpdateStageCompleted, &res, args...)
		return res, err
	}
	if err := c.update(ctx, id, name, client.WorkflowUpdateStageAccepted, nil, args...); err != nil {
		return res, err
	}
	// The operation is accepted whatever the query says, so a failed query
	// only leaves the stage and region out.
	if v, err := c.tc.QueryWorkflow(ctx, id, "", QueryStatus); err == nil {
		var st Status
		if v.Get(&st) == nil {
			res.Stage, res.Region = st.Stage, st.Region
		}
	}
	return res, nil
}

// FixInput resumes a run in needs-attention, with the fields of fix that are
// set replacing the run's input, and returns the run's status once resumed.
func (c *Client) FixInput(ctx context.Context, number string, fix FixInput) (Status, error) {
	id, err := workflowIDFor(number)
	if err := errors.Join(err, fix.Validate()); err != nil {
		return Status{}, err
	}
	if fix.PIN, err = c.sealSecret("pin", seal.PurposePIN, fix.PIN); err != nil {
		return Status{}, err
	}
	var st Status
	err = c.update(ctx, id, UpdateFixInput, client.WorkflowUpdateStageCompleted, &st, fix)
	return st, err
}

// SkipWait cuts the run's current durable sleep short, such as a wait for
// Meta's rate-limit window or the next display-name check.
func (c *Client) SkipWait(ctx context.Context, number string) error {
	id, err := workflowIDFor(number)
	if err != nil {
		return err
	}
	return c.wrap(id, SignalSkipWait, c.tc.SignalWorkflow(ctx, id, "", SignalSkipWait, nil))
}

// Cancel asks the number's run to stop. The workflow decides how to wind
// down; the number stays as it is on Meta's side.
func (c *Client) Cancel(ctx context.Context, number string) error {
	id, err := workflowIDFor(number)
	if err != nil {
		return err
	}
	return c.wrap(id, "cancel", c.tc.CancelWorkflow(ctx, id, ""))
}

// List returns the runs of the onboarding workflow, newest first, open and
// closed, filtered by stage unless stage is "".
func (c *Client) List(ctx context.Context, stage Stage) ([]ListEntry, error) {
	query, err := ListQuery(stage)
	if err != nil {
		return nil, err
	}
	var (
		out   []ListEntry
		token []byte
	)
	for {
		resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     c.namespace,
			Query:         query,
			NextPageToken: token,
		})
		if err != nil {
			return nil, &OperationError{Op: "list", Err: err, address: c.address}
		}
		for _, info := range resp.GetExecutions() {
			e := ListEntry{
				WorkflowID: info.GetExecution().GetWorkflowId(),
				RunID:      info.GetExecution().GetRunId(),
				Status:     info.GetStatus().String(),
				StartTime:  info.GetStartTime().AsTime(),
			}
			e.Number = strings.TrimPrefix(e.WorkflowID, WorkflowIDPrefix)
			if info.GetCloseTime() != nil {
				e.CloseTime = info.GetCloseTime().AsTime()
			}
			fields := info.GetSearchAttributes().GetIndexedFields()
			e.Stage = Stage(keyword(fields, SearchAttributeStage.GetName()))
			e.WABAID = keyword(fields, SearchAttributeWABAID.GetName())
			e.PhoneNumberID = keyword(fields, SearchAttributePhoneNumberID.GetName())
			e.UIURL = c.UIURL(e.WorkflowID, e.RunID)
			out = append(out, e)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return out, nil
		}
	}
}

// ListQuery returns the visibility query List uses for stage, "" for every
// stage, so operators can paste it into Temporal UI or the CLI. Runs are
// listed by the stage they rest in: a working stage (Stage.Working) is
// refused.
func ListQuery(stage Stage) (string, error) {
	q := "WorkflowType = '" + WorkflowType + "'"
	if stage == "" {
		return q, nil
	}
	if !slices.Contains(Stages, stage) || stage.Working() {
		var names []string
		for _, s := range Stages {
			if !s.Working() {
				names = append(names, string(s))
			}
		}
		rule := "must be empty or one of " + strings.Join(names, ", ")
		if stage.Working() {
			// The search attribute never holds it (Stage.Working): a
			// filter on it would list nothing and look like an answer.
			rule += "; " + string(stage) + " is a step a run passes within one Graph call, listed under the stage it rests in (status shows the step)"
		}
		return "", &InputError{Field: "stage", Rule: rule}
	}
	// Stages are known identifiers, so quoting needs no escaping.
	return q + " AND " + SearchAttributeStage.GetName() + " = '" + string(stage) + "'", nil
}

// keyword decodes a Keyword search attribute. Search attributes are always
// plain JSON, never encoded by a payload codec, so the default converter
// reads them.
func keyword(fields map[string]*commonpb.Payload, name string) string {
	p, ok := fields[name]
	if !ok {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// UIURL returns the Temporal Web UI page of a run's history, or, without a
// run id, the list of runs of workflowID.
func (c *Client) UIURL(workflowID, runID string) string {
	base := c.uiBaseURL + "/namespaces/" + url.PathEscape(c.namespace) + "/workflows"
	if runID == "" {
		return base + "?query=" + url.QueryEscape(fmt.Sprintf("WorkflowId=%q", workflowID))
	}
	return base + "/" + url.PathEscape(workflowID) + "/" + url.PathEscape(runID) + "/history"
}

// update sends an update. To wait for its result it first waits for the
// run to accept it, so that a wait that ends early can say whether the
// operation goes on (ErrStillRunning) or was never taken.
func (c *Client) update(ctx context.Context, id, name string, stage client.WorkflowUpdateStage, result any, args ...any) error {
	h, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   name,
		Args:         args,
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	if err != nil {
		return c.wrap(id, name, err)
	}
	if stage == client.WorkflowUpdateStageAccepted {
		return nil
	}
	err = h.Get(ctx, result)
	if err != nil && (ctx.Err() != nil || timedOut(err)) {
		err = &stillRunning{cause: err}
	}
	return c.wrap(id, name, err)
}

// wrap names the workflow and operation in err and turns the server's "not
// found" into ErrNoRun, which callers can test for.
func (c *Client) wrap(id, op string, err error) error {
	if err == nil {
		return nil
	}
	if isNotFound(err) {
		err = fmt.Errorf("%w (onboard the number first, or check it with list)", ErrNoRun)
	}
	return &OperationError{Op: op, WorkflowID: id, Err: err, address: c.address}
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// ErrStillRunning is returned (wrapped, with the reason the wait ended) when
// a wait for an operation's result ends, by timeout or cancellation, after
// the run accepted the operation: the run goes on with it, and Status shows
// how it ends.
var ErrStillRunning = errors.New("the run accepted the operation and goes on with it; stopped waiting for the result")

type stillRunning struct{ cause error }

func (e *stillRunning) Error() string        { return ErrStillRunning.Error() }
func (e *stillRunning) Is(target error) bool { return target == ErrStillRunning }
func (e *stillRunning) Unwrap() error        { return e.cause }

// An OperationError is a failed call on a number's run. Its message is meant
// for people: a workflow's error is reduced to its message, without the
// SDK's type annotations or a message repeated by its cause, and a lost
// connection names the Temporal address. Err keeps the original error for
// errors.Is and errors.As.
type OperationError struct {
	// Op is the signal, update or query name, or "onboard", "describe",
	// "cancel", "list".
	Op         string
	WorkflowID string // empty for list
	Err        error
	address    string
}

func (e *OperationError) Error() string {
	if e.WorkflowID == "" {
		return e.Op + ": " + e.Reason()
	}
	return e.Op + " " + e.WorkflowID + ": " + e.Reason()
}

// Reason is the message without the operation and workflow id.
func (e *OperationError) Reason() string { return describeError(e.Err, e.address) }

func (e *OperationError) Unwrap() error { return e.Err }

// describeError renders err for people; see OperationError.
func describeError(err error, address string) string {
	if sr, ok := errors.AsType[*stillRunning](err); ok {
		return sr.Error() + " (" + describeError(sr.cause, address) + ")"
	}
	if isTransport(err) {
		return transportText(err, address)
	}
	if timedOut(err) {
		return "no answer in time"
	}
	if isTemporalFailure(err) {
		return failureText(err)
	}
	var te *temporal.ApplicationError
	if errors.As(err, &te) {
		// A generic error wrapping a workflow's error adds context of its
		// own; keep it, but say the workflow's part once.
		return strings.Replace(err.Error(), te.Error(), failureText(te), 1)
	}
	return err.Error()
}

// isTemporalFailure reports whether err is an error decoded from a
// Temporal failure, whose Error() adds the SDK's annotations.
func isTemporalFailure(err error) bool {
	switch err.(type) {
	case *temporal.ApplicationError, *temporal.TimeoutError, *temporal.CanceledError, *temporal.PanicError,
		*temporal.ActivityError, *temporal.ChildWorkflowExecutionError, *temporal.WorkflowExecutionError,
		*temporal.TerminatedError, *temporal.ServerError:
		return true
	}
	return false
}

// failureText joins the messages of a chain of Temporal failures, skipping
// wrappers without a message of their own and causes whose message is
// already said: a workflow that returns fmt.Errorf("x: %w", err) arrives as
// "x: <err>" caused by "<err>".
func failureText(err error) string {
	var parts []string
	said := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		var msg string
		switch f := e.(type) {
		case *temporal.ApplicationError:
			msg = f.Message()
		case *temporal.TimeoutError:
			msg = f.Message()
			if msg == "" {
				msg = "timed out"
			}
		case *temporal.CanceledError:
			msg = "canceled"
		case *temporal.PanicError:
			msg = "panic: " + f.Error()
		case *temporal.ServerError, *temporal.TerminatedError:
			msg = e.Error()
		case *temporal.ActivityError, *temporal.ChildWorkflowExecutionError, *temporal.WorkflowExecutionError:
			continue
		default:
			if !isTemporalFailure(e) {
				msg = e.Error()
				if !strings.Contains(said, msg) {
					parts = append(parts, msg)
				}
				return strings.Join(parts, ": ")
			}
		}
		if msg != "" && !strings.Contains(said, msg) {
			parts = append(parts, msg)
			said += "\x00" + msg
		}
	}
	return strings.Join(parts, ": ")
}

// isTransport reports whether err says the connection to Temporal failed,
// rather than Temporal refusing the call.
func isTransport(err error) bool {
	s, ok := grpcStatus(err)
	if !ok {
		return false
	}
	switch s.Code() {
	case codes.Unavailable:
		return true
	case codes.Internal, codes.Unknown, codes.Canceled:
		m := s.Message()
		return strings.Contains(m, "RST_STREAM") || strings.Contains(m, "transport") ||
			strings.Contains(m, "connection reset") || strings.Contains(m, "EOF")
	}
	return false
}

func transportText(err error, address string) string {
	where := "cannot reach Temporal"
	if address != "" {
		where += " at " + address
	}
	s, _ := grpcStatus(err)
	m := s.Message()
	switch {
	case strings.Contains(m, "connection refused"):
		return where + ": connection refused (is the server running?)"
	case strings.Contains(m, "RST_STREAM"), strings.Contains(m, "transport is closing"),
		strings.Contains(m, "EOF"), strings.Contains(m, "connection reset"):
		return where + ": the connection was closed before the answer came (did the server stop or restart?)"
	}
	// gRPC nests descriptions: `connection error: desc = "transport: ..."`.
	if i := strings.LastIndex(m, "desc = "); i >= 0 {
		m = strings.Trim(m[i+len("desc = "):], `"`)
	}
	return where + ": " + strings.Join(strings.Fields(m), " ")
}

// timedOut reports whether err is the caller's deadline rather than an
// answer.
func timedOut(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if _, ok := errors.AsType[*client.WorkflowUpdateServiceTimeoutOrCanceledError](err); ok {
		return true
	}
	s, ok := grpcStatus(err)
	return ok && s.Code() == codes.DeadlineExceeded
}

// grpcStatus finds the gRPC status in err: the SDK turns statuses into
// serviceerror types, which do not implement GRPCStatus.
func grpcStatus(err error) (*status.Status, bool) {
	if se, ok := errors.AsType[serviceerror.ServiceError](err); ok {
		return se.Status(), true
	}
	return status.FromError(err)
}
